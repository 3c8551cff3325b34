"""The one place a `Job` is made: queueing through the API, triggers, Strike processes and
recipes all build their jobs here, so a job always starts from its type the same way.

A new job copies its type's priority, timeout, max_tries, cpus and mem (later edits of the type
leave it alone). Its disk needs stay unset until it is queued: disk_in is the size of its input
files and disk_out depends on it (`transitions.queue_job`), so a PENDING recipe job waiting on
its dependencies has no honest value for either yet."""

from __future__ import annotations

import datetime as dt

from scale.models.job_types import JobType, JobTypeRevision
from scale.models.jobs import Job, JobStatus
from scale.models.triggers import TriggerEvent
from scale.specs.job_data import JobData


def new_job(job_type: JobType, revision: JobTypeRevision, event: TriggerEvent, data: JobData,
            now: dt.datetime) -> Job:
    """A PENDING job of `job_type` at `revision` on `data`, created by `event` at `now`; not yet
    in a session (`transitions.queue_job` or the caller adds it). `data` is stored as its Job Data
    Specification 1.0 document."""
    return Job(job_type=job_type, job_type_id=job_type.id, job_type_rev=revision, job_type_rev_id=revision.id,
               event=event, status=JobStatus.PENDING, priority=job_type.priority, timeout=job_type.timeout,
               max_tries=job_type.max_tries, cpus_required=job_type.cpus_required,
               mem_required=job_type.mem_required, disk_in_required=None, disk_out_required=None,
               data=data.to_dict(), num_exes=0, created=now, last_modified=now, last_status_change=now)
