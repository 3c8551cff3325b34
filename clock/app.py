"""`scale clock`: fires clock trigger rules and sends Scale's periodic tasks until SIGINT/SIGTERM.

Every minute, on the minute, the clock records an event for each CLOCK rule that is due
(`scale.triggers.clock`) and, once that has committed, sends `scale.process_clock_event` for
it, so a slow processor never delays the next tick. Several clocks may run: the rules' row
locks make each slot fire once. The sweeps re-send work that was lost (a crash between a
commit and its send, or a message the embedded broker dropped)."""

from __future__ import annotations

import logging
import os
import socket
import uuid

from apscheduler.schedulers.blocking import BlockingScheduler
from celery import Celery
from sqlalchemy.orm import sessionmaker

from scale.db import make_engine, make_sessions
from scale.nodes import leadership
from scale.settings import Settings
from scale.timeutil import utcnow
from scale.triggers import clock
from workers.app import make_celery
from workers.ingest_tasks import SWEEP_INGESTS
from workers.metrics_tasks import clock_event_sends
from workers.sending import send_after_commit
from workers.tasks import SWEEP_RECIPES
from workers.trigger_tasks import SWEEP_TRIGGERS

log = logging.getLogger("scale.clock")

# How often each sweep re-sends committed work whose task was lost.
SWEEP_EVERY_S = 60


def fire_clock_rules(sessions: sessionmaker, celery: Celery, instance: str) -> list[int]:
    """One tick: report in as clock `instance` (/api/status/ shows a clock that ticks), fire the
    due CLOCK rules, then send their events to a worker; returns the event ids."""
    with sessions.begin() as session:
        leadership.report_in(session, f"{leadership.CLOCK_ROLE_PREFIX}{instance}", instance)
        event_ids = [event.id for event in clock.fire_due_rules(session)]
        send_after_commit(session, celery, clock_event_sends(event_ids))
    if event_ids:
        log.info("clock fired events %s", event_ids)
    return event_ids


def make_clock(settings: Settings) -> BlockingScheduler:
    """The clock's scheduler with its jobs, not started: the built-in rules are made first."""
    celery = make_celery(settings)
    sessions = make_sessions(make_engine(settings.database_url))
    with sessions.begin() as session:
        clock.ensure_built_in_rules(session)
    scheduler = BlockingScheduler(timezone="UTC")
    # On the minute, and once at start so a slot missed while the clock was down fires now.
    instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    scheduler.add_job(fire_clock_rules, "cron", args=(sessions, celery, instance), second=0, id="clock-rules",
                      name="fire due clock rules", next_run_time=utcnow(), coalesce=True, max_instances=1,
                      misfire_grace_time=30)
    for task, what in ((SWEEP_RECIPES, "recipes"), (SWEEP_TRIGGERS, "triggers"), (SWEEP_INGESTS, "ingests")):
        scheduler.add_job(celery.send_task, "interval", args=(task,), seconds=SWEEP_EVERY_S, id=f"sweep-{what}",
                          name=f"sweep {what}", coalesce=True, max_instances=1)
    return scheduler


def run_clock(scheduler: BlockingScheduler) -> int:
    """Run `scheduler` until it is shut down (the caller wires that to the stop signals)."""
    log.info("clock started")
    scheduler.start()
    log.info("clock stopped")
    return 0
