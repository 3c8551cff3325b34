"""`scale.ingest_files` and `scale.sweep_ingests` in a real Celery worker on Redis and PostgreSQL:
an ingest sent twice stores one source file and fires its trigger rule once, and a worker killed
with SIGKILL in the middle of an ingest leaves, after a restart and the sweep, exactly one
source file and one triggered job."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from scale.ingest import transfers
from scale.ingest.transfers import CompletedFile
from scale.models.files import ScaleFile
from scale.models.ingest import Ingest, IngestStatus, Strike
from scale.models.jobs import Job
from scale.models.workspaces import Workspace
from scale.settings import Settings
from scale.specs import strike_configuration
from tests.celery_worker import CeleryWorker, redis_settings, running_worker
from tests.factories import create_file_job_type, trigger_rule
from tests.helpers import wait_until
from workers.app import make_celery
from workers.ingest_tasks import SWEEP_INGESTS, ingest_sends
from workers.sending import send_now

pytestmark = pytest.mark.integration

# A database of its own on the shared Redis, emptied before each test.
REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def settings(tmp_path: Path, pg_url: str) -> Settings:
    return redis_settings(tmp_path / "home", pg_url, REDIS_URL)


@pytest.fixture
def worker(settings: Settings, tmp_path: Path) -> Iterator[CeleryWorker]:
    with running_worker(settings, tmp_path / "worker.log") as running:
        yield running


def landed(pg_committed: sessionmaker, tmp_path: Path, content: bytes) -> tuple[int, int, Path]:
    """A workspace, a Strike, a job type triggered by its ingests, and a landed file moved into
    `ingesting/` as TRANSFERRED: returns (ingest id, job type id, workspace root)."""
    mount, root = tmp_path / "incoming", tmp_path / "ws"
    (mount / "ingesting").mkdir(parents=True)
    config = {"version": "1.0", "mount": str(mount), "files_to_ingest": [
        {"filename_regex": r".*\.txt$", "workspace_path": "in", "workspace_name": "raw"}]}
    with pg_committed.begin() as db:
        db.add(Workspace(name="raw", is_active=True,
                         json_config={"version": "1.0", "broker": {"type": "host", "host_path": str(root)}}))
        db.flush()
        job_type = create_file_job_type(db, "on-ingest", trigger_rule=trigger_rule(workspace="raw"))
        strike = Strike(name="landing", configuration=config, is_active=True)
        db.add(strike)
        db.flush()
        path = mount / "big.txt"
        path.write_bytes(content)
        [row] = transfers.register_files(db, strike.id, strike_configuration.parse(config, home=None),
                                         [CompletedFile("big.txt", path, len(content))], mount_dir=mount)
        path.rename(row.ingest_path)
        return row.id, job_type.id, root


def status_of(pg_committed: sessionmaker, ingest_id: int) -> str:
    with pg_committed() as db:
        return db.scalar(select(Ingest.status).where(Ingest.id == ingest_id))


def counts(pg_committed: sessionmaker, job_type_id: int) -> tuple[int, int]:
    with pg_committed() as db:
        return (db.scalar(select(func.count()).select_from(ScaleFile)),
                db.scalar(select(func.count()).select_from(Job).where(Job.job_type_id == job_type_id)))


def explain(error: AssertionError, worker: CeleryWorker) -> AssertionError:
    return AssertionError(f"{error}\n--- worker log ---\n{worker.log()}")


def test_an_ingest_sent_twice_stores_once_and_triggers_once(pg_committed, settings, worker, tmp_path):
    ingest_id, job_type_id, root = landed(pg_committed, tmp_path, b"hello world\n")
    app = make_celery(settings)
    send_now(app, ingest_sends([ingest_id]))
    send_now(app, ingest_sends([ingest_id]))
    try:
        wait_until(lambda: status_of(pg_committed, ingest_id) == IngestStatus.INGESTED, what="INGESTED", timeout=60)
        wait_until(lambda: counts(pg_committed, job_type_id) == (1, 1), what="one source file and one triggered job",
                   timeout=60)
        broker = redis.Redis.from_url(REDIS_URL)
        wait_until(lambda: broker.llen("celery") == 0 and broker.hlen("unacked") == 0,
                   what="every message run and acknowledged", timeout=60)
    except AssertionError as error:
        raise explain(error, worker) from None
    assert counts(pg_committed, job_type_id) == (1, 1)
    with pg_committed() as db:
        source = db.scalars(select(ScaleFile)).one()
    assert (root / source.file_path).read_bytes() == b"hello world\n"
    wait_until(lambda: not (tmp_path / "incoming" / "ingesting" / "big.txt").exists(),
               what="the original removed after the commit")


def test_a_worker_killed_mid_ingest_ingests_exactly_once_after_restart(pg_committed, settings, worker, tmp_path):
    # Big enough that checksum and copy take a few seconds: the kill lands in the middle.
    content = os.urandom(1024 * 1024) * 300
    ingest_id, job_type_id, root = landed(pg_committed, tmp_path, content)
    app = make_celery(settings)
    send_now(app, ingest_sends([ingest_id]))
    try:
        wait_until(lambda: status_of(pg_committed, ingest_id) == IngestStatus.INGESTING, what="INGESTING", timeout=60)
    except AssertionError as error:
        raise explain(error, worker) from None
    worker.kill()
    assert status_of(pg_committed, ingest_id) == IngestStatus.INGESTING  # killed in the middle
    assert counts(pg_committed, job_type_id) == (0, 0)

    worker.start()
    app.send_task(SWEEP_INGESTS, kwargs={"older_than_seconds": 0})
    try:
        wait_until(lambda: status_of(pg_committed, ingest_id) == IngestStatus.INGESTED, what="INGESTED after restart",
                   timeout=120)
        wait_until(lambda: counts(pg_committed, job_type_id) == (1, 1), what="one source file and one job", timeout=60)
        app.send_task(SWEEP_INGESTS, kwargs={"older_than_seconds": 0})  # nothing is left to re-send
        broker = redis.Redis.from_url(REDIS_URL)
        wait_until(lambda: broker.llen("celery") == 0, what="the queue to drain", timeout=60)
    except AssertionError as error:
        raise explain(error, worker) from None
    assert counts(pg_committed, job_type_id) == (1, 1)
    with pg_committed() as db:
        source = db.scalars(select(ScaleFile)).one()
        assert db.get(Ingest, ingest_id).source_file_id == source.id
    assert (root / source.file_path).stat().st_size == len(content)
    wait_until(lambda: not (tmp_path / "incoming" / "ingesting" / "big.txt").exists(),
               what="the original removed after the commit")
