"""A real PostgreSQL outage under a running scheduler: the scheduler reaches the database
through a TCP proxy that the test cuts (every connection dropped, new ones refused) and
restores; the server itself, which other tests share, is never touched.

A job that ends during an outage shorter than the runner's retry budget is recorded when the
database is back; one whose runner gave up is noticed by the scheduler and retried. Neither
stays RUNNING, and the scheduler loop itself outlives the outage."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from scale.db import make_engine, make_sessions
from scale.execution.runner import JobRunner
from scale.models.errors import Error
from scale.models.jobs import Job, JobExecution
from scale.queue import service as queue
from scale.queue.commands import NewJob
from scale.resources import Resources
from scale.scheduler.loop import LoopOptions, SchedulerLoop
from scale.scheduler.managers.local import LocalManager
from tests.factories import command_job_type_body, create_job_type
from tests.helpers import wait_until
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration

HOSTNAME = f"outage-test-{os.getpid()}"
OPTIONS = LoopOptions(idle_wait=0.1, heartbeat_every=0.5)
# Long enough for the runner to try (and, with a short budget, give up) while the database is away.
OUTAGE_SECONDS = 5.0


@pytest.fixture
def proxied(pg_url: str) -> Iterator[tuple[TcpProxy, sessionmaker]]:
    """The test database through a proxy the test can cut: sessions for the scheduler."""
    url = make_url(pg_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    engine = make_engine(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    yield proxy, make_sessions(engine)
    proxy.close()
    engine.dispose()


def queue_waiting_job(sessions: sessionmaker, tmp_path: Path) -> int:
    """A job that says it started, then runs until the file `go` appears."""
    code = f"touch {tmp_path}/started; while [ ! -e {tmp_path}/go ]; do sleep 0.05; done; touch {tmp_path}/done"
    with sessions.begin() as session:
        job_type = create_job_type(session, command_job_type_body(
            "waiter", "/bin/sh", "-c ${code}", "code", max_tries=3, cpus_required=0.1, mem_required=16.0))
        return queue.queue_new_job(session, NewJob.from_json({"job_type_id": job_type.id, "job_data": {
            "version": "1.0", "input_data": [{"name": "code", "value": code}], "output_data": []}}))[0].id


def executions(sessions: sessionmaker, job_id: int) -> list[tuple[str, str | None]]:
    with sessions() as session:
        return [(status, error) for status, error in session.execute(
            select(JobExecution.status, Error.name).outerjoin(Error, JobExecution.error_id == Error.id)
            .where(JobExecution.job_id == job_id).order_by(JobExecution.id))]


def job_status(sessions: sessionmaker, job_id: int) -> str:
    with sessions() as session:
        return session.get(Job, job_id).status


def run_scheduler(sessions: sessionmaker, manager: LocalManager) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=SchedulerLoop(sessions, manager, options=OPTIONS).run, args=(stop,))
    thread.start()
    return thread, stop


def outage_while_the_job_ends(proxy: TcpProxy, tmp_path: Path, until=None) -> None:
    """Cut the database, let the job end, keep it away OUTAGE_SECONDS (or until `until()`), restore."""
    wait_until((tmp_path / "started").exists, what="the job to start", timeout=30)
    proxy.cut()
    try:
        (tmp_path / "go").touch()
        wait_until((tmp_path / "done").exists, what="the job to end", timeout=10)
        if until is not None:
            wait_until(until, what="the runner to give up", timeout=30)
        else:
            time.sleep(OUTAGE_SECONDS)  # the outage itself, not a wait for a result
    finally:
        proxy.restore()


def test_a_job_ending_during_a_short_outage_is_recorded_when_the_database_is_back(
        pg_committed: sessionmaker, proxied, tmp_path: Path):
    proxy, sessions = proxied
    job_id = queue_waiting_job(pg_committed, tmp_path)
    manager = LocalManager(sessions=sessions, work_root=tmp_path / "work",
                           runner=JobRunner(sessions, tmp_path / "work"),
                           hostname=HOSTNAME, total=Resources(cpus=2, mem=1024, disk=1000))
    thread, stop = run_scheduler(sessions, manager)
    try:
        outage_while_the_job_ends(proxy, tmp_path)
        wait_until(lambda: job_status(pg_committed, job_id) == "COMPLETED", what="the job to complete", timeout=30)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert executions(pg_committed, job_id) == [("COMPLETED", None)]


def test_a_runner_that_gave_up_during_the_outage_is_noticed_and_its_job_retried(
        pg_committed: sessionmaker, proxied, tmp_path: Path):
    proxy, sessions = proxied
    job_id = queue_waiting_job(pg_committed, tmp_path)
    manager = LocalManager(sessions=sessions, work_root=tmp_path / "work",
                           runner=JobRunner(sessions, tmp_path / "work", report_for=1.0),
                           hostname=HOSTNAME, total=Resources(cpus=2, mem=1024, disk=1000))
    thread, stop = run_scheduler(sessions, manager)
    try:
        outage_while_the_job_ends(proxy, tmp_path, until=lambda: not manager.running())
        restored = time.monotonic()
        wait_until(lambda: job_status(pg_committed, job_id) == "COMPLETED", what="the retried job to complete",
                   timeout=30)
        assert time.monotonic() - restored < 20
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert executions(pg_committed, job_id) == [("FAILED", "node-lost"), ("COMPLETED", None)]
