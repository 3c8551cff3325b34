"""Job type statistics: job counts by status (details, `/status/`), the job types with
running jobs (`/running/`) and those whose jobs failed with SYSTEM errors (`/system-failures/`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from scale.definitions.job_types import JOB_TYPE_LIST, mapped_errors
from scale.listing import ListSpec
from scale.models.errors import Error, ErrorCategory
from scale.models.job_types import JobType
from scale.models.jobs import Job, JobStatus
from scale.timeutil import utcnow

COUNT_WINDOWS_HOURS = (6, 12, 24)

# `/status/` pages through job types; `started`/`ended` bound the jobs counted, not the types.
JOB_TYPE_STATUS_LIST = ListSpec(orders=JOB_TYPE_LIST.orders, default_order=("last_modified", "id"))
JOB_TYPE_STATUS_RANGE = replace(JOB_TYPE_STATUS_LIST, time_column=Job.last_status_change,
                                default_range=dt.timedelta(hours=3))

_RUNNING = (select(Job.job_type_id, func.count(Job.id).label("jobs"),
                   func.min(Job.last_status_change).label("longest_running"))
            .where(Job.status == JobStatus.RUNNING).group_by(Job.job_type_id).subquery("running"))
JOB_TYPE_RUNNING_LIST = ListSpec(
    orders={"longest_running": _RUNNING.c.longest_running, "count": _RUNNING.c.jobs,
            "id": JobType.id, "name": JobType.name},
    default_order=("longest_running", "id"))

_FAILURES = (select(Job.job_type_id, Job.error_id, func.count(Job.id).label("jobs"),
                    func.min(Job.last_status_change).label("first_error"),
                    func.max(Job.last_status_change).label("last_error"),
                    func.max(Job.id).label("last_job_id"))
             .join(Error, Job.error_id == Error.id)
             .where(Job.status == JobStatus.FAILED, Error.category == ErrorCategory.SYSTEM)
             .group_by(Job.job_type_id, Job.error_id).subquery("failures"))
JOB_TYPE_FAILURE_LIST = ListSpec(
    orders={"last_error": _FAILURES.c.last_error, "first_error": _FAILURES.c.first_error,
            "count": _FAILURES.c.jobs, "id": Job.id},
    default_order=("-last_error", "-id"))


@dataclass(frozen=True)
class JobCount:
    """Jobs of one status (and, for FAILED, one error category): how many, and the latest
    time one entered that status."""

    status: str
    count: int
    most_recent: dt.datetime | None
    category: str | None


@dataclass(frozen=True)
class JobTypeDetails:
    job_type: JobType
    errors: list[Error]
    job_counts: dict[int, list[JobCount]]  # window in hours -> counts


def describe_job_type(session: Session, job_type: JobType) -> JobTypeDetails:
    """What the details response adds to the row: mapped errors and 6/12/24 h job counts."""
    now = utcnow()
    counts = {hours: job_counts(session, started=now - dt.timedelta(hours=hours),
                                job_type_ids={job_type.id}).get(job_type.id, [])
              for hours in COUNT_WINDOWS_HOURS}
    return JobTypeDetails(job_type, mapped_errors(session, job_type), counts)


def job_counts(session: Session, *, started: dt.datetime | None, ended: dt.datetime | None = None,
               job_type_ids: set[int] | None = None,
               include_running: bool = False) -> dict[int, list[JobCount]]:
    """Counts by job type of jobs whose status changed in [started, ended], grouped by status;
    FAILED is split by error category, other statuses carry none. With `include_running`,
    RUNNING jobs count whenever they started (reference, Job Types Status)."""
    in_range = Job.last_status_change >= started if started is not None else None
    if ended is not None:
        upper = Job.last_status_change <= ended
        in_range = upper if in_range is None else in_range & upper
    stmt = (select(Job.job_type_id, Job.status, Error.category, func.count(Job.id),
                   func.max(Job.last_status_change))
            .outerjoin(Error, Job.error_id == Error.id)
            .group_by(Job.job_type_id, Job.status, Error.category)
            .order_by(Job.job_type_id, Job.status, Error.category))
    if in_range is not None:
        stmt = stmt.where(or_(in_range, Job.status == JobStatus.RUNNING) if include_running
                          else in_range)
    if job_type_ids is not None:
        stmt = stmt.where(Job.job_type_id.in_(job_type_ids))
    merged: dict[int, dict[tuple[str, str | None], JobCount]] = {}
    for job_type_id, status, category, count, most_recent in session.execute(stmt):
        # A requeued job may still point at its last error; only FAILED is split by category.
        key = (status, category if status == JobStatus.FAILED else None)
        known = merged.setdefault(job_type_id, {}).get(key)
        if known is not None:
            count += known.count
            most_recent = max(filter(None, (most_recent, known.most_recent)), default=None)
        merged[job_type_id][key] = JobCount(key[0], count, most_recent, key[1])
    return {job_type_id: list(by_key.values()) for job_type_id, by_key in merged.items()}


def job_type_status_statement() -> Select:
    return select(JobType)


def running_job_types_statement() -> Select:
    """Rows of (JobType, running jobs, when the longest running one started) for the job types
    with RUNNING jobs, sortable by `JOB_TYPE_RUNNING_LIST`; page them with `rows=True`."""
    return (select(JobType, _RUNNING.c.jobs, _RUNNING.c.longest_running)
            .join(_RUNNING, _RUNNING.c.job_type_id == JobType.id))


def system_failures_statement() -> Select:
    """Rows of (Job, failures, first failure, last failure), one per (job type, SYSTEM error)
    pair, sortable by `JOB_TYPE_FAILURE_LIST`; page them with `rows=True`. The Job is the
    pair's latest failure and stands for the pair: `Job.job_type` and `Job.error` name it."""
    return (select(Job, _FAILURES.c.jobs, _FAILURES.c.first_error, _FAILURES.c.last_error)
            .join(_FAILURES, Job.id == _FAILURES.c.last_job_id))
