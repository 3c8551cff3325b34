"""Jobs, their executions (one per try) and the queue of executions waiting for a node."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scale.db import Base
from scale.models.errors import Error
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.nodes import Node
from scale.models.triggers import TriggerEvent
from scale.models.types import Timestamp, created_column, last_modified_column


class JobStatus(StrEnum):
    """PENDING: created, inputs not ready; BLOCKED: a recipe dependency failed or was canceled."""

    PENDING = "PENDING"
    BLOCKED = "BLOCKED"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    FAILED = "FAILED"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"


class JobExecutionStatus(StrEnum):
    """The statuses the reference lists for job executions."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    FAILED = "FAILED"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"


class Job(Base):
    """One unit of work of a job type on some job data, tried up to `max_tries` times.

    The resource and timeout fields are copied from the job type when the job is created, so
    later edits of the type do not change jobs already made."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_type.id"), index=True)
    job_type_rev_id: Mapped[int] = mapped_column(ForeignKey("job_type_revision.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("trigger_event.id"), index=True)
    status: Mapped[str] = mapped_column(String(50), default=JobStatus.PENDING, index=True)
    error_id: Mapped[int | None] = mapped_column(ForeignKey("error.id"), index=True)
    priority: Mapped[int] = mapped_column(index=True)
    timeout: Mapped[int]
    max_tries: Mapped[int]
    num_exes: Mapped[int] = mapped_column(default=0)
    cpus_required: Mapped[float]
    mem_required: Mapped[float]
    disk_in_required: Mapped[float | None]
    disk_out_required: Mapped[float | None]
    data: Mapped[dict[str, Any]]
    results: Mapped[dict[str, Any] | None]
    created: Mapped[dt.datetime] = created_column()
    queued: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    started: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    ended: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    last_status_change: Mapped[dt.datetime | None] = mapped_column(Timestamp, index=True)
    last_modified: Mapped[dt.datetime] = last_modified_column()

    job_type: Mapped[JobType] = relationship()
    job_type_rev: Mapped[JobTypeRevision] = relationship()
    event: Mapped[TriggerEvent] = relationship()
    error: Mapped[Error | None] = relationship()
    job_exes: Mapped[list[JobExecution]] = relationship(back_populates="job", order_by="JobExecution.id")


class JobExecution(Base):
    """One try of a job on a node: its pre-task, job task and post-task, each timed with an exit code.

    Resources are what the scheduler reserved on the node (cpus, mem MiB, disk MiB)."""

    __tablename__ = "job_exe"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), index=True)
    status: Mapped[str] = mapped_column(String(50), default=JobExecutionStatus.QUEUED, index=True)
    command_arguments: Mapped[str | None] = mapped_column(Text)
    timeout: Mapped[int]
    node_id: Mapped[int | None] = mapped_column(ForeignKey("node.id"), index=True)
    error_id: Mapped[int | None] = mapped_column(ForeignKey("error.id"), index=True)
    environment: Mapped[dict[str, Any]] = mapped_column(default=dict)

    cpus_scheduled: Mapped[float | None]
    mem_scheduled: Mapped[float | None]
    disk_in_scheduled: Mapped[float | None]
    disk_out_scheduled: Mapped[float | None]
    disk_total_scheduled: Mapped[float | None]
    requires_cleanup: Mapped[bool] = mapped_column(default=False)

    created: Mapped[dt.datetime] = created_column()
    queued: Mapped[dt.datetime] = mapped_column(Timestamp)
    started: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    pre_started: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    pre_completed: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    pre_exit_code: Mapped[int | None]
    job_started: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    job_completed: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    job_exit_code: Mapped[int | None]
    post_started: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    post_completed: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    post_exit_code: Mapped[int | None]
    ended: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    last_modified: Mapped[dt.datetime] = last_modified_column()

    results_manifest: Mapped[dict[str, Any] | None]
    results: Mapped[dict[str, Any] | None]
    # Where the runner writes the execution's logs on the node; the API serves them as URLs.
    stdout_path: Mapped[str | None] = mapped_column(String(1000))
    stderr_path: Mapped[str | None] = mapped_column(String(1000))

    job: Mapped[Job] = relationship(back_populates="job_exes")
    node: Mapped[Node | None] = relationship()
    error: Mapped[Error | None] = relationship()


class Queue(Base):
    """A queued execution waiting for a node. The row is deleted when the execution is scheduled.

    The scheduler takes rows by `priority` (lower first), then oldest `queued`."""

    __tablename__ = "queue"
    # `ix_queue_claim` matches claim_queued's WHERE and ORDER BY exactly, so a claim reads
    # LIMIT rows of the index instead of sorting the whole queue (100,000 queued: 140 ms ->
    # under 1 ms), and never reads the rows set aside as too large. `ix_queue_priority_queued`
    # is the queue's order for readers (a job's place in line).
    __table_args__ = (Index("ix_queue_priority_queued", "priority", "queued", "id"),
                      Index("ix_queue_claim", "too_large", "priority", "queued", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    job_exe_id: Mapped[int] = mapped_column(ForeignKey("job_exe.id"), unique=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), index=True)
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_type.id"), index=True)
    priority: Mapped[int]
    cpus_required: Mapped[float]
    mem_required: Mapped[float]
    disk_in_required: Mapped[float]
    disk_out_required: Mapped[float]
    disk_total_required: Mapped[float]
    queued: Mapped[dt.datetime] = mapped_column(Timestamp)
    # Set by the scheduler when the row asks for more than every usable node's total, and
    # cleared when the nodes change: the claim passes over such rows without reading them,
    # so however many there are, they never hold back the work behind them.
    too_large: Mapped[bool] = mapped_column(default=False, server_default=false())
    created: Mapped[dt.datetime] = created_column()
    last_modified: Mapped[dt.datetime] = last_modified_column()

    job_exe: Mapped[JobExecution] = relationship()
    job: Mapped[Job] = relationship()
    job_type: Mapped[JobType] = relationship()
