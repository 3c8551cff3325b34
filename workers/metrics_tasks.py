"""Clock and metrics tasks: a fired clock rule's processor, and a day's metrics rollup.

The clock sends `scale.process_clock_event` after the event has committed; processors are
idempotent, so a redelivered message does the work once. `scale.compute_metrics` recomputes a
day on demand (`POST /api/metrics/compute/`); recomputing replaces the day's rows."""

from __future__ import annotations

from collections.abc import Iterable

from celery import shared_task

from scale.metrics import rollup
from scale.triggers import clock
from workers.sending import TaskSend
from workers.system_task import SystemTask

PROCESS_CLOCK_EVENT = "scale.process_clock_event"
COMPUTE_METRICS = "scale.compute_metrics"


@shared_task(bind=True, name=PROCESS_CLOCK_EVENT, base=SystemTask)
def process_clock_event(self, event_id: int) -> None:
    with self.app.sessions().begin() as session:
        clock.process_event(session, event_id)


def clock_event_sends(event_ids: Iterable[int]) -> list[TaskSend]:
    """`scale.process_clock_event` for each event, to send after the events have committed."""
    return [TaskSend(PROCESS_CLOCK_EVENT, (event_id,)) for event_id in event_ids]


@shared_task(bind=True, name=COMPUTE_METRICS, base=SystemTask)
def compute_metrics(self, day: str) -> dict[str, int]:
    """Recompute the rollups of `day` (YYYY-MM-DD); returns the rows written per table."""
    with self.app.sessions().begin() as session:
        return rollup.compute_day(session, rollup.parse_day(day))
