"""A real `scale strike STRIKE_ID` process with a real Celery worker, on PostgreSQL and Redis:
files copied in (suffix, then rename) become source files; SIGTERM stops it with exit code 0; a
restart picks up a file that landed meanwhile and takes nothing twice; deactivating the Strike
ends the process with exit code 0. And the way it runs in production: the scheduler runs the
Strike's `scale-strike` job, which ingests, until deactivating the Strike cancels it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from scale.ingest import strikes
from scale.ingest.commands import StrikeCreate, StrikeEdit
from scale.models.files import ScaleFile
from scale.models.ingest import Ingest, Strike
from scale.models.jobs import Job, JobExecution, JobExecutionStatus, JobStatus, Queue
from scale.models.workspaces import Workspace
from scale.settings import Settings
from tests.celery_worker import REPO, CeleryWorker, redis_settings, running_worker
from tests.helpers import wait_until

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def settings(tmp_path: Path, pg_url: str) -> Settings:
    return redis_settings(tmp_path / "home", pg_url, REDIS_URL, strike_rescan_seconds=1.0, strike_settle_seconds=1.0)


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[CeleryWorker]:
    with running_worker(settings, tmp_path / "worker.log") as running:
        yield running


class StrikeProcess:
    def __init__(self, settings: Settings, strike_id: int, log_path: Path) -> None:
        self.log_path = log_path
        env = {**os.environ, **settings.to_env()}
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "cli.main", "strike", str(strike_id)], cwd=REPO,
                                         env=env, stdout=log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text()

    def wait(self, timeout: float = 20) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def strike_process(settings: Settings, tmp_path: Path) -> Iterator:
    started: list[StrikeProcess] = []

    def start(strike_id: int) -> StrikeProcess:
        started.append(StrikeProcess(settings, strike_id, tmp_path / "strike.log"))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def strike_processes(strike_id: int) -> list[int]:
    """Pids of running `scale strike <strike_id>` processes (whatever started them)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"strike" in argv and str(strike_id).encode() in argv and any(b"scale" in arg for arg in argv):
            found.append(int(entry.name))
    return found


def make_strike(pg_committed: sessionmaker, mount: Path, root: Path) -> int:
    mount.mkdir()
    config = {"version": "1.0", "mount": str(mount), "transfer_suffix": "_tmp", "files_to_ingest": [
        {"filename_regex": r".*\.dat$", "workspace_path": "landed", "workspace_name": "raw"}]}
    with pg_committed.begin() as db:
        db.add(Workspace(name="raw", is_active=True,
                         json_config={"version": "1.0", "broker": {"type": "host", "host_path": str(root)}}))
        strike = Strike(name="landing", configuration=config, is_active=True)
        db.add(strike)
        db.flush()
        return strike.id


def copy_in(mount: Path, name: str, content: bytes) -> None:
    """As a transfer tool does: write under the suffix, then rename."""
    (mount / f"{name}_tmp").write_bytes(content)
    (mount / f"{name}_tmp").rename(mount / name)


def ingested(pg_committed: sessionmaker) -> dict[str, str]:
    with pg_committed() as db:
        return dict(db.execute(select(Ingest.file_name, Ingest.status)).all())


def sources(pg_committed: sessionmaker) -> int:
    with pg_committed() as db:
        return db.scalar(select(func.count()).select_from(ScaleFile))


def test_landed_files_are_ingested_and_a_restart_takes_nothing_twice(pg_committed, worker, strike_process, tmp_path):
    mount, root = tmp_path / "incoming", tmp_path / "ws"
    strike_id = make_strike(pg_committed, mount, root)
    (mount / "early.dat").write_bytes(b"already here")  # a Strike created over a full directory
    first = strike_process(strike_id)
    for index in range(5):
        copy_in(mount, f"f{index}.dat", b"data %d" % index)
    expected = {f"f{index}.dat": "INGESTED" for index in range(5)} | {"early.dat": "INGESTED"}
    try:
        wait_until(lambda: ingested(pg_committed) == expected, what="six files INGESTED", timeout=60)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- strike ---\n{first.log()}\n--- worker ---\n"
                             f"{worker.log_path.read_text()}") from None
    assert sources(pg_committed) == 6
    with pg_committed() as db:
        paths = sorted(db.scalars(select(ScaleFile.file_path)))
    assert all(path.startswith("landed/") for path in paths)
    assert (root / paths[0]).exists()
    wait_until(lambda: sorted(p.name for p in mount.iterdir()) == ["duplicate", "errored", "ingesting"]
               and not any((mount / "ingesting").iterdir()), what="the directory emptied")

    first.proc.send_signal(signal.SIGTERM)
    assert first.wait() == 0
    copy_in(mount, "late.dat", b"landed while stopped")

    second = strike_process(strike_id)
    expected["late.dat"] = "INGESTED"
    try:
        wait_until(lambda: ingested(pg_committed) == expected, what="the late file INGESTED", timeout=60)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- strike ---\n{second.log()}") from None
    assert sources(pg_committed) == 7
    with pg_committed() as db:
        assert db.scalar(select(func.count()).select_from(Ingest)) == 7  # nothing taken twice


def test_deactivating_the_strike_ends_the_process_with_0(pg_committed, strike_process, tmp_path):
    strike_id = make_strike(pg_committed, tmp_path / "incoming", tmp_path / "ws")
    process = strike_process(strike_id)
    wait_until(lambda: (tmp_path / "incoming" / "ingesting").is_dir(), what="the process to start watching",
               timeout=30)
    with pg_committed.begin() as db:
        db.get(Strike, strike_id).is_active = False
    assert process.wait(timeout=30) == 0
    assert "inactive; stopping" in process.log()


def test_the_scheduler_runs_the_strike_job_until_deactivation(pg_committed, settings, worker, tmp_path):
    mount, root = tmp_path / "incoming", tmp_path / "ws"
    mount.mkdir()
    with pg_committed.begin() as db:
        db.add(Workspace(name="raw", is_active=True,
                         json_config={"version": "1.0", "broker": {"type": "host", "host_path": str(root)}}))
        db.flush()
        strike = strikes.create_strike(db, StrikeCreate.from_json({"name": "landing", "configuration": {
            "version": "1.0", "mount": str(mount), "transfer_suffix": "_tmp", "files_to_ingest": [
                {"filename_regex": r".*\.dat$", "workspace_path": "landed", "workspace_name": "raw"}]}},
            home=settings.home))
        strike_id, job_id = strike.id, strike.job_id
    env = {**os.environ, **settings.to_env(), "SCALE_NODE_NAME": "strike-test-node"}
    with (tmp_path / "scheduler.log").open("wb") as log:
        scheduler = subprocess.Popen([sys.executable, "-m", "cli.main", "scheduler"], cwd=REPO, env=env,
                                     stdout=log, stderr=subprocess.STDOUT)

    def job_status() -> str:
        with pg_committed() as db:
            return db.scalar(select(Job.status).where(Job.id == job_id))

    try:
        wait_until(lambda: (mount / "ingesting").is_dir(), what="the strike job to start watching", timeout=60)
        assert job_status() == JobStatus.RUNNING and strike_processes(strike_id)
        copy_in(mount, "one.dat", b"first")
        copy_in(mount, "two.dat", b"second")
        wait_until(lambda: ingested(pg_committed) == {"one.dat": "INGESTED", "two.dat": "INGESTED"},
                   what="both files INGESTED", timeout=60)
        with pg_committed.begin() as db:
            strikes.edit_strike(db, strike_id, StrikeEdit.from_json({"is_active": False}, home=settings.home))
        wait_until(lambda: job_status() == JobStatus.CANCELED, what="the strike job canceled", timeout=30)
        wait_until(lambda: not strike_processes(strike_id), what="the strike process to end", timeout=30)
        with pg_committed() as db:
            exe = db.scalars(select(JobExecution).where(JobExecution.job_id == job_id)).one()
            assert exe.status == JobExecutionStatus.CANCELED
            assert db.scalar(select(func.count()).select_from(Queue).where(Queue.job_id == job_id)) == 0
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- scheduler ---\n{(tmp_path / 'scheduler.log').read_text()}") from None
    finally:
        scheduler.send_signal(signal.SIGTERM)
        scheduler.wait(timeout=30)
    assert job_status() == JobStatus.CANCELED and sources(pg_committed) == 2  # not started again
