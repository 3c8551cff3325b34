"""Two clocks on one PostgreSQL database fire each slot exactly once: `fire_due_rules` locks
the CLOCK rules before it reads the last events (scale/triggers/clock.py)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from scale.db import make_engine
from scale.models.triggers import TriggerEvent, TriggerRule
from scale.timeutil import UTC
from scale.triggers import clock
from tests.conftest import truncate_runtime_tables

pytestmark = pytest.mark.integration

SLOTS = 60
CLOCKS = 2
START = dt.datetime(2015, 1, 1, tzinfo=UTC)


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url, pool_size=CLOCKS + 1)
    yield engine
    truncate_runtime_tables(engine)
    engine.dispose()


def run_clock(sessions: sessionmaker, barriers: list[threading.Barrier], fired: list[int],
              errors: list[BaseException]) -> None:
    try:
        for slot, barrier in enumerate(barriers):
            barrier.wait()  # both clocks tick the same minute at once
            with sessions.begin() as session:
                now = START + dt.timedelta(minutes=slot + 1, seconds=1)
                fired.extend(event.id for event in clock.fire_due_rules(session, now=now))
    except BaseException as error:  # reported by the test
        errors.append(error)


def test_two_clocks_fire_each_slot_once(pg_engine: Engine):
    sessions = sessionmaker(bind=pg_engine, expire_on_commit=False)
    with sessions.begin() as session:
        session.add(TriggerRule(type="CLOCK", name="scale-load", is_active=True, created=START, last_modified=START,
                                configuration={"version": "1.0", "event_type": "SCALE_LOAD", "schedule": "PT1M0S"}))
    barriers = [threading.Barrier(CLOCKS) for _ in range(SLOTS)]
    fired: list[int] = []
    errors: list[BaseException] = []
    threads = [threading.Thread(target=run_clock, args=(sessions, barriers, fired, errors)) for _ in range(CLOCKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with sessions() as session:
        occurred = session.scalars(select(TriggerEvent.occurred).where(TriggerEvent.type == "SCALE_LOAD")).all()
        assert session.scalar(select(func.count()).select_from(TriggerEvent)) == SLOTS
    assert len(fired) == SLOTS
    assert len(set(occurred)) == SLOTS
