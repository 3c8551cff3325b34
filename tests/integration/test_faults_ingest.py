"""Faults while files are ingested, each ending with every file INGESTED exactly once (one
ingest and one source file per name, no DUPLICATE made by a retry) and nothing left in flight:
Redis killed (SIGKILL, no persistence: every queued message lost) and started again on its
port while a Strike, a worker and a scheduler are busy; `scale worker` killed with SIGKILL in
the middle of 1,000 files; and a burst of files larger than the Strike's inotify queue.

One stack for the module: a `redis-server` of its own and one `scale worker` (restarted by the
test that kills it); each test runs its own `scale strike` (and scheduler) on its own Strike.
Where production waits for the clock's sweep (`scale.sweep_ingests`, every minute, for ingests
untouched a minute), the tests send that sweep themselves at once."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from scale.definitions import job_types
from scale.definitions.commands import JobTypeCreate
from scale.models.ingest import Ingest, IngestStatus, Strike
from scale.models.jobs import Job, JobStatus
from scale.models.workspaces import Workspace
from scale.settings import Settings
from tests.fault_stack import (
    RedisServer,
    ScaleProcess,
    completed_executions_per_job,
    count,
    ingest_statuses,
    ingests_per_name,
    job_statuses,
    sources_per_name,
)
from tests.helpers import wait_until
from workers.app import make_celery
from workers.ingest_tasks import SWEEP_INGESTS

pytestmark = pytest.mark.integration

INGESTED = select(func.count()).select_from(Ingest).where(Ingest.status == IngestStatus.INGESTED)
NOOP = {"version": "1.0", "command": "/bin/true", "command_arguments": "${input_file}",
        "input_data": [{"name": "input_file", "type": "file", "media_types": ["text/plain"]}], "output_data": []}
MAX_QUEUED_EVENTS = Path("/proc/sys/fs/inotify/max_queued_events")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, pg_url: str, redis_server: RedisServer) -> Settings:
    home = tmp_path_factory.mktemp("stack") / "home"
    return replace(Settings.embedded(home), database_url=pg_url, broker_url=redis_server.url,
                   work_root=home.parent / "work", strike_rescan_seconds=1.0, strike_settle_seconds=1.0)


@pytest.fixture(scope="module")
def worker(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaleProcess]:
    process = ScaleProcess(settings, ["worker", "--concurrency", "2"],
                           tmp_path_factory.mktemp("worker") / "worker.log").start()
    yield process
    process.stop()


def make_strike(sessions: sessionmaker, tmp_path: Path, *, trigger: bool = False) -> tuple[int, Path]:
    """A workspace, a Strike on `tmp_path/incoming` storing `*.txt` into it, and (with `trigger`)
    a no-op job type each ingested file triggers. Returns (strike id, incoming directory)."""
    mount, root = tmp_path / "incoming", tmp_path / "ws"
    mount.mkdir()
    with sessions.begin() as db:
        db.add(Workspace(name="raw", is_active=True,
                         json_config={"version": "1.0", "broker": {"type": "host", "host_path": str(root)}}))
        strike = Strike(name="landing", is_active=True, configuration={
            "version": "1.0", "mount": str(mount), "transfer_suffix": "_tmp",
            "files_to_ingest": [{"filename_regex": r".*\.txt$", "workspace_path": "in", "workspace_name": "raw"}]})
        db.add(strike)
        db.flush()
        if trigger:
            job_types.create_job_type(db, JobTypeCreate.from_json({
                "name": "on-ingest", "version": "1.0", "interface": NOOP, "cpus_required": 0.05, "mem_required": 1,
                "disk_out_const_required": 0, "max_tries": 3, "trigger_rule": {
                    "type": "INGEST", "name": "every-text-file", "configuration": {
                        "version": "1.0", "condition": {"media_type": "text/plain", "data_types": []},
                        "data": {"input_data_name": "input_file", "workspace_name": "raw"}}}}))
        return strike.id, mount


def land(mount: Path, names: list[str]) -> None:
    """As a transfer tool does: write each file under the transfer suffix, then rename it."""
    for name in names:
        partial = mount / f"{name}_tmp"
        partial.write_bytes(f"the content of {name}\n".encode())
        os.rename(partial, mount / name)


class Sweeps:
    """The clock's ingest sweep, sent by the test at most every `every` seconds."""

    def __init__(self, settings: Settings, every: float = 5.0) -> None:
        self.app = make_celery(settings)
        self.every = every
        self.last = float("-inf")

    def until_ingested(self, sessions: sessionmaker, names: list[str]) -> bool:
        """True once every file is INGESTED; meanwhile sweeps for every ingest in flight."""
        if count(sessions, INGESTED) == len(names):
            return True
        if time.monotonic() - self.last > self.every:
            self.last = time.monotonic()
            self.app.send_task(SWEEP_INGESTS, kwargs={"older_than_seconds": 0})
        return False


def explain(error: AssertionError, sessions: sessionmaker, *processes: ScaleProcess) -> AssertionError:
    logs = "\n".join(f"--- {process.log_path.name} (tail) ---\n{process.log()[-6000:]}" for process in processes)
    return AssertionError(f"{error}\ningests: {ingest_statuses(sessions)}, jobs: {job_statuses(sessions)}\n{logs}")


def assert_every_file_ingested_once(sessions: sessionmaker, names: list[str], mount: Path) -> None:
    assert ingest_statuses(sessions) == {IngestStatus.INGESTED: len(names)}
    assert ingests_per_name(sessions) == dict.fromkeys(names, 1)
    assert sources_per_name(sessions) == dict.fromkeys(names, 1)
    wait_until(lambda: not any((mount / "ingesting").iterdir()) and not any((mount / "duplicate").iterdir()),
               what="the Strike's folders emptied", timeout=30)
    assert sorted(path.name for path in mount.iterdir()) == ["duplicate", "errored", "ingesting"]


def strike_process(settings: Settings, strike_id: int, tmp_path: Path, **env: str) -> ScaleProcess:
    process = ScaleProcess(settings, ["strike", str(strike_id)], tmp_path / "strike.log", env=env).start()
    wait_until(lambda: "watching" in process.log(), what="the Strike to watch its directory", timeout=30)
    return process


def test_redis_killed_and_restarted_mid_ingest_loses_no_file_and_no_job(
        pg_committed: sessionmaker, settings: Settings, worker: ScaleProcess, redis_server: RedisServer,
        tmp_path: Path):
    names = [f"r{n:04d}.txt" for n in range(300)]
    strike_id, mount = make_strike(pg_committed, tmp_path, trigger=True)
    strike = strike_process(settings, strike_id, tmp_path)
    scheduler = ScaleProcess(settings, ["scheduler"], tmp_path / "scheduler.log",
                             env={"SCALE_NODE_NAME": "redis-fault-node"}).start()
    triggered = select(func.count()).select_from(Job).where(Job.event_id.is_not(None))
    try:
        land(mount, names[:150])
        wait_until(lambda: count(pg_committed, INGESTED) >= 20 and count(pg_committed, triggered) >= 5,
                   what="ingests and their jobs under way", timeout=60)
        redis_server.kill()
        land(mount, names[150:])  # sent to a broker that is down: lost, and swept later
        time.sleep(3)  # Redis stays away a while, not a wait for a result
        redis_server.start()
        sweeps = Sweeps(settings)
        wait_until(lambda: sweeps.until_ingested(pg_committed, names), what="every file INGESTED", timeout=120)
        done = select(func.count()).select_from(Job).where(Job.status == JobStatus.COMPLETED)
        wait_until(lambda: count(pg_committed, done) == len(names), what="every triggered job COMPLETED",
                   timeout=120)
        assert_every_file_ingested_once(pg_committed, names, mount)
    except AssertionError as error:
        raise explain(error, pg_committed, strike, worker, scheduler) from None
    finally:
        strike.stop()
        scheduler.stop()
    assert job_statuses(pg_committed) == {JobStatus.COMPLETED: len(names)}
    assert set(completed_executions_per_job(pg_committed).values()) == {1}


def test_kill_9_of_the_worker_in_the_middle_of_1000_files_ingests_each_once(
        pg_committed: sessionmaker, settings: Settings, worker: ScaleProcess, tmp_path: Path):
    names = [f"k{n:04d}.txt" for n in range(1000)]
    strike_id, mount = make_strike(pg_committed, tmp_path)
    strike = strike_process(settings, strike_id, tmp_path)
    try:
        land(mount, names)
        wait_until(lambda: count(pg_committed, INGESTED) >= 200, what="a fifth of the files INGESTED", timeout=60)
        worker.kill()
        interrupted = count(pg_committed, INGESTED)
        assert interrupted < len(names), "the kill came too late to interrupt anything"
        worker.start()
        sweeps = Sweeps(settings)
        wait_until(lambda: sweeps.until_ingested(pg_committed, names), what="every file INGESTED", timeout=120)
        assert_every_file_ingested_once(pg_committed, names, mount)
    except AssertionError as error:
        raise explain(error, pg_committed, strike, worker) from None
    finally:
        strike.stop()


@pytest.fixture
def small_inotify_queue() -> Iterator[int]:
    """`fs.inotify.max_queued_events` lowered to 64 (it applies to inotify instances made
    while it is set, so the test puts it back as soon as the Strike watches); restored in
    teardown too."""
    try:
        original = MAX_QUEUED_EVENTS.read_text()
        MAX_QUEUED_EVENTS.write_text("64")
    except OSError as error:
        pytest.skip(f"cannot lower {MAX_QUEUED_EVENTS} ({error.strerror}): it takes root outside a read-only /proc")
    try:
        yield int(original)
    finally:
        MAX_QUEUED_EVENTS.write_text(original)


def test_a_burst_overflowing_the_inotify_queue_is_listed_at_once(
        pg_committed: sessionmaker, settings: Settings, worker: ScaleProcess, small_inotify_queue: int,
        tmp_path: Path):
    names = [f"b{n:04d}.txt" for n in range(2000)]
    strike_id, mount = make_strike(pg_committed, tmp_path)
    # A rescan only every 10 minutes: what lands after the events are lost is found by the
    # listing the overflow starts, or not at all within the test.
    strike = strike_process(settings, strike_id, tmp_path, SCALE_STRIKE_RESCAN_SECONDS="600")
    MAX_QUEUED_EVENTS.write_text(str(small_inotify_queue))
    try:
        land(mount, names)
        wait_until(lambda: count(pg_committed, INGESTED) == len(names), what="every file INGESTED", timeout=120)
        assert_every_file_ingested_once(pg_committed, names, mount)
    except AssertionError as error:
        raise explain(error, pg_committed, strike, worker) from None
    finally:
        strike.stop()
    assert re.search(r"inotify queue overflowed.*listing", strike.log()), strike.log()[-3000:]
