"""A real Celery worker process advances recipes: `scale.advance_recipe` sent through Redis
(and through the embedded filesystem broker) is run by `cli.worker.run_worker` in a child
process against a committed database, and queues the recipe's next job exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from scale.models.jobs import Job, JobExecution, JobStatus
from scale.recipes import service
from scale.recipes.commands import NewRecipe
from scale.settings import Settings
from tests.celery_worker import CeleryWorker, running_worker
from tests.factories import finish_job, jobs_of, make_world, new_recipe_body
from tests.helpers import wait_until
from workers.app import make_celery
from workers.sending import send_now
from workers.tasks import advance_sends

pytestmark = pytest.mark.integration

# A database of its own on the shared Redis, emptied before each test.
REDIS_URL = "redis://127.0.0.1:6379/7"


@pytest.fixture(params=["redis", "filesystem"])
def settings_for_worker(request: pytest.FixtureRequest, tmp_path: Path, pg_url: str) -> Settings:
    """PostgreSQL with Redis (production) or with the embedded default's filesystem broker."""
    settings = replace(Settings.embedded(tmp_path / "home"), database_url=pg_url)
    if request.param == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()
        settings = replace(settings, broker_url=REDIS_URL)
    return settings


@pytest.fixture
def worker(settings_for_worker: Settings, tmp_path: Path) -> Iterator[CeleryWorker]:
    with running_worker(settings_for_worker, tmp_path / "worker.log") as running:
        yield running


def test_worker_queues_the_next_job_once(pg_committed, settings_for_worker, worker, tmp_path):
    with pg_committed() as db:
        world = make_world(db, tmp_path)
        recipe = service.queue_new_recipe(db, NewRecipe.from_json(new_recipe_body(world)))
        db.commit()
        jobs = jobs_of(db, recipe.id)
        finish_job(db, jobs["first"], JobStatus.COMPLETED, output_file_id=world["source"].id)
        recipe_id, second_id = recipe.id, jobs["second"].id

    app = make_celery(settings_for_worker)
    # The same advance twice: the second must find nothing to do.
    send_now(app, advance_sends([recipe_id]))
    send_now(app, advance_sends([recipe_id]))

    def second_status() -> str:
        with pg_committed() as db:
            return db.scalar(select(Job.status).where(Job.id == second_id))

    try:
        wait_until(lambda: second_status() == JobStatus.QUEUED, what="the second job to be queued", timeout=60)
        if settings_for_worker.broker_url == REDIS_URL:
            # Acknowledged late: a message leaves `unacked` only once its task has finished.
            broker = redis.Redis.from_url(REDIS_URL)
            wait_until(lambda: broker.llen("celery") == 0 and broker.hlen("unacked") == 0,
                       what="the worker to run and acknowledge both messages", timeout=30)
        else:
            # This transport deletes a message when it is taken. One child taking one message at a
            # time takes the next only after finishing the last, so once a third message is taken
            # the first two have run.
            queue_dir = settings_for_worker.home / "broker" / "queue"
            def all_taken() -> bool:
                return not any(queue_dir.iterdir())

            wait_until(all_taken, what="the worker to take both messages", timeout=30)
            send_now(app, advance_sends([recipe_id]))
            wait_until(all_taken, what="the worker to take the third message", timeout=30)
    except AssertionError as error:
        raise AssertionError(f"{error}\n--- worker log ---\n{worker.log()}") from None

    with pg_committed() as db:
        executions = db.scalar(select(func.count()).select_from(JobExecution).where(JobExecution.job_id == second_id))
        assert executions == 1
        assert db.get(Job, second_id).num_exes == 1
