"""Trigger evaluation across connections and processes: two evaluations of one file racing on
two connections, a parse rule fired by a real job run (the runner with the process runner), and
a real Celery worker on Redis running `scale.evaluate_triggers` sent twice, the scheduler's
after-execution hook and the `scale.sweep_triggers` sweep."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from cli.scheduler import after_execution
from scale.execution.base import Outcome
from scale.execution.runner import run_execution
from scale.models.ingest import Ingest, IngestStatus
from scale.models.jobs import Job
from scale.models.triggers import TriggerEvent
from scale.settings import Settings
from scale.triggers.service import evaluate_triggers, parsed_files_due
from tests.celery_worker import CeleryWorker, redis_settings, running_worker
from tests.factories import RunnerSetup, add_source, create_file_job_type, trigger_rule
from tests.helpers import wait_until
from workers.app import make_celery
from workers.sending import send_now
from workers.trigger_tasks import SWEEP_TRIGGERS, evaluate_sends

pytestmark = pytest.mark.integration

# A database of its own on the shared Redis, emptied before each test.
REDIS_URL = "redis://127.0.0.1:6379/12"

# Records parse results for its input (data type TXT) and writes one product.
PARSING_SCRIPT = """
echo product > "$3/made.txt"
echo "ARTIFACT:out:$3/made.txt"
echo '{"parse_results": [{"filename": "input.txt", "data_types": ["TXT"]}]}' > "$3/results_manifest.json"
"""


def jobs_of_type(session, job_type_id: int) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.job_type_id == job_type_id)))


def test_two_connections_evaluating_one_file_create_one_job(committed_sessions, tmp_path):
    with committed_sessions.begin() as db:
        setup = RunnerSetup(db, tmp_path)
        job_type = create_file_job_type(db, trigger_rule=trigger_rule(workspace="ws"))
        source = add_source(db, setup.workspace)
        job_type_id, source_id = job_type.id, source.id
    barrier = threading.Barrier(2)
    fired: list[int] = []
    failures: list[BaseException] = []

    def evaluate() -> None:
        try:
            barrier.wait(timeout=10)
            with committed_sessions.begin() as session:
                fired.append(len(evaluate_triggers(session, "INGEST", source_id)))
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=evaluate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sorted(fired) == [0, 1]
    with committed_sessions() as db:
        assert len(jobs_of_type(db, job_type_id)) == 1
        assert db.scalar(select(func.count()).select_from(TriggerEvent)
                         .where(TriggerEvent.source_file_id == source_id)) == 1


def test_parse_rule_fires_for_the_file_a_real_job_parsed(sessions, tmp_path):
    with sessions.begin() as db:
        setup = RunnerSetup(db, tmp_path)
        on_parse = create_file_job_type(db, "on-parse",
                                        trigger_rule=trigger_rule("PARSE", data_types=("TXT",), workspace="ws"))
        exe = setup.job(db, PARSING_SCRIPT)
        exe_id, job_id, on_parse_id, source_id = exe.id, exe.job_id, on_parse.id, setup.input_file.id

    assert run_execution(sessions, exe_id, work_root=setup.work_root, poll_interval=0.05).outcome == Outcome.COMPLETED

    with sessions.begin() as db:
        assert parsed_files_due(db, job_id) == [source_id]
        [event] = evaluate_triggers(db, "PARSE", source_id)
    with sessions() as db:
        [job] = jobs_of_type(db, on_parse_id)
        assert job.event_id == event.id and event.type == "PARSE" and event.source_file_id == source_id
        assert job.data["input_data"] == [{"name": "input_file", "file_id": source_id}]
        assert parsed_files_due(db, job_id) == []


@pytest.fixture
def broker_settings(tmp_path: Path, database_url: str) -> Settings:
    """The test's database (PostgreSQL or SQLite) with Redis as the broker."""
    return redis_settings(tmp_path / "home", database_url, REDIS_URL)


@pytest.fixture
def worker(broker_settings: Settings, tmp_path: Path) -> Iterator[CeleryWorker]:
    with running_worker(broker_settings, tmp_path / "worker.log") as running:
        yield running


def test_worker_evaluates_ingest_and_parse_triggers_once(committed_sessions, broker_settings, worker, tmp_path):
    with committed_sessions.begin() as db:
        setup = RunnerSetup(db, tmp_path)
        on_ingest = create_file_job_type(db, "on-ingest", trigger_rule=trigger_rule(workspace="ws"))
        on_parse = create_file_job_type(db, "on-parse",
                                        trigger_rule=trigger_rule("PARSE", data_types=("TXT",), workspace="ws"))
        source_id = setup.input_file.id
        db.add(Ingest(file_name="input.txt", status=IngestStatus.INGESTED, source_file_id=source_id))
        swept = add_source(db, setup.workspace)  # ingested, but its evaluation was never sent
        exe_id = setup.job(db, PARSING_SCRIPT).id
        on_ingest_id, on_parse_id, swept_id = on_ingest.id, on_parse.id, swept.id

    app = make_celery(broker_settings)
    broker = redis.Redis.from_url(REDIS_URL)

    def count_jobs(job_type_id: int, file_id: int) -> int:
        with committed_sessions() as db:
            return sum(job.data["input_data"][0]["file_id"] == file_id for job in jobs_of_type(db, job_type_id))

    def drained() -> bool:
        # Acknowledged late: a message leaves `unacked` only once its task has finished.
        return broker.llen("celery") == 0 and broker.hlen("unacked") == 0

    try:
        # The same evaluation twice: the second finds the rule fired.
        send_now(app, evaluate_sends("INGEST", [source_id]))
        send_now(app, evaluate_sends("INGEST", [source_id]))
        wait_until(lambda: count_jobs(on_ingest_id, source_id), what="the ingest-triggered job", timeout=60)
        wait_until(drained, what="the worker to run and acknowledge both messages", timeout=30)

        # A real run records parse results; the scheduler's hook sends the PARSE evaluation.
        result = run_execution(committed_sessions, exe_id, work_root=setup.work_root, poll_interval=0.05)
        assert result.outcome == Outcome.COMPLETED
        after_execution(broker_settings, committed_sessions)(exe_id)
        wait_until(lambda: count_jobs(on_parse_id, source_id), what="the parse-triggered job", timeout=60)

        app.send_task(SWEEP_TRIGGERS)
        wait_until(lambda: count_jobs(on_ingest_id, swept_id), what="the sweep to evaluate the lost file", timeout=60)
        wait_until(drained, what="the worker to finish the sweep's evaluations", timeout=30)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- worker log ---\n{worker.log()}") from None

    assert count_jobs(on_ingest_id, source_id) == 1
    assert count_jobs(on_parse_id, source_id) == 1
    assert count_jobs(on_ingest_id, swept_id) == 1
    with committed_sessions() as db:
        assert db.scalar(select(func.count()).select_from(Ingest).where(Ingest.triggered.is_(None))) == 0
