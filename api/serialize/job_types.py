"""Job types in the reference's shapes: base (status/running/failure results), summary (list),
details (create, edit, details) and the validation warnings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from api.serialize.errors import error_detail
from api.serialize.triggers import trigger_rule_detail
from scale.definitions.job_type_stats import JobCount, JobTypeDetails
from scale.models.job_types import JobType
from scale.models.jobs import Job
from scale.timeutil import to_iso

_BASE_FIELDS = ("id", "name", "version", "title", "description", "category", "author_name",
                "author_url", "is_system", "is_long_running", "is_active", "is_operational",
                "is_paused", "icon_code")
_SUMMARY_FIELDS = _BASE_FIELDS + (
    "uses_docker", "docker_privileged", "docker_image", "revision_num", "priority", "timeout",
    "max_scheduled", "max_tries", "cpus_required", "mem_required", "disk_out_const_required",
    "disk_out_mult_required")
_TIMES = ("created", "archived", "paused", "last_modified")


def job_type_base(job_type: JobType) -> dict[str, Any]:
    return {name: getattr(job_type, name) for name in _BASE_FIELDS}


def job_type_summary(job_type: JobType) -> dict[str, Any]:
    return {**{name: getattr(job_type, name) for name in _SUMMARY_FIELDS},
            **{name: to_iso(getattr(job_type, name)) for name in _TIMES}}


def job_count(count: JobCount) -> dict[str, Any]:
    return {"status": count.status, "count": count.count,
            "most_recent": to_iso(count.most_recent), "category": count.category}


def job_type_details(details: JobTypeDetails) -> dict[str, Any]:
    job_type = details.job_type
    return {
        **job_type_summary(job_type),
        "interface": job_type.interface,
        "error_mapping": job_type.error_mapping,
        "trigger_rule": trigger_rule_detail(job_type.trigger_rule),
        "errors": [error_detail(error) for error in details.errors],
        **{f"job_counts_{hours}h": [job_count(c) for c in counts]
           for hours, counts in details.job_counts.items()},
    }


def job_type_status(job_type: JobType, counts: list[JobCount]) -> dict[str, Any]:
    return {"job_type": job_type_base(job_type), "job_counts": [job_count(c) for c in counts]}


def job_type_running(job_type: JobType, count: int, longest_running: dt.datetime | None) -> dict[str, Any]:
    return {"job_type": job_type_base(job_type), "count": count,
            "longest_running": to_iso(longest_running)}


def job_type_failure(job: Job, count: int, first_error: dt.datetime,
                     last_error: dt.datetime) -> dict[str, Any]:
    """`job` is the latest failed job of the (job type, SYSTEM error) pair; `count` jobs of the
    pair failed, from `first_error` to `last_error`."""
    assert job.error is not None, "failures are grouped by their error"
    return {"job_type": job_type_base(job.job_type), "error": error_detail(job.error),
            "count": count, "first_error": to_iso(first_error), "last_error": to_iso(last_error)}


