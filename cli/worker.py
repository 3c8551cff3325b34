"""`scale worker`: the Celery worker for system tasks, in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import os
import socket
import warnings

from celery.exceptions import SecurityWarning

from cli.logs import configure_logging
from scale.db import is_sqlite
from scale.settings import Settings
from workers.app import make_celery

log = logging.getLogger("scale.worker")


def run_worker(settings: Settings, *, concurrency: int | None = None) -> int:
    """Run a worker for `settings` until SIGINT/SIGTERM (a warm shutdown: the running task is
    finished); returns the process exit code.

    On the embedded SQLite default one child does the work: SQLite has one writer at a time,
    so more children would only wait on each other. Elsewhere two per CPU: ingest tasks spend
    much of their time waiting on fsync (the stored file's, then the commit's), not on the CPU;
    with one child per CPU, bench/ingest's queue of ingest tasks grew while the children idled."""
    if concurrency is None:
        concurrency = 1 if is_sqlite(settings.database_url) else 2 * (os.cpu_count() or 1)
    configure_logging("worker")
    # Celery warns in a block of text when it runs as root; Scale says it in one line, and the
    # README says how to run as another user ("Running as a non-root user").
    warnings.filterwarnings("ignore", category=SecurityWarning)
    if os.geteuid() == 0:
        log.warning("running as root: jobs run as root too (README: 'Running as a non-root user')")
    app = make_celery(settings)
    worker = app.Worker(hostname=f"scale@{socket.gethostname()}", loglevel="INFO", pool_cls="prefork",
                        concurrency=concurrency, quiet=True)
    worker.start()
    return int(worker.exitcode or 0)
