"""The queue's commands, parsed from the API's JSON at the edge: a new job, a requeue or
cancel filter, and a job edit. Each `from_json` validates the body's shape and raises
ValidationError naming the field; the services take these values, never a request body."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from scale.exceptions import ValidationError
from scale.listing import INT_MAX, INT_MIN
from scale.models.errors import Error, ErrorCategory
from scale.models.job_types import JobType
from scale.models.jobs import Job, JobStatus
from scale.queue import transitions
from scale.specs import job_data
from scale.specs._fields import body_schema
from scale.specs._schema import validate
from scale.specs.job_data import JobData
from scale.timeutil import parse_time_or_duration, utcnow

_ID = {"type": "integer", "minimum": 1, "maximum": INT_MAX}
_IDS = {"type": "array", "items": _ID}
_NAMES = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 250}}

NEW_JOB_SCHEMA = body_schema({"job_type_id": _ID, "job_data": {"type": "object"}},
                             required=("job_type_id", "job_data"))
# PATCH /jobs/{id}/: "The only status change currently allowed is CANCELED".
JOB_EDIT_SCHEMA = body_schema({"status": {"enum": [JobStatus.CANCELED.value]}}, required=("status",))


def _filter_schema(statuses: Sequence[str], *, requeue: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "started": {"type": "string"}, "ended": {"type": "string"},
        "status": {"anyOf": [{"enum": [str(s) for s in statuses]},
                             {"type": "array", "items": {"enum": [str(s) for s in statuses]}}]},
        "job_ids": _IDS, "job_type_ids": _IDS, "job_type_names": _NAMES, "job_type_categories": _NAMES,
        "error_categories": {"type": "array", "items": {"enum": [c.value for c in ErrorCategory]}},
    }
    if requeue:
        properties["priority"] = {"type": "integer", "minimum": INT_MIN, "maximum": INT_MAX}
    return body_schema(properties)


REQUEUE_SCHEMA = _filter_schema(transitions.REQUEUEABLE, requeue=True)
CANCEL_SCHEMA = _filter_schema(transitions.CANCELABLE, requeue=False)


@dataclass(frozen=True)
class NewJob:
    """Queue a job of `job_type_id` on `job_data` (reference "Queue New Job")."""

    job_type_id: int
    job_data: JobData

    @classmethod
    def from_json(cls, doc: object) -> NewJob:
        validate(doc, NEW_JOB_SCHEMA)
        assert isinstance(doc, dict)
        try:
            data = job_data.parse(doc["job_data"])
        except ValidationError as error:
            raise error.within("job_data") from None
        return cls(job_type_id=doc["job_type_id"], job_data=data)


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a requeue or cancel applies to; every given criterion must match."""

    statuses: tuple[str, ...]
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    job_ids: tuple[int, ...] = ()
    job_type_ids: tuple[int, ...] = ()
    job_type_names: tuple[str, ...] = ()
    job_type_categories: tuple[str, ...] = ()
    error_categories: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, doc: object, schema: dict[str, Any], statuses: Sequence[str]) -> JobFilter:
        """The filter of a requeue/cancel body (ValidationError naming the field); `statuses` are
        the ones the operation applies to, and the default when `status` is not given."""
        validate(doc, schema)
        assert isinstance(doc, dict)
        now = utcnow()
        started = ended = None
        if "started" in doc:
            started = parse_time_or_duration(doc["started"], field="started", now=now)
        if "ended" in doc:
            ended = parse_time_or_duration(doc["ended"], field="ended", now=now)
        if started is not None and ended is not None and started > ended:
            raise ValidationError("started", "must not be after ended")
        status = doc.get("status", list(statuses))
        return cls(
            statuses=tuple([status] if isinstance(status, str) else status) or tuple(statuses),
            started=started, ended=ended, job_ids=tuple(doc.get("job_ids", ())),
            job_type_ids=tuple(doc.get("job_type_ids", ())), job_type_names=tuple(doc.get("job_type_names", ())),
            job_type_categories=tuple(doc.get("job_type_categories", ())),
            error_categories=tuple(doc.get("error_categories", ())))

    def statement(self) -> Select:
        """`select(Job.id)` of the matching jobs."""
        stmt = select(Job.id).where(Job.status.in_(self.statuses))
        if self.started is not None:
            stmt = stmt.where(Job.last_modified >= self.started)
        if self.ended is not None:
            stmt = stmt.where(Job.last_modified <= self.ended)
        if self.job_ids:
            stmt = stmt.where(Job.id.in_(self.job_ids))
        if self.job_type_ids:
            stmt = stmt.where(Job.job_type_id.in_(self.job_type_ids))
        if self.job_type_names:
            stmt = stmt.where(Job.job_type_id.in_(select(JobType.id).where(JobType.name.in_(self.job_type_names))))
        if self.job_type_categories:
            stmt = stmt.where(Job.job_type_id.in_(
                select(JobType.id).where(JobType.category.in_(self.job_type_categories))))
        if self.error_categories:
            stmt = stmt.where(Job.error_id.in_(select(Error.id).where(Error.category.in_(self.error_categories))))
        return stmt


@dataclass(frozen=True)
class RequeueJobs:
    """Requeue the FAILED/CANCELED jobs `filter` matches, with `priority` when given."""

    filter: JobFilter
    priority: int | None = None

    @classmethod
    def from_json(cls, doc: object) -> RequeueJobs:
        flt = JobFilter.from_json(doc, REQUEUE_SCHEMA, transitions.REQUEUEABLE)
        assert isinstance(doc, dict)
        return cls(filter=flt, priority=doc.get("priority"))


@dataclass(frozen=True)
class CancelJobs:
    """Cancel the PENDING, BLOCKED, QUEUED or RUNNING jobs `filter` matches."""

    filter: JobFilter

    @classmethod
    def from_json(cls, doc: object) -> CancelJobs:
        """An empty filter is refused (field `body`): canceling every job takes an explicit `status`."""
        flt = JobFilter.from_json(doc, CANCEL_SCHEMA, transitions.CANCELABLE)
        if not doc:
            raise ValidationError("body", "give at least one filter; to cancel every job, give status")
        return cls(filter=flt)


@dataclass(frozen=True)
class JobEdit:
    """A PATCH of a job; the only change allowed is `status: CANCELED`."""

    status: JobStatus

    @classmethod
    def from_json(cls, doc: object) -> JobEdit:
        validate(doc, JOB_EDIT_SCHEMA)
        assert isinstance(doc, dict)
        return cls(status=JobStatus(doc["status"]))
