"""The clock's tick with a real Celery worker: the fired event's processor runs in the worker
(`scale.process_clock_event`), once however often the message is delivered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from clock.app import fire_clock_rules
from scale.models.metrics import JobLoad
from scale.models.triggers import TriggerEvent, TriggerRule
from scale.nodes import leadership
from scale.settings import Settings
from scale.timeutil import utcnow
from scale.triggers import clock
from tests.celery_worker import CeleryWorker, redis_settings, running_worker
from tests.factories import make_job_type, queued_job
from tests.helpers import wait_until
from workers.app import make_celery
from workers.metrics_tasks import PROCESS_CLOCK_EVENT

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def broker_settings(tmp_path: Path, database_url: str) -> Settings:
    return redis_settings(tmp_path / "home", database_url, REDIS_URL)


@pytest.fixture
def worker(broker_settings: Settings, tmp_path: Path) -> Iterator[CeleryWorker]:
    with running_worker(broker_settings, tmp_path / "worker.log") as running:
        yield running


def drained() -> bool:
    """Every message taken and its task finished: acknowledged late, a message leaves `unacked`
    only once its task has run (the worker's own task lines are not logged at INFO)."""
    broker = redis.Redis.from_url(REDIS_URL)
    try:
        return broker.llen("celery") == 0 and broker.hlen("unacked") == 0
    finally:
        broker.close()


def test_a_tick_fires_the_load_rule_and_the_worker_takes_one_sample(committed_sessions, broker_settings, worker):
    with committed_sessions.begin() as db:
        clock.ensure_built_in_rules(db)
        job_type = make_job_type(db, name="sampled")
        job_type_id = job_type.id
        queued_job(db, job_type)
        # Every built-in rule fired a while ago, so only the every-minute load rule is due now.
        an_hour_ago = utcnow() - dt.timedelta(hours=1)
        for rule in db.scalars(select(TriggerRule).where(TriggerRule.type == "CLOCK")):
            occurred = an_hour_ago if rule.name == "scale-load" else utcnow()
            db.add(TriggerEvent(type=rule.configuration["event_type"], rule_id=rule.id, description={},
                                occurred=occurred))
    celery = make_celery(broker_settings)
    [event_id] = fire_clock_rules(committed_sessions, celery, "clock-host:1:x")
    assert fire_clock_rules(committed_sessions, celery, "clock-host:1:x") == []  # the same minute fires nothing more
    with committed_sessions() as session:  # the tick reported in: /api/status/ shows a live clock
        ticking, last_fire = leadership.clock_status(session)
        assert ticking is not None and (ticking.hostname, ticking.is_online) == ("clock-host", True)
        assert last_fire is not None

    def samples() -> list[JobLoad]:
        with committed_sessions() as db:
            return list(db.scalars(select(JobLoad).where(JobLoad.job_type_id == job_type_id)))

    [sample] = wait_until(samples, what="the worker's load sample", timeout=30)
    assert (sample.queued_count, sample.total_count) == (1, 1)
    celery.send_task(PROCESS_CLOCK_EVENT, args=[event_id])  # a redelivery
    celery.send_task(PROCESS_CLOCK_EVENT, args=[event_id])
    wait_until(drained, what="the redeliveries to be processed", timeout=30)
    with committed_sessions() as db:
        assert db.scalar(select(func.count()).select_from(JobLoad).where(JobLoad.job_type_id == job_type_id)) == 1
