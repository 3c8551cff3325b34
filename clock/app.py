"""`scale clock`: sends Scale's periodic tasks until SIGINT/SIGTERM.

Each periodic job only *sends* a Celery task, so the clock stays light and a slow task never
delays the next tick. The recipe sweep re-sends recipe advancement that was lost (a crash
between a commit and its send, or a message the embedded broker dropped)."""

from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler

from cli.signals import on_stop_signals
from scale.settings import Settings
from workers.app import make_celery
from workers.ingest_tasks import SWEEP_INGESTS
from workers.tasks import SWEEP_RECIPES
from workers.trigger_tasks import SWEEP_TRIGGERS

log = logging.getLogger("scale.clock")

SWEEP_RECIPES_EVERY_S = 60


def run_clock(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    celery = make_celery(settings)
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(lambda: celery.send_task(SWEEP_RECIPES), "interval",
                      seconds=SWEEP_RECIPES_EVERY_S, id="sweep-recipes", coalesce=True,
                      max_instances=1)
    scheduler.add_job(lambda: celery.send_task(SWEEP_TRIGGERS), "interval", seconds=SWEEP_RECIPES_EVERY_S,
                      id="sweep-triggers", coalesce=True, max_instances=1)
    scheduler.add_job(lambda: celery.send_task(SWEEP_INGESTS), "interval", seconds=SWEEP_RECIPES_EVERY_S,
                      id="sweep-ingests", coalesce=True, max_instances=1)

    on_stop_signals(lambda: scheduler.shutdown(wait=False), log)
    log.info("clock started")
    scheduler.start()
    log.info("clock stopped")
    return 0
