"""Workspaces: named storage (a broker configuration) that source files and products live in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from scale.db import Base
from scale.models.types import Timestamp, created_column, last_modified_column


class Workspace(Base):
    """A place files are stored. `json_config` is the workspace configuration (its `broker`).

    Sizes are bytes; `total_size` is null until measured."""

    __tablename__ = "workspace"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(Text)
    base_url: Mapped[str | None] = mapped_column(String(1000))
    is_active: Mapped[bool] = mapped_column(default=True, index=True)
    # Files of a public workspace may be downloaded without a token.
    is_public: Mapped[bool] = mapped_column(default=False, server_default=false())
    json_config: Mapped[dict[str, Any]]
    used_size: Mapped[int | None] = mapped_column(BigInteger)
    total_size: Mapped[int | None] = mapped_column(BigInteger)
    created: Mapped[dt.datetime] = created_column()
    archived: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    last_modified: Mapped[dt.datetime] = last_modified_column()
