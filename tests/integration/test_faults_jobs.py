"""Faults under a running scheduler, each ending with every job COMPLETED exactly once and
nothing left QUEUED or RUNNING: PostgreSQL cut away (through a TCP proxy: every connection
dropped, new ones refused) while 300 jobs run, and `scale scheduler` killed with SIGKILL every
5 s for a minute while 500 jobs are queued. A try interrupted by a fault may be retried (a
SYSTEM failure), but no job runs twice at once (each job holds a lock named after it while it
runs: see `tests.fault_stack.guarded_script`) and none completes twice.

One Redis of the module's own (the scheduler sends each execution's follow-ups to it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from scale.models.jobs import Job, JobStatus
from scale.settings import Settings
from tests.fault_stack import (
    RedisServer,
    ScaleProcess,
    completed_executions_per_job,
    count,
    executions_by_status,
    guarded_job_type,
    job_statuses,
    overlaps,
    queue_guarded_jobs,
)
from tests.helpers import wait_until
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration

COMPLETED = select(func.count()).select_from(Job).where(Job.status == JobStatus.COMPLETED)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, pg_url: str, redis_server: RedisServer) -> Settings:
    return replace(Settings.embedded(tmp_path / "home"), database_url=pg_url, broker_url=redis_server.url,
                   work_root=tmp_path / "work")


def explain(error: AssertionError, sessions: sessionmaker, *processes: ScaleProcess) -> AssertionError:
    logs = "\n".join(f"--- {process.log_path.name} (tail) ---\n{process.log()[-6000:]}" for process in processes)
    return AssertionError(f"{error}\njobs: {job_statuses(sessions)}, executions: {executions_by_status(sessions)}"
                          f"\n{logs}")


def assert_every_job_completed_once(sessions: sessionmaker, job_ids: list[int], marks: Path) -> None:
    assert job_statuses(sessions) == {JobStatus.COMPLETED: len(job_ids)}
    per_job = completed_executions_per_job(sessions)
    assert sorted(per_job) == sorted(job_ids) and set(per_job.values()) == {1}
    assert set(executions_by_status(sessions)) <= {"COMPLETED", "FAILED"}  # none left QUEUED or RUNNING
    assert overlaps(marks) == []


def test_a_database_cut_while_300_jobs_run_completes_each_once(pg_committed: sessionmaker, settings: Settings,
                                                              tmp_path: Path):
    jobs = 300
    marks = tmp_path / "marks"
    marks.mkdir()
    with pg_committed.begin() as session:
        job_type_id = guarded_job_type(session, "outage", max_tries=5)
    url = make_url(settings.database_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxied = replace(settings, database_url=url.set(host="127.0.0.1", port=proxy.port)
                      .render_as_string(hide_password=False))
    scheduler = ScaleProcess(proxied, ["scheduler"], tmp_path / "scheduler.log",
                             env={"SCALE_NODE_NAME": "outage-node"}).start()
    try:
        job_ids = queue_guarded_jobs(pg_committed, job_type_id, marks, [f"job{n}" for n in range(jobs)], 0.3)
        wait_until(lambda: count(pg_committed, COMPLETED) >= 60, what="a fifth of the jobs to complete", timeout=60)
        proxy.cut()
        time.sleep(4)  # the outage itself, not a wait for a result
        proxy.restore()
        wait_until(lambda: count(pg_committed, COMPLETED) == jobs, what="every job to complete", timeout=90)
    except AssertionError as error:
        raise explain(error, pg_committed, scheduler) from None
    finally:
        scheduler.stop()
        proxy.close()
    assert "failed" in scheduler.log()  # the outage was felt: the loop logged failing cycles
    assert_every_job_completed_once(pg_committed, job_ids, marks)


def test_the_scheduler_killed_every_5_s_for_a_minute_loses_no_job(pg_committed: sessionmaker, settings: Settings,
                                                                  tmp_path: Path):
    jobs, minute = 500, 60.0
    marks = tmp_path / "marks"
    marks.mkdir()
    with pg_committed.begin() as session:
        job_type_id = guarded_job_type(session, "crash", max_tries=10)
    job_ids: list[int] = []

    def queue_steadily() -> None:
        """500 jobs over 50 s: 10 every second."""
        started = time.monotonic()
        for batch in range(jobs // 10):
            time.sleep(max(0.0, started + batch - time.monotonic()))
            job_ids.extend(queue_guarded_jobs(pg_committed, job_type_id, marks,
                                              [f"job{batch}-{n}" for n in range(10)], 0.5))

    feeder = threading.Thread(target=queue_steadily)
    schedulers: list[ScaleProcess] = []

    def start_scheduler() -> ScaleProcess:
        schedulers.append(ScaleProcess(settings, ["scheduler"], tmp_path / f"scheduler-{len(schedulers)}.log",
                                       env={"SCALE_NODE_NAME": "crash-node"}).start())
        return schedulers[-1]

    scheduler = start_scheduler()
    feeder.start()
    try:
        ends = time.monotonic() + minute
        while time.monotonic() < ends:
            time.sleep(5)  # the interval between kills, not a wait for a result
            scheduler.kill()
            scheduler = start_scheduler()
        feeder.join(timeout=60)
        wait_until(lambda: count(pg_committed, COMPLETED) == jobs, what="every job to complete", timeout=90)
    except AssertionError as error:
        raise explain(error, pg_committed, *schedulers[-2:]) from None
    finally:
        feeder.join(timeout=60)
        scheduler.stop()
    assert len(schedulers) >= 12
    assert_every_job_completed_once(pg_committed, job_ids, marks)
