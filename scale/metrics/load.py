"""Job load (reference "Job Load", `GET /load/`): samples of how many jobs of each type are
PENDING, QUEUED and RUNNING, taken by the clock's `scale-load` rule every minute."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, case, exists, func, select
from sqlalchemy.orm import Session

from scale.exceptions import ValidationError
from scale.listing import Filter, ListSpec, parse_int
from scale.models.job_types import JobType
from scale.models.jobs import Job, JobStatus
from scale.models.metrics import JobLoad
from scale.models.triggers import TriggerEvent
from scale.specs import clock_trigger

PROCESSOR_NAME = clock_trigger.LOAD_PROCESSOR
LOAD_STATUSES = (JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING)
MAX_RANGE = dt.timedelta(days=31)
DEFAULT_RANGE = dt.timedelta(weeks=1)

LOAD_LIST = ListSpec(
    filters={
        "job_type_id": Filter(JobType.id, parse_int),
        "job_type_name": Filter(JobType.name),
        "job_type_category": Filter(JobType.category),
        "job_type_priority": Filter(JobType.priority, parse_int),
    },
    orders={"time": JobLoad.measured},
    default_order=("time",),
    time_column=JobLoad.measured,
    default_range=DEFAULT_RANGE,
)


def take_snapshot(session: Session, measured: dt.datetime) -> list[JobLoad]:
    """Record one sample per job type that has PENDING, QUEUED or RUNNING jobs, at `measured`.
    Idempotent: a sample already taken at `measured` is not taken again."""
    if session.scalar(select(exists().where(JobLoad.measured == measured))):
        return []
    counts = session.execute(
        select(Job.job_type_id,
               *(func.count(case((Job.status == status, 1))) for status in LOAD_STATUSES))
        .where(Job.status.in_(LOAD_STATUSES)).group_by(Job.job_type_id).order_by(Job.job_type_id)).all()
    samples = [JobLoad(job_type_id=row[0], measured=measured, pending_count=row[1], queued_count=row[2],
                       running_count=row[3], total_count=row[1] + row[2] + row[3])
               for row in counts]
    session.add_all(samples)
    session.flush()
    return samples


def process_clock_event(session: Session, event: TriggerEvent) -> None:
    take_snapshot(session, event.occurred)


def check_range(started: dt.datetime | None, ended: dt.datetime | None, *, now: dt.datetime) -> None:
    """The reference limits a load query to one month: raises ValidationError on `started`."""
    if started is not None and (ended or now) - started > MAX_RANGE:
        raise ValidationError("started", "the time range must be within 31 days")


def load_statement() -> Select:
    """Rows of (time, pending, queued, running), the samples of the filtered job types summed
    per time; `scale.listing` adds the range, filters, order and page."""
    return (select(JobLoad.measured, func.sum(JobLoad.pending_count), func.sum(JobLoad.queued_count),
                   func.sum(JobLoad.running_count))
            .join(JobType, JobType.id == JobLoad.job_type_id).group_by(JobLoad.measured))
