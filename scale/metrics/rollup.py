"""Daily rollups (reference "Metrics Services"): one row per day per job type, per error and
per Strike process, in `metrics_job_type`, `metrics_error` and `metrics_ingest`.

What a day counts (UTC):
* job types: jobs that ended that day by final status (COMPLETED, FAILED, CANCELED), FAILED
  ones also by their error's category; and the executions that ended that day, timed by phase:
  queue (queued to started), pre, job and post tasks, run (started to ended) and stage (the part
  of the run outside the three tasks). Times are whole seconds.
* errors: jobs that ended FAILED that day, per error.
* ingest: ingests of a Strike whose last step (ingest, else transfer) ended that day, by
  status, with file sizes (bytes) and transfer and ingest times.

`compute_day` replaces a day's rows, so recomputing a day is idempotent. The clock's hourly
`scale-metrics` rule recomputes yesterday and today, so jobs that end just before midnight
are counted once the day is over."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from scale.exceptions import ValidationError
from scale.models.errors import Error, ErrorCategory
from scale.models.ingest import Ingest, IngestStatus
from scale.models.jobs import Job, JobExecution, JobStatus
from scale.models.metrics import MetricsError, MetricsIngest, MetricsJobType
from scale.models.triggers import TriggerEvent
from scale.specs import clock_trigger
from scale.timeutil import UTC, as_utc

PROCESSOR_NAME = clock_trigger.METRICS_PROCESSOR


def parse_day(text: object, *, field: str = "day") -> dt.date:
    """A `YYYY-MM-DD` day; raises ValidationError on `field`."""
    if isinstance(text, str) and len(text) == 10:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise ValidationError(field, f"{text!r} is not a date as YYYY-MM-DD")


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The day's start and the next midnight (the end of time for the last representable day)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=UTC)
    if day == dt.date.max:
        return start, dt.datetime.max.replace(tzinfo=UTC)
    return start, start + dt.timedelta(days=1)


@dataclass(frozen=True)
class Stats:
    """sum, min, max and average (rounded) of whole numbers; all None when there are none."""

    sum: int | None = None
    min: int | None = None
    max: int | None = None
    avg: int | None = None

    @classmethod
    def of(cls, values: Iterable[int | None]) -> Stats:
        present = [value for value in values if value is not None]
        if not present:
            return cls()
        total = sum(present)
        return cls(total, min(present), max(present), round(total / len(present)))

    def columns(self, prefix: str) -> dict[str, int | None]:
        return {f"{prefix}_sum": self.sum, f"{prefix}_min": self.min, f"{prefix}_max": self.max,
                f"{prefix}_avg": self.avg}


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((as_utc(end) - as_utc(start)).total_seconds()))


def _sum_present(values: Sequence[int | None]) -> int:
    return sum(value for value in values if value is not None)


def compute_day(session: Session, day: dt.date) -> dict[str, int]:
    """Replace `day`'s rollup rows; returns how many rows of each table were written."""
    start, end = day_bounds(day)
    return {
        "metrics_job_type": _job_types(session, day, start, end),
        "metrics_error": _errors(session, day, start, end),
        "metrics_ingest": _ingests(session, day, start, end),
    }


def _job_types(session: Session, day: dt.date, start: dt.datetime, end: dt.datetime) -> int:
    session.execute(delete(MetricsJobType).where(MetricsJobType.occurred == day))
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    finished = session.execute(
        select(Job.job_type_id, Job.status, Error.category, func.count())
        .outerjoin(Error, Error.id == Job.error_id)
        .where(Job.ended >= start, Job.ended < end,
               Job.status.in_((JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED)))
        .group_by(Job.job_type_id, Job.status, Error.category))
    for job_type_id, status, category, count in finished:
        row = counts[job_type_id]
        row[f"{status.lower()}_count"] += count
        row["total_count"] += count
        if status == JobStatus.FAILED:
            row[f"error_{(category or ErrorCategory.SYSTEM).lower()}_count"] += count

    times: dict[int, dict[str, list[int | None]]] = defaultdict(lambda: defaultdict(list))
    exes = session.execute(
        select(Job.job_type_id, JobExecution.queued, JobExecution.started, JobExecution.pre_started,
               JobExecution.pre_completed, JobExecution.job_started, JobExecution.job_completed,
               JobExecution.post_started, JobExecution.post_completed, JobExecution.ended)
        .join(Job, Job.id == JobExecution.job_id)
        .where(JobExecution.ended >= start, JobExecution.ended < end))
    for exe in exes:
        phases = times[exe.job_type_id]
        tasks = [_seconds(exe.pre_started, exe.pre_completed), _seconds(exe.job_started, exe.job_completed),
                 _seconds(exe.post_started, exe.post_completed)]
        run = _seconds(exe.started, exe.ended)
        phases["queue_time"].append(_seconds(exe.queued, exe.started))
        phases["pre_time"].append(tasks[0])
        phases["job_time"].append(tasks[1])
        phases["post_time"].append(tasks[2])
        phases["run_time"].append(run)
        phases["stage_time"].append(None if run is None else max(0, run - _sum_present(tasks)))

    rows = []
    for job_type_id in sorted(set(counts) | set(times)):
        values: dict[str, int | None] = dict(counts.get(job_type_id, {}))
        for phase, observed in times.get(job_type_id, {}).items():
            values.update(Stats.of(observed).columns(phase))
        rows.append(MetricsJobType(occurred=day, job_type_id=job_type_id, **_zero_counts(values, (
            "completed_count", "failed_count", "canceled_count", "total_count", "error_system_count",
            "error_algorithm_count", "error_data_count"))))
    session.add_all(rows)
    session.flush()
    return len(rows)


def _zero_counts(values: dict[str, int | None], names: Sequence[str]) -> dict[str, int | None]:
    """A day with rows for a choice counts 0, not null, for what did not happen."""
    return {**{name: 0 for name in names}, **values}


def _errors(session: Session, day: dt.date, start: dt.datetime, end: dt.datetime) -> int:
    session.execute(delete(MetricsError).where(MetricsError.occurred == day))
    failed = session.execute(
        select(Job.error_id, func.count())
        .where(Job.status == JobStatus.FAILED, Job.error_id.is_not(None), Job.ended >= start, Job.ended < end)
        .group_by(Job.error_id).order_by(Job.error_id))
    rows = [MetricsError(occurred=day, error_id=error_id, total_count=count) for error_id, count in failed]
    session.add_all(rows)
    session.flush()
    return len(rows)


def _ingests(session: Session, day: dt.date, start: dt.datetime, end: dt.datetime) -> int:
    session.execute(delete(MetricsIngest).where(MetricsIngest.occurred == day))
    last_step = func.coalesce(Ingest.ingest_ended, Ingest.transfer_ended)
    ingests = session.execute(
        select(Ingest.strike_id, Ingest.status, Ingest.file_size, Ingest.transfer_started, Ingest.transfer_ended,
               Ingest.ingest_started, Ingest.ingest_ended)
        .where(Ingest.strike_id.is_not(None), last_step >= start, last_step < end))
    by_strike: dict[int | None, list[tuple]] = defaultdict(list)
    for ingest in ingests:
        by_strike[ingest[0]].append(tuple(ingest[1:]))
    rows = []
    for strike_id, found in sorted(by_strike.items()):
        statuses = [status for status, *_ in found]
        values: dict[str, int | None] = {
            f"{status.lower()}_count": statuses.count(status)
            for status in (IngestStatus.DEFERRED, IngestStatus.INGESTED, IngestStatus.ERRORED, IngestStatus.DUPLICATE)}
        values["total_count"] = len(found)
        values.update(Stats.of(size for _, size, *_ in found).columns("file_size"))
        values.update(Stats.of(_seconds(t_s, t_e) for _, _, t_s, t_e, _, _ in found).columns("transfer_time"))
        values.update(Stats.of(_seconds(i_s, i_e) for _, _, _, _, i_s, i_e in found).columns("ingest_time"))
        rows.append(MetricsIngest(occurred=day, strike_id=strike_id, **values))
    session.add_all(rows)
    session.flush()
    return len(rows)


def process_clock_event(session: Session, event: TriggerEvent) -> None:
    """The hourly rule: recompute yesterday and today."""
    today = as_utc(event.occurred).date()
    for day in (today - dt.timedelta(days=1), today):
        compute_day(session, day)
