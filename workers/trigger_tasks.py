"""Trigger evaluation tasks: ingested and parsed source files fire their trigger rules.

Send `scale.evaluate_triggers` only after the ingest (or the parse results) has committed
(`workers.sending`); evaluation is idempotent per (rule, source file), so a duplicate delivery
creates nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import shared_task

from scale.triggers import service as triggers
from workers.sending import TaskSend, send_after_commit
from workers.system_task import SystemTask

logger = logging.getLogger(__name__)

EVALUATE_TRIGGERS = "scale.evaluate_triggers"
SWEEP_TRIGGERS = "scale.sweep_triggers"
# Source files per task: one transaction, and a fixed handful of statements, for a batch of evaluations.
BATCH = 20


@shared_task(bind=True, name=EVALUATE_TRIGGERS, base=SystemTask)
def evaluate_triggers(self, kind: str, source_file_ids: list[int]) -> list[int]:
    """Fire the `kind` ("INGEST" or "PARSE") trigger rules each source file meets and that have
    not fired for it, in one transaction; returns the ids of the trigger events recorded."""
    with self.app.sessions().begin() as session:
        events = triggers.evaluate_triggers_many(session, kind, source_file_ids)
        session.flush()
        return [event.id for event in events]


@shared_task(bind=True, name=SWEEP_TRIGGERS, base=SystemTask)
def sweep_triggers(self) -> dict[str, list[int]]:
    """Re-send evaluations that were lost (a crash between commit and send, or a lost message):
    the clock sends this periodically. Returns the source file ids sent, by kind."""
    with self.app.sessions().begin() as session:
        due = triggers.files_needing_evaluation(session)
        for kind, file_ids in due.items():
            send_after_commit(session, self.app, evaluate_sends(kind, file_ids))
    return due


def evaluate_sends(kind: str, source_file_ids: Iterable[int]) -> list[TaskSend]:
    """`scale.evaluate_triggers` for the source file ids, in batches of `BATCH`, to send after the
    transaction that ingested (INGEST) or parsed (PARSE) the files has committed."""
    ids = sorted(set(source_file_ids))
    return [TaskSend(EVALUATE_TRIGGERS, (kind, ids[first:first + BATCH])) for first in range(0, len(ids), BATCH)]
