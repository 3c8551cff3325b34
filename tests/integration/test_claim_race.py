"""Two schedulers claiming from one PostgreSQL queue at once never schedule a job twice
(`FOR UPDATE SKIP LOCKED` plus status-guarded updates in scale/queue/transitions.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from scale.db import make_engine
from scale.models.jobs import Job, JobExecution, Queue
from scale.queue import transitions
from tests.conftest import truncate_runtime_tables
from tests.factories import make_job_type, make_node, queued_job

pytestmark = pytest.mark.integration

JOBS = 300
CLAIMERS = 2


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    """Its own engine on the PostgreSQL test database: the claimers need real row locks and
    committed data, on connections of their own."""
    engine = make_engine(pg_url, pool_size=CLAIMERS + 1)
    yield engine
    truncate_runtime_tables(engine)
    engine.dispose()


def claim_until_empty(sessions: sessionmaker, node_id: int, start: threading.Barrier,
                      scheduled: list[int], errors: list[BaseException]) -> None:
    try:
        start.wait()
        while True:
            with sessions.begin() as session:
                rows = transitions.claim_queued(session, limit=10)
                if not rows:
                    return
                for row in rows:
                    exe = transitions.schedule_execution(session, row, node_id=node_id, cpus=1.0, mem=64.0,
                                                         disk_in=0.0, disk_out=0.0)
                    scheduled.append(exe.job_id)
    except BaseException as error:  # reported by the test, which would otherwise just hang or pass
        errors.append(error)


def test_two_claimers_schedule_every_job_exactly_once(pg_engine: Engine):
    sessions = sessionmaker(bind=pg_engine, expire_on_commit=False)
    with sessions.begin() as session:
        job_type = make_job_type(session, name="race")
        node_id = make_node(session, hostname="race-node").id
        for _ in range(JOBS):
            queued_job(session, job_type)

    start = threading.Barrier(CLAIMERS)
    per_claimer: list[list[int]] = [[] for _ in range(CLAIMERS)]
    errors: list[BaseException] = []
    threads = [threading.Thread(target=claim_until_empty, args=(sessions, node_id, start, mine, errors))
               for mine in per_claimer]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    everything = [job_id for mine in per_claimer for job_id in mine]
    assert len(everything) == JOBS and len(set(everything)) == JOBS
    assert all(per_claimer), "both claimers should have scheduled some jobs"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Queue)) == 0
        assert session.scalar(select(func.count()).select_from(Job).where(Job.status == "RUNNING")) == JOBS
        assert session.scalar(select(func.count()).select_from(JobExecution)
                              .where(JobExecution.status == "RUNNING")) == JOBS
        assert session.scalar(select(func.max(Job.num_exes))) == 1
