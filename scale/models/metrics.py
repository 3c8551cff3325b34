"""Metrics: daily rollups (reference "Metrics Services") and queue load samples ("Job Load").

A rollup row holds one day (`occurred`, UTC) for one choice (a job type, an error, a Strike
process); the plot-data endpoint sums or averages them across days and choices. Times are whole
seconds; each timed phase keeps `_sum`, `_min`, `_max` and `_avg` so that any aggregate can be
plotted without going back to the jobs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scale.db import Base
from scale.models.types import Timestamp
from scale.timeutil import utcnow


class MetricsJobType(Base):
    """Per job type per day: job outcomes, failure categories and phase durations of executions."""

    __tablename__ = "metrics_job_type"
    __table_args__ = (UniqueConstraint("occurred", "job_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred: Mapped[dt.date] = mapped_column(Date, index=True)
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_type.id"), index=True)

    completed_count: Mapped[int | None]
    failed_count: Mapped[int | None]
    canceled_count: Mapped[int | None]
    total_count: Mapped[int | None]
    error_system_count: Mapped[int | None]
    error_algorithm_count: Mapped[int | None]
    error_data_count: Mapped[int | None]

    queue_time_sum: Mapped[int | None]
    queue_time_min: Mapped[int | None]
    queue_time_max: Mapped[int | None]
    queue_time_avg: Mapped[int | None]
    pre_time_sum: Mapped[int | None]
    pre_time_min: Mapped[int | None]
    pre_time_max: Mapped[int | None]
    pre_time_avg: Mapped[int | None]
    job_time_sum: Mapped[int | None]
    job_time_min: Mapped[int | None]
    job_time_max: Mapped[int | None]
    job_time_avg: Mapped[int | None]
    post_time_sum: Mapped[int | None]
    post_time_min: Mapped[int | None]
    post_time_max: Mapped[int | None]
    post_time_avg: Mapped[int | None]
    run_time_sum: Mapped[int | None]
    run_time_min: Mapped[int | None]
    run_time_max: Mapped[int | None]
    run_time_avg: Mapped[int | None]
    stage_time_sum: Mapped[int | None]
    stage_time_min: Mapped[int | None]
    stage_time_max: Mapped[int | None]
    stage_time_avg: Mapped[int | None]

    created: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class MetricsError(Base):
    """Per error per day: how many jobs failed with it."""

    __tablename__ = "metrics_error"
    __table_args__ = (UniqueConstraint("occurred", "error_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred: Mapped[dt.date] = mapped_column(Date, index=True)
    error_id: Mapped[int] = mapped_column(ForeignKey("error.id"), index=True)
    total_count: Mapped[int | None]
    created: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class MetricsIngest(Base):
    """Per Strike process per day: ingest outcomes, file sizes (bytes) and transfer/ingest durations."""

    __tablename__ = "metrics_ingest"
    __table_args__ = (UniqueConstraint("occurred", "strike_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred: Mapped[dt.date] = mapped_column(Date, index=True)
    strike_id: Mapped[int] = mapped_column(ForeignKey("strike.id"), index=True)

    deferred_count: Mapped[int | None]
    ingested_count: Mapped[int | None]
    errored_count: Mapped[int | None]
    duplicate_count: Mapped[int | None]
    total_count: Mapped[int | None]

    file_size_sum: Mapped[int | None] = mapped_column(BigInteger)
    file_size_min: Mapped[int | None] = mapped_column(BigInteger)
    file_size_max: Mapped[int | None] = mapped_column(BigInteger)
    file_size_avg: Mapped[int | None] = mapped_column(BigInteger)
    transfer_time_sum: Mapped[int | None]
    transfer_time_min: Mapped[int | None]
    transfer_time_max: Mapped[int | None]
    transfer_time_avg: Mapped[int | None]
    ingest_time_sum: Mapped[int | None]
    ingest_time_min: Mapped[int | None]
    ingest_time_max: Mapped[int | None]
    ingest_time_avg: Mapped[int | None]

    created: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)


class JobLoad(Base):
    """A sample of how many jobs of a type were pending, queued and running at `measured`."""

    __tablename__ = "job_load"
    __table_args__ = (Index("ix_job_load_job_type_id_measured", "job_type_id", "measured"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_type.id"))
    measured: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)
    pending_count: Mapped[int] = mapped_column(default=0)
    queued_count: Mapped[int] = mapped_column(default=0)
    running_count: Mapped[int] = mapped_column(default=0)
    total_count: Mapped[int] = mapped_column(default=0)


class QueueDepthByJobType(Base):
    """Queue depth of one job type at `depth_time`."""

    __tablename__ = "queue_depth_job_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_type.id"), index=True)
    depth_time: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)
    depth: Mapped[int]


class QueueDepthByPriority(Base):
    """Queue depth at one priority at `depth_time`."""

    __tablename__ = "queue_depth_priority"

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[int] = mapped_column(index=True)
    depth_time: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)
    depth: Mapped[int]
