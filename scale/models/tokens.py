"""API tokens. Only the SHA-256 digest of a token is stored (see `scale.tokens`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from scale.db import Base
from scale.models.types import Timestamp, created_column


class ApiToken(Base):
    """A named API token: `digest` is the hex SHA-256 of the token text."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[dt.datetime] = created_column()
    last_used: Mapped[dt.datetime | None] = mapped_column(Timestamp)
