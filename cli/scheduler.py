"""`scale scheduler`: the scheduler process, until SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.orm import sessionmaker

from cli.logs import configure_logging
from cli.signals import on_stop_signals
from scale.db import make_engine, make_sessions
from scale.models.triggers import TriggerRuleType
from scale.scheduler.followups import execution_followups
from scale.scheduler.loop import SchedulerLoop
from scale.scheduler.managers import make_manager
from scale.settings import Settings
from workers.app import make_celery
from workers.sending import send_now
from workers.tasks import advance_sends
from workers.trigger_tasks import evaluate_sends

log = logging.getLogger("scale.scheduler")
# Runner threads each take a connection for a few milliseconds per transaction, and under CPU
# contention many hold one at once. With the default pool (5, plus 10 overflow connections
# closed on return) the scheduler opened a new PostgreSQL connection for about every other
# job (bench/throughput: 280 sessions for 600 jobs, 40 jobs/s); with 32 kept open it opened
# about 20 in all and ran 60 jobs/s. The overflow is small: PostgreSQL allows 100 connections.
POOL_SIZE = 32
POOL_OVERFLOW = 8


def run_scheduler(settings: Settings) -> int:
    """Run the scheduler loop with the manager `settings.resource_manager` names until
    SIGINT or SIGTERM. Running executions are asked to stop on the way out; the next start
    reconciles them. Returns the process exit code."""
    configure_logging("scheduler")
    engine = make_engine(settings.database_url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    sessions = make_sessions(engine)
    stop = threading.Event()

    on_stop_signals(stop.set, log)
    try:
        if settings.resource_manager == "celery":
            connect_nodes(settings)
        manager = make_manager(settings, sessions, on_finished=after_execution(settings, sessions))
        log.info("scheduler started with the %s resource manager", manager.name)
        SchedulerLoop(sessions, manager).run(stop)
    finally:
        engine.dispose()
    log.info("scheduler stopped")
    return 0


def connect_nodes(settings: Settings) -> None:
    """Give the celery resource manager its way to the `scale node` processes (imported here:
    the other managers' schedulers need none of the node worker's modules)."""
    from scale.scheduler.managers.celery import use_channel
    from workers.node import CeleryNodeChannel

    use_channel(CeleryNodeChannel(make_celery(settings)))


def after_execution(settings: Settings, sessions: sessionmaker) -> Callable[[int], None]:
    """After an execution ends (its outcome committed by the runner), send the advancement of
    the recipe its job belongs to, so the next jobs queue without waiting for the clock, and
    the parse trigger evaluations of the source files whose parse results the job recorded.
    The runner has committed already, so they are sent at once (`workers.sending.send_now`)."""
    celery = make_celery(settings)

    def after(job_exe_id: int) -> None:
        with sessions() as session:
            followups = execution_followups(session, job_exe_id)
        send_now(celery, advance_sends(followups.recipe_ids)
                 + evaluate_sends(TriggerRuleType.PARSE.value, followups.parsed_source_ids))

    return after
