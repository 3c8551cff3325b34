"""Strike processes in the reference's shapes (the Strike Details it refers to, as its Ingest
Details and Ingest Status examples show them): a reference inside ingest lists, a summary
(lists, ingest status) and the details with the configuration."""

from __future__ import annotations

from typing import Any

from api.serialize.errors import error_detail
from api.serialize.job_types import job_type_base
from scale.models.ingest import Strike
from scale.models.jobs import Job
from scale.timeutil import to_iso


def strike_job(job: Job | None) -> dict[str, Any] | None:
    """The Strike's `scale-strike` job, with the fields of the reference's examples."""
    if job is None:
        return None
    return {
        "id": job.id, "job_type": job_type_base(job.job_type), "job_type_rev": {"id": job.job_type_rev_id},
        "event": {"id": job.event_id}, "error": None if job.error is None else error_detail(job.error),
        "status": job.status, "priority": job.priority, "num_exes": job.num_exes,
    }


def strike_ref(strike: Strike | None) -> dict[str, Any] | None:
    """A Strike inside an ingest list entry: `{id, name, job: {id}}`."""
    if strike is None:
        return None
    return {"id": strike.id, "name": strike.name,
            "job": None if strike.job_id is None else {"id": strike.job_id}}


def strike_summary(strike: Strike) -> dict[str, Any]:
    return {
        "id": strike.id, "name": strike.name, "title": strike.title, "description": strike.description,
        "is_active": strike.is_active, "job": strike_job(strike.job),
        "created": to_iso(strike.created), "last_modified": to_iso(strike.last_modified),
    }


def strike_details(strike: Strike) -> dict[str, Any]:
    return {**strike_summary(strike), "configuration": strike.configuration}
