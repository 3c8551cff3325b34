"""`scale strike STRIKE_ID`: one Strike's monitor (the `scale-strike` job), until SIGINT/SIGTERM.

Files the monitor finds complete are handed to `scale.ingest_files` (in batches) through the Celery app,
after the transaction that made them TRANSFERRED has committed and the monitor has moved them, so
they are sent at once (`workers.sending.send_now`: a lost send is logged, and the clock's ingest
sweep re-sends it)."""

from __future__ import annotations

import logging

from cli.signals import on_stop_signals
from scale.db import make_engine, make_sessions
from scale.ingest.monitor import StrikeMonitor
from scale.settings import Settings
from workers.app import make_celery
from workers.ingest_tasks import ingest_sends
from workers.sending import send_now

log = logging.getLogger("scale.strike")


def run_strike(settings: Settings, strike_id: int) -> int:
    """Run the monitor of Strike `strike_id`; returns the exit code (0 when stopped by a signal,
    or when the Strike was deactivated or deleted)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    engine = make_engine(settings.database_url)
    celery = make_celery(settings)
    monitor = StrikeMonitor(make_sessions(engine), strike_id,
                            mount_root=settings.mounts,
                            on_transferred=lambda ids: send_now(celery, ingest_sends(ids)),
                            settle_seconds=settings.strike_settle_seconds,
                            rescan_seconds=settings.strike_rescan_seconds)

    on_stop_signals(monitor.stop, log)
    try:
        return monitor.run()
    finally:
        engine.dispose()
