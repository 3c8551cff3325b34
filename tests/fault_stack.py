"""What the fault tests (`tests/integration/test_faults_*.py`) share: a `redis-server` of their
own that a test can SIGKILL and start again on the same port (the shared server is never
touched), Scale processes (`scale scheduler`, `scale worker`, `scale strike`) run as a deployment
runs them, jobs that notice being run twice at once, and the exactly-once checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from scale.models.files import ScaleFile
from scale.models.ingest import Ingest
from scale.models.jobs import Job, JobExecution, JobExecutionStatus
from scale.queue import service as queue_service
from scale.queue.commands import NewJob
from scale.settings import Settings
from tests.factories import create_job_type
from tests.helpers import closed_port, wait_until

REPO = Path(__file__).resolve().parents[1]


class RedisServer:
    """A `redis-server` on a free loopback port, without persistence: killed, it forgets every
    queued and unacknowledged message, as a restarted broker without a disk does."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = closed_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.folder)], stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_until(lambda: _answers(client), what="redis-server to answer", timeout=15)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


class ScaleProcess:
    """`scale <args>` with `settings` (and `env` on top) in its environment, in a process group
    of its own (so SIGKILL reaches a worker's pool children too), logging to `log_path`."""

    def __init__(self, settings: Settings, args: list[str], log_path: Path, env: Mapping[str, str] = {}) -> None:
        self.settings = settings
        self.args = args
        self.log_path = log_path
        self.env = {**os.environ, **settings.to_env(), **env}
        self.proc: subprocess.Popen | None = None

    def start(self) -> ScaleProcess:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "cli.main", *self.args], cwd=REPO, env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (a clean stop), then SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# ---------------------------------------------------------------------------------------------
# Jobs that notice a second run of themselves

SCRIPT_INTERFACE = {"version": "1.0", "command": "/bin/sh", "command_arguments": "-c ${code}",
                    "input_data": [{"name": "code", "type": "property"}], "output_data": []}


def guarded_script(marks: Path, token: str, seconds: float) -> str:
    """A job body that holds an exclusive lock named after its job for `seconds`: a second run
    of the same job while the first still runs (its process, or a leftover of it, alive) cannot
    take the lock and writes its token to `marks/overlaps`. Each run appends to `<token>.runs`."""
    lock, runs, overlaps = marks / f"{token}.lock", marks / f"{token}.runs", marks / "overlaps"
    return (f"exec 9>>{lock}; flock -n 9 || echo {token} >> {overlaps}; echo run >> {runs}; "
            f"sleep {seconds}")


def guarded_job_type(session, name: str, *, max_tries: int) -> int:
    return create_job_type(session, {"name": name, "version": "1.0", "interface": SCRIPT_INTERFACE,
                                     "max_tries": max_tries, "cpus_required": 0.1, "mem_required": 8.0,
                                     "disk_out_const_required": 0}).id


def queue_guarded_jobs(sessions: sessionmaker, job_type_id: int, marks: Path, tokens: list[str],
                       seconds: float) -> list[int]:
    """Queue one guarded job per token in one transaction; returns the job ids."""
    with sessions.begin() as session:
        return [queue_service.queue_new_job(session, NewJob.from_json({"job_type_id": job_type_id, "job_data": {
            "version": "1.0", "input_data": [{"name": "code", "value": guarded_script(marks, token, seconds)}],
            "output_data": []}}))[0].id for token in tokens]


def overlaps(marks: Path) -> list[str]:
    path = marks / "overlaps"
    return path.read_text().split() if path.exists() else []


# ---------------------------------------------------------------------------------------------
# The exactly-once checks


def count(sessions: sessionmaker, stmt) -> int:
    with sessions() as session:
        return session.scalar(stmt) or 0


def job_statuses(sessions: sessionmaker) -> dict[str, int]:
    with sessions() as session:
        return dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())


def completed_executions_per_job(sessions: sessionmaker) -> dict[int, int]:
    with sessions() as session:
        return dict(session.execute(
            select(JobExecution.job_id, func.count()).where(JobExecution.status == JobExecutionStatus.COMPLETED)
            .group_by(JobExecution.job_id)).all())


def executions_by_status(sessions: sessionmaker) -> dict[str, int]:
    with sessions() as session:
        return dict(session.execute(select(JobExecution.status, func.count()).group_by(JobExecution.status)).all())


def ingest_statuses(sessions: sessionmaker) -> dict[str, int]:
    with sessions() as session:
        return dict(session.execute(select(Ingest.status, func.count()).group_by(Ingest.status)).all())


def sources_per_name(sessions: sessionmaker) -> dict[str, int]:
    with sessions() as session:
        return dict(session.execute(select(ScaleFile.file_name, func.count()).group_by(ScaleFile.file_name)).all())


def ingests_per_name(sessions: sessionmaker) -> dict[str, int]:
    with sessions() as session:
        return dict(session.execute(select(Ingest.file_name, func.count()).group_by(Ingest.file_name)).all())
