"""Job types (versioned algorithms with a JSON interface) and their interface revisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scale.db import Base
from scale.models.triggers import TriggerRule
from scale.models.types import Timestamp, created_column, last_modified_column


class JobType(Base):
    """A runnable algorithm: its interface, error mapping, resource needs and scheduling knobs.

    Resources are in the reference's units: cpus, mem MiB, disk MiB. `timeout` is seconds (0: none);
    `priority` is lower-first."""

    __tablename__ = "job_type"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    version: Mapped[str] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(50), index=True)
    author_name: Mapped[str | None] = mapped_column(String(50))
    author_url: Mapped[str | None] = mapped_column(String(500))

    is_system: Mapped[bool] = mapped_column(default=False, index=True)
    is_long_running: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True, index=True)
    is_operational: Mapped[bool] = mapped_column(default=True)
    is_paused: Mapped[bool] = mapped_column(default=False)
    icon_code: Mapped[str | None] = mapped_column(String(20))

    uses_docker: Mapped[bool] = mapped_column(default=False)
    docker_privileged: Mapped[bool] = mapped_column(default=False)
    docker_image: Mapped[str | None] = mapped_column(String(500))
    revision_num: Mapped[int] = mapped_column(default=1)

    priority: Mapped[int] = mapped_column(default=100)
    timeout: Mapped[int] = mapped_column(default=1800)
    max_scheduled: Mapped[int | None]
    max_tries: Mapped[int] = mapped_column(default=3)
    cpus_required: Mapped[float] = mapped_column(default=1.0)
    mem_required: Mapped[float] = mapped_column(default=64.0)
    disk_out_const_required: Mapped[float] = mapped_column(default=64.0)
    disk_out_mult_required: Mapped[float] = mapped_column(default=0.0)

    interface: Mapped[dict[str, Any]]
    error_mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    trigger_rule_id: Mapped[int | None] = mapped_column(ForeignKey("trigger_rule.id"), index=True)

    created: Mapped[dt.datetime] = created_column()
    archived: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    paused: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    last_modified: Mapped[dt.datetime] = last_modified_column()

    trigger_rule: Mapped[TriggerRule | None] = relationship()


class JobTypeRevision(Base):
    """The interface a job type had at `revision_num`; jobs point at the revision they were made from."""

    __tablename__ = "job_type_revision"
    __table_args__ = (UniqueConstraint("job_type_id", "revision_num"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_type.id"))
    revision_num: Mapped[int]
    interface: Mapped[dict[str, Any]]
    created: Mapped[dt.datetime] = created_column()

    job_type: Mapped[JobType] = relationship()
