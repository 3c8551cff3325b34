"""Strike processes (directory watchers) and the ingests of the files they find."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scale.db import Base
from scale.models.files import ScaleFile
from scale.models.jobs import Job
from scale.models.types import Timestamp, created_column, last_modified_column


class IngestStatus(StrEnum):
    """An ingest's progress: the file is copied in (TRANSFERRING), then stored in a workspace (INGESTING)."""

    TRANSFERRING = "TRANSFERRING"
    TRANSFERRED = "TRANSFERRED"
    DEFERRED = "DEFERRED"
    INGESTING = "INGESTING"
    INGESTED = "INGESTED"
    ERRORED = "ERRORED"
    DUPLICATE = "DUPLICATE"


class Strike(Base):
    """A Strike process: its configuration (mount, files to ingest) and the long-running job running it."""

    __tablename__ = "strike"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(Text)
    configuration: Mapped[dict[str, Any]]
    # A deactivated Strike has no running job and is not restarted.
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true(), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    created: Mapped[dt.datetime] = created_column()
    last_modified: Mapped[dt.datetime] = last_modified_column()

    job: Mapped[Job | None] = relationship()


class Ingest(Base):
    """One file a Strike process found, from transfer through to the source file it became.

    Paths: `transfer_path` and `ingest_path` are absolute on the Strike mount; `file_path` is
    relative to the destination workspace. Sizes are bytes."""

    __tablename__ = "ingest"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(250), index=True)
    strike_id: Mapped[int | None] = mapped_column(ForeignKey("strike.id"), index=True)
    status: Mapped[str] = mapped_column(String(50), default=IngestStatus.TRANSFERRING, index=True)
    bytes_transferred: Mapped[int | None] = mapped_column(BigInteger)
    transfer_started: Mapped[dt.datetime | None] = mapped_column(Timestamp, index=True)
    transfer_ended: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    media_type: Mapped[str | None] = mapped_column(String(250))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    data_type: Mapped[list[Any]] = mapped_column(default=list)
    ingest_started: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    ingest_ended: Mapped[dt.datetime | None] = mapped_column(Timestamp, index=True)
    source_file_id: Mapped[int | None] = mapped_column(ForeignKey("scale_file.id"), index=True)
    transfer_path: Mapped[str | None] = mapped_column(String(1000))
    file_path: Mapped[str | None] = mapped_column(String(1000))
    ingest_path: Mapped[str | None] = mapped_column(String(1000))
    # Where the file is to be stored, and the scale-ingest job storing it.
    workspace_id: Mapped[int | None] = mapped_column(ForeignKey("workspace.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    # Why the ingest is ERRORED; when its ingest trigger rules were evaluated (null: not yet).
    error: Mapped[str | None] = mapped_column(Text)
    triggered: Mapped[dt.datetime | None] = mapped_column(Timestamp, index=True)
    created: Mapped[dt.datetime] = created_column()
    last_modified: Mapped[dt.datetime] = last_modified_column()

    strike: Mapped[Strike | None] = relationship()
    source_file: Mapped[ScaleFile | None] = relationship()
    job: Mapped[Job | None] = relationship()
