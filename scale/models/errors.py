"""Errors: the causes a failed job or execution is marked with (reference "Error Services")."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scale.db import Base
from scale.models.types import created_column, last_modified_column


class ErrorCategory(StrEnum):
    """SYSTEM errors are Scale's own (seeded); users create ALGORITHM and DATA errors."""

    SYSTEM = "SYSTEM"
    ALGORITHM = "ALGORITHM"
    DATA = "DATA"


class SystemErrorName(StrEnum):
    """The SYSTEM errors Scale assigns itself, one member per row the migrations seed
    (`SYSTEM_ERRORS` of scale/migrations/versions/0001_initial.py, `killed` of 0005). Code names
    them through this enum, never as strings: `fail_execution` records a name without a row as
    `unknown`, so a typo would go unnoticed (tests/unit/models/test_errors.py holds the enum and the
    seeded rows equal)."""

    UNKNOWN = "unknown"
    DATABASE = "database"
    DATABASE_OPERATION = "database-operation"
    FILESYSTEM_IO = "filesystem-io"
    NFS = "nfs"
    TIMEOUT = "timeout"
    TASK_LAUNCH = "task-launch"
    NODE_LOST = "node-lost"
    DOCKER = "docker"
    PRE_TASK = "pre-task"
    POST_TASK = "post-task"
    INGEST = "ingest"
    KILLED = "killed"  # seeded by migration 0005


class AlgorithmErrorName(StrEnum):
    """The built-in ALGORITHM errors the runner assigns when an execution's own output is at
    fault (`BUILTIN_ALGORITHM_ERRORS` of the first migration); final, as re-running cannot fix them."""

    ALGORITHM_UNKNOWN = "algorithm-unknown"
    INVALID_RESULTS_MANIFEST = "invalid-results-manifest"
    MISSING_REQUIRED_OUTPUT = "missing-required-output"


class Error(Base):
    """A named cause of failure; job types map their exit codes to these by `name`."""

    __tablename__ = "error"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(50), default=ErrorCategory.SYSTEM, index=True)
    # Seeded by Scale, which assigns them itself: not exported, not editable.
    is_builtin: Mapped[bool] = mapped_column(default=False)
    created: Mapped[dt.datetime] = created_column()
    last_modified: Mapped[dt.datetime] = last_modified_column()
