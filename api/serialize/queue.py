"""The queue status in the reference's shape ("Queue Status")."""

from __future__ import annotations

from typing import Any

from scale.queue.service import QueueStatus
from scale.timeutil import to_iso


def queue_status(entries: list[QueueStatus], reasons: dict[int, dict[str, int]]) -> dict[str, Any]:
    return {"queue_status": [
        {"count": e.count, "longest_queued": to_iso(e.longest_queued), "job_type_name": e.job_type.name,
         "job_type_version": e.job_type.version, "highest_priority": e.highest_priority,
         "is_job_type_paused": e.job_type.is_paused,
         # Beyond the reference (docs/decisions.md): how many wait for each reason.
         "queued_reasons": reasons.get(e.job_type.id, {})}
        for e in entries]}
