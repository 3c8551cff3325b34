"""Ingest tasks: store the files a Strike (or a scan) found in their workspaces, and re-send lost ones.

`scale.ingest_files` takes a batch of ingest ids (a few transactions per batch, not per file),
is idempotent (`scale.ingest.service.ingest_files`), acknowledged late, and evaluates the
ingested files' INGEST trigger rules (`scale.triggers.service.evaluate_triggers_many`, itself
idempotent) only after the ingests committed as INGESTED."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from celery import shared_task

from scale.ingest import service as ingests
from scale.models.triggers import TriggerRuleType
from scale.triggers import service as triggers
from workers.sending import TaskSend, send_after_commit
from workers.system_task import SystemTask

INGEST_FILES = "scale.ingest_files"
SWEEP_INGESTS = "scale.sweep_ingests"
# An ingest in flight and untouched for this long lost its task; the clock's sweep re-sends it.
STUCK_AFTER_S = 60.0
# Ingests per task: enough to share each transaction's commit, few enough that the first files
# of a burst reach their trigger rules while later batches are still being stored.
BATCH = 20


@shared_task(bind=True, name=INGEST_FILES, base=SystemTask)
def ingest_files(self, ingest_ids: list[int]) -> dict[str, int]:
    """Store the ingests' files in their workspaces; returns how many ended in each outcome
    (INGESTED, DUPLICATE, ERRORED, NOTHING_TO_DO)."""
    results = ingests.ingest_files(self.app.sessions(), ingest_ids)
    # Ingested now or by an earlier delivery of this task (NOTHING_TO_DO names the source file
    # too): evaluation is idempotent, so a retried task still evaluates what it ingested.
    sources = [r.source_file_id for r in results.values() if r.source_file_id is not None]
    if sources:
        # The batch's ingest rules fire here, in a transaction of their own right after the
        # ingest's, rather than behind every other queued task: a file's jobs are queued as soon
        # as it is ingested. If this fails, the ingest stands and the clock's trigger sweep
        # (`scale.sweep_triggers`: INGESTED but never `triggered`) evaluates it later.
        with self.app.sessions().begin() as session:
            triggers.evaluate_triggers_many(session, TriggerRuleType.INGEST.value, sources)
    outcomes: dict[str, int] = {}
    for result in results.values():
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    return outcomes


@shared_task(bind=True, name=SWEEP_INGESTS, base=SystemTask)
def sweep_ingests(self, older_than_seconds: float = STUCK_AFTER_S) -> list[int]:
    """Re-send `scale.ingest_files` for ingests stuck TRANSFERRED or INGESTING; returns their ids."""
    with self.app.sessions().begin() as session:
        ids = ingests.ingests_to_resend(session, older_than=dt.timedelta(seconds=older_than_seconds))
        send_after_commit(session, self.app, ingest_sends(ids))
    return ids


def ingest_sends(ingest_ids: Iterable[int]) -> list[TaskSend]:
    """`scale.ingest_files` for the ingest ids, in batches of `BATCH`, to send after the transaction
    that made the ingests TRANSFERRED has committed (and a Strike's monitor moved their files)."""
    ids = sorted(set(ingest_ids))
    return [TaskSend(INGEST_FILES, (ids[first:first + BATCH],)) for first in range(0, len(ids), BATCH)]
