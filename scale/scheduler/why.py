"""Why a QUEUED job is not running yet: one reason per job, for a page of jobs at a time.

The reasons follow the scheduler's own rules (`scale.scheduler.matching`, and its
`constraints`), checked in this order, the first that holds naming the reason:
- SCHEDULER_PAUSED: the scheduler is paused, so nothing is placed;
- JOB_TYPE_PAUSED: the job's type is paused, so its jobs are skipped;
- NO_NODE: no node is online, active and unpaused;
- TOO_LARGE: the job asks for more than every such node's *total* resources; it can never
  run on the nodes there are (`can_never_fit`), and `match` skips it so it blocks nothing;
- MAX_SCHEDULED: its job type already has `max_scheduled` executions RUNNING;
- WAITING: some node could take it once it has room; it waits for free resources behind the
  queued jobs of higher priority, or of equal priority queued earlier (the scheduler's order).

`queued_reasons` costs the same handful of statements for a page of jobs as for one job;
`reason_counts` counts the reasons of the whole queue by job type from one grouped statement
(jobs of one type asking for the same resources share their reason).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scale.models.job_types import JobType
from scale.models.jobs import Queue
from scale.models.nodes import Node
from scale.nodes import service as nodes
from scale.resources import Resources
from scale.scheduler.loop import constraints
from scale.scheduler.matching import Constraints
from scale.timeutil import utcnow


class ReasonCode(StrEnum):
    SCHEDULER_PAUSED = "SCHEDULER_PAUSED"
    JOB_TYPE_PAUSED = "JOB_TYPE_PAUSED"
    NO_NODE = "NO_NODE"
    TOO_LARGE = "TOO_LARGE"
    MAX_SCHEDULED = "MAX_SCHEDULED"
    WAITING = "WAITING"


@dataclass(frozen=True)
class QueuedReason:
    code: ReasonCode
    message: str

    @property
    def can_never_fit(self) -> bool:
        """True when no node there is could ever take the job, however much work finishes."""
        return self.code == ReasonCode.TOO_LARGE


@dataclass(frozen=True)
class QueueState:
    """What every queued job's reason depends on besides the job itself: the scheduler's
    constraints and the totals of the online nodes (paused ones included, to tell "no node"
    from "every node is paused")."""

    constraints: Constraints
    online: tuple[tuple[Resources, bool], ...]  # (total, is_paused) of each online node


def classify(job_type_id: int, required: Resources, state: QueueState, *, max_scheduled: int | None = None,
             ahead: int | None = None) -> QueuedReason:
    """The reason a queued job of `job_type_id` (whose type has `max_scheduled`) asking for
    `required` waits, in the order of the module docstring. `ahead` (the queued jobs the
    scheduler considers before it) goes in a WAITING message when known."""
    if state.constraints.scheduler_paused:
        return QueuedReason(ReasonCode.SCHEDULER_PAUSED, "the scheduler is paused")
    if job_type_id in state.constraints.paused_job_types:
        return QueuedReason(ReasonCode.JOB_TYPE_PAUSED, "its job type is paused")
    usable = [total for total, paused in state.online if not paused]
    if not usable:
        problem = "every online node is paused" if state.online else "no node is online"
        return QueuedReason(ReasonCode.NO_NODE, f"no online, unpaused node is taking work: {problem}")
    if not any(required.fits_in(total) for total in usable):
        largest = max(usable, key=lambda t: (t.cpus, t.mem, t.disk))
        return QueuedReason(ReasonCode.TOO_LARGE, (
            f"larger than every online node, so it can never run on them: it needs {_describe(required)}; "
            f"the largest node has {_describe(largest)}"))
    if state.constraints.type_slots.get(job_type_id, 1) <= 0:
        limit = max_scheduled or 0
        return QueuedReason(ReasonCode.MAX_SCHEDULED, (
            f"its job type already runs its max_scheduled of {limit} execution{'' if limit == 1 else 's'}"))
    waiting = "waiting for a node with enough free resources"
    if ahead is None:
        return QueuedReason(ReasonCode.WAITING, waiting)
    if ahead == 0:
        return QueuedReason(ReasonCode.WAITING, f"{waiting}; it is next in line")
    return QueuedReason(ReasonCode.WAITING, (
        f"{waiting}, behind {ahead} queued job{'' if ahead == 1 else 's'} of higher priority or queued earlier"))


def queue_state(session: Session, now: dt.datetime | None = None) -> QueueState:
    """The state `classify` needs, in a few statements."""
    now = now or utcnow()
    online = tuple((nodes.node_total(node), node.is_paused or node.is_paused_errors)
                   for node in session.scalars(select(Node).where(Node.is_active.is_(True)))
                   if nodes.is_online(node, now))
    return QueueState(constraints=constraints(session), online=online)


def _required(row) -> Resources:
    return Resources(row.cpus_required, row.mem_required, row.disk_total_required)


def queued_reasons(session: Session, job_ids: Iterable[int], now: dt.datetime | None = None) -> dict[int, QueuedReason]:
    """The reason of each QUEUED job among `job_ids`, by job id; jobs that are not queued are
    left out. One statement when none is queued, a handful otherwise, however many jobs."""
    wanted = list(job_ids)
    if not wanted:
        return {}
    # Each row's place in the scheduler's order (priority, then queued, then queue id, as
    # `matching.match` takes them): one pass over the queue's index for the whole page, where
    # counting the rows ahead of each job would scan up to the whole queue per job.
    order = func.row_number().over(order_by=(Queue.priority, Queue.queued, Queue.id))
    place = select(Queue.id.label("queue_id"), (order - 1).label("ahead")).subquery()
    rows = session.execute(select(Queue.job_id, Queue.job_type_id, Queue.cpus_required, Queue.mem_required,
                                  Queue.disk_total_required, JobType.max_scheduled, place.c.ahead)
                           .join(JobType, JobType.id == Queue.job_type_id)
                           .join(place, place.c.queue_id == Queue.id)
                           .where(Queue.job_id.in_(wanted))).all()
    if not rows:
        return {}
    state = queue_state(session, now)
    return {row.job_id: classify(row.job_type_id, _required(row), state, max_scheduled=row.max_scheduled,
                                 ahead=row.ahead) for row in rows}


def reason_counts(session: Session, now: dt.datetime | None = None) -> dict[int, dict[str, int]]:
    """How many queued jobs wait for each reason, by job type id (only the reasons that occur)."""
    columns = (Queue.job_type_id, JobType.max_scheduled, Queue.cpus_required, Queue.mem_required,
               Queue.disk_total_required)
    groups = session.execute(select(*columns, func.count(Queue.id).label("jobs"))
                             .join(JobType, JobType.id == Queue.job_type_id).group_by(*columns)).all()
    if not groups:
        return {}
    state = queue_state(session, now)
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for row in groups:
        reason = classify(row.job_type_id, _required(row), state, max_scheduled=row.max_scheduled)
        counts[row.job_type_id][reason.code.value] += row.jobs
    return {type_id: dict(counter) for type_id, counter in counts.items()}


def _describe(resources: Resources) -> str:
    return f"cpus {resources.cpus:g}, mem {resources.mem:g} MiB, disk {resources.disk:g} MiB"
