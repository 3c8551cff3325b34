"""A hand-counted day of jobs, executions and ingests for the rollup, plot-data and
Prometheus tests. What 2015-01-01 must roll up to is written next to each row."""

from __future__ import annotations

import datetime as dt

from scale.models.ingest import Ingest, Strike
from scale.models.jobs import Job, JobExecution
from scale.timeutil import UTC
from tests.factories import make_error, make_job_type, new_job

DAY = dt.date(2015, 1, 1)


def at(hour: int, minute: int = 0, second: int = 0, *, day: int = 1) -> dt.datetime:
    return dt.datetime(2015, 1, day, hour, minute, second, tzinfo=UTC)


def ended_job(db, job_type, status, ended, error=None) -> Job:
    job = new_job(db, job_type)
    job.status, job.ended, job.error_id = status, ended, error.id if error else None
    db.flush()
    return job


def execution(db, job, status, **times) -> JobExecution:
    exe = JobExecution(job_id=job.id, status=status, timeout=600, **times)
    db.add(exe)
    db.flush()
    return exe


def make_day(db) -> dict[str, object]:
    """Job type `alpha` on 2015-01-01: 1 completed, 2 failed (1 ALGORITHM, 1 SYSTEM);
    queue 600 s + 300 s, pre 60 s + 30 s, job 1800 s, post 60 s, run 1980 s + 60 s,
    stage 60 s + 30 s. Strike `feed`: 2 ingested (100 + 300 bytes, transfer 10 s + 20 s,
    ingest 4 s + 6 s) and 1 errored (no size); a third day's ingest is not counted."""
    alpha = make_job_type(db, name="alpha")
    beta = make_job_type(db, name="beta")
    algorithm = make_error(db, "algo-broke", "ALGORITHM")
    system = make_error(db, "test-system-fault", "SYSTEM")

    done = ended_job(db, alpha, "COMPLETED", at(10))
    execution(db, done, "COMPLETED", queued=at(9), started=at(9, 10), pre_started=at(9, 10),
              pre_completed=at(9, 11), job_started=at(9, 11), job_completed=at(9, 41), post_started=at(9, 41),
              post_completed=at(9, 42), ended=at(9, 43))
    broke = ended_job(db, alpha, "FAILED", at(12), algorithm)
    execution(db, broke, "FAILED", queued=at(11), started=at(11, 5), pre_started=at(11, 5),
              pre_completed=at(11, 5, 30), ended=at(11, 6))
    ended_job(db, alpha, "FAILED", at(13), system)
    ended_job(db, alpha, "COMPLETED", at(0, 0, 1, day=2))  # the next day
    new_job(db, alpha).status = "RUNNING"
    ended_job(db, beta, "CANCELED", at(23, 59, 59))

    strike = Strike(name="feed", configuration={}, is_active=True)
    db.add(strike)
    db.flush()
    for status, size, transfer, ingest in (("INGESTED", 100, (at(1), at(1, 0, 10)), (at(1, 1), at(1, 1, 4))),
                                           ("INGESTED", 300, (at(2), at(2, 0, 20)), (at(2, 1), at(2, 1, 6))),
                                           ("ERRORED", None, (at(3), at(3, 0, 30)), (None, None))):
        db.add(Ingest(file_name=f"f{size}", strike_id=strike.id, status=status, file_size=size,
                      transfer_started=transfer[0], transfer_ended=transfer[1], ingest_started=ingest[0],
                      ingest_ended=ingest[1]))
    db.add(Ingest(file_name="later", strike_id=strike.id, status="INGESTED", file_size=5,
                  transfer_started=at(1, day=3), transfer_ended=at(1, day=3)))
    db.flush()
    return {"alpha": alpha, "beta": beta, "algorithm": algorithm, "system": system, "strike": strike}
