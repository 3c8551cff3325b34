"""Trigger rules (what creates jobs and recipes automatically) and the events that fired them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scale.db import Base
from scale.models.types import Timestamp, created_column, last_modified_column


class TriggerRuleType(StrEnum):
    """The rule types the reference specifies (ingest, parse and clock triggers)."""

    INGEST = "INGEST"
    PARSE = "PARSE"
    CLOCK = "CLOCK"


class TriggerRule(Base):
    """A condition on events plus the data to hand to the job or recipe type that owns the rule."""

    __tablename__ = "trigger_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str | None] = mapped_column(String(50), index=True)
    configuration: Mapped[dict[str, Any]]
    is_active: Mapped[bool] = mapped_column(default=True, index=True)
    created: Mapped[dt.datetime] = created_column()
    archived: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    last_modified: Mapped[dt.datetime] = last_modified_column()


class TriggerEvent(Base):
    """Something that happened and caused jobs or recipes to be created.

    `rule_id` is null for events no rule fired, such as a Strike transfer or a user's request.
    An ingest or parse rule fires at most once per source file: (rule_id, source_file_id) is unique."""

    __tablename__ = "trigger_event"
    __table_args__ = (Index("uq_trigger_event_rule_id_source_file_id", "rule_id", "source_file_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(50), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("trigger_rule.id"), index=True)
    # use_alter: scale_file -> job -> trigger_event -> scale_file is a cycle; this edge breaks it
    # for table ordering (the constraint itself is the same).
    source_file_id: Mapped[int | None] = mapped_column(ForeignKey("scale_file.id", use_alter=True), index=True)
    description: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)

    rule: Mapped[TriggerRule | None] = relationship()
