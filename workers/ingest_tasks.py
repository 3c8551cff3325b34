"""Ingest tasks: store a file a Strike (or a scan) found in its workspace, and re-send lost ones.

`scale.ingest_file` is idempotent (`scale.ingest.service.ingest_file`), acknowledged late, and
sends trigger evaluation only after the ingest committed as INGESTED."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from celery import Celery, current_app, shared_task
from sqlalchemy.exc import OperationalError

from scale.ingest import service as ingests
from workers.trigger_tasks import send_evaluate_triggers

INGEST_FILE = "scale.ingest_file"
SWEEP_INGESTS = "scale.sweep_ingests"
# An ingest in flight and untouched for this long lost its task; the clock's sweep re-sends it.
STUCK_AFTER_S = 60.0
_RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(bind=True, name=INGEST_FILE, **_RETRY)
def ingest_file(self, ingest_id: int) -> str:
    """Store the ingest's file in its workspace; returns the outcome (INGESTED, DUPLICATE,
    ERRORED or NOTHING_TO_DO)."""
    result = ingests.ingest_file(self.app.sessions(), ingest_id)
    if result.outcome == "INGESTED" and result.source_file_id is not None:
        send_evaluate_triggers("INGEST", [result.source_file_id], app=self.app)
    return result.outcome


@shared_task(bind=True, name=SWEEP_INGESTS, **_RETRY)
def sweep_ingests(self, older_than_seconds: float = STUCK_AFTER_S) -> list[int]:
    """Re-send `scale.ingest_file` for ingests stuck TRANSFERRED or INGESTING; returns their ids."""
    with self.app.sessions().begin() as session:
        ids = ingests.ingests_to_resend(session, older_than=dt.timedelta(seconds=older_than_seconds))
    send_ingest(ids, app=self.app)
    return ids


def send_ingest(ingest_ids: Iterable[int], *, app: Celery | None = None) -> None:
    """Send `scale.ingest_file` once for each ingest id. Call it only AFTER the transaction that
    made the ingests TRANSFERRED has committed (and the monitor moved their files)."""
    sender = app if app is not None else current_app
    for ingest_id in sorted(set(ingest_ids)):
        sender.send_task(INGEST_FILE, args=[ingest_id])
