"""`transitions.queue_new_jobs`: many new jobs queued at once (the trigger evaluation's batch),
with the resources `queue_job` would give each, on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scale.exceptions import InvalidTransition
from scale.models.job_types import JobTypeRevision
from scale.models.jobs import Job, JobExecution, Queue
from scale.models.triggers import TriggerEvent
from scale.queue import factory, transitions
from scale.specs._inputs import DataInput
from scale.specs.job_data import JobData
from scale.timeutil import utcnow
from tests.factories import MIB, count, make_file, make_job_type, make_workspace, new_job
from tests.helpers import statements


def fresh_job(db, job_type, *file_ids: int) -> Job:
    """A PENDING job of `job_type` on `file_ids`, with its event, neither in the session."""
    revision = db.scalars(select(JobTypeRevision).where(JobTypeRevision.job_type_id == job_type.id)).one()
    data = JobData(inputs=tuple(DataInput("input_file", file_id=i) for i in file_ids))
    return factory.new_job(job_type, revision, TriggerEvent(type="TEST", description={}, occurred=utcnow()),
                           data, utcnow())


def test_new_jobs_are_inserted_queued_with_their_disk_sizes_in_five_statements(db):
    job_type = make_job_type(db)  # disk_out = 10 + 2 * disk_in
    workspace = make_workspace(db)
    small = make_file(db, workspace, size=1 * MIB, uuid="1" * 32, file_name="small.png")
    big = make_file(db, workspace, size=3 * MIB, uuid="3" * 32, file_name="big.png")
    jobs = [fresh_job(db, job_type, small.id), fresh_job(db, job_type, big.id), fresh_job(db, job_type),
            fresh_job(db, job_type, big.id)]

    with statements(db) as seen:
        exe_ids = transitions.queue_new_jobs(db, jobs)

    # The input sizes, then the events and jobs (one flush), the executions and queue rows.
    assert [s.split()[0] for s in seen][:2] == ["SELECT", "INSERT"]
    if db.get_bind().dialect.name == "postgresql":  # SQLite inserts ORM rows one at a time
        assert [s.split()[0] for s in seen] == ["SELECT"] + ["INSERT"] * 4, seen
    assert sorted(exe_ids) == sorted(job.id for job in jobs)
    assert [(job.status, job.num_exes, job.disk_in_required, job.disk_out_required) for job in jobs] == [
        ("QUEUED", 1, 1.0, 12.0), ("QUEUED", 1, 3.0, 16.0), ("QUEUED", 1, 0.0, 10.0), ("QUEUED", 1, 3.0, 16.0)]
    rows = {row.job_id: row for row in db.scalars(select(Queue))}
    assert [rows[job.id].job_exe_id for job in jobs] == [exe_ids[job.id] for job in jobs]
    assert [rows[job.id].disk_total_required for job in jobs] == [13.0, 19.0, 10.0, 19.0]
    assert {db.get(JobExecution, exe_id).status for exe_id in exe_ids.values()} == {"QUEUED"}


def test_a_job_that_exists_or_cannot_be_queued_is_refused_before_anything_is_written(db):
    job_type = make_job_type(db)
    existing = new_job(db, job_type)
    running = fresh_job(db, job_type)
    running.status = "RUNNING"

    for refused in (existing, running):
        with pytest.raises(InvalidTransition):
            transitions.queue_new_jobs(db, [fresh_job(db, job_type), refused])
    assert count(db, Queue) == count(db, JobExecution) == 0
    assert count(db, Job) == 1
    assert transitions.queue_new_jobs(db, []) == {}
