"""Matching queued executions to node resources: pure, no database, no clock.

Input: the nodes (their total and free resources, whether paused), the queued candidates
and the constraints (scheduler paused, paused job types, `max_scheduled` slots left per job
type). Output: which candidate goes to which node. Every resource manager feeds the same
function, so placing work never depends on where the offers came from.

Rules (the reference says only "lower number is higher priority"; the rest is ours):
- candidates are taken in strict priority order: `priority` ascending, then oldest `queued`,
  then queue id, so equal jobs go first-come first-served;
- a paused scheduler places nothing; a paused node (by a user or for errors) takes nothing;
  a paused job type, or one with no `max_scheduled` slot left, is skipped;
- a candidate goes to the fitting node with the most free cpus (then mem, then disk; ties by
  node id), spreading work across the cluster;
- a candidate that fits no node's *free* resources but would fit a node's *total* reserves
  that node for the rest of the cycle: lower-priority work may not take it, so the node
  drains until the big job fits and a stream of small jobs cannot starve it. Small jobs still
  run on the other nodes;
- a candidate larger than every node's total reserves nothing and is skipped, so it never
  blocks the queue behind it (it waits for a bigger node).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Resources:
    """cpus, mem MiB, disk MiB."""

    cpus: float = 0.0
    mem: float = 0.0
    disk: float = 0.0

    def fits_in(self, other: Resources) -> bool:
        """True if these resources fit within `other`."""
        return self.cpus <= other.cpus and self.mem <= other.mem and self.disk <= other.disk

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cpus + other.cpus, self.mem + other.mem, self.disk + other.disk)

    def __sub__(self, other: Resources) -> Resources:
        return Resources(self.cpus - other.cpus, self.mem - other.mem, self.disk - other.disk)

    def to_dict(self) -> dict[str, float]:
        return {"cpus": float(self.cpus), "mem": float(self.mem), "disk": float(self.disk)}


@dataclass(frozen=True)
class MatchNode:
    """A node as matching sees it: `free` is its total minus what is scheduled on it."""

    node_id: int
    total: Resources
    free: Resources
    is_paused: bool = False


@dataclass(frozen=True)
class Candidate:
    """A queued execution (one queue row) asking for `required` resources."""

    queue_id: int
    job_exe_id: int
    job_type_id: int
    priority: int
    queued: dt.datetime
    required: Resources


@dataclass(frozen=True)
class Constraints:
    """What limits scheduling beyond resources. `type_slots` maps a job type with a
    `max_scheduled` to how many more of its executions may run now; absent means unlimited."""

    scheduler_paused: bool = False
    paused_job_types: frozenset[int] = frozenset()
    type_slots: Mapping[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Assignment:
    candidate: Candidate
    node_id: int


def _spread_key(node: MatchNode, free: Resources) -> tuple[float, float, float, int]:
    return (-free.cpus, -free.mem, -free.disk, node.node_id)


def match(nodes: Iterable[MatchNode], candidates: Iterable[Candidate],
          constraints: Constraints = Constraints()) -> list[Assignment]:
    """Place `candidates` on `nodes` by the rules in the module docstring; the assignments come
    in priority order. Inputs are not changed."""
    if constraints.scheduler_paused:
        return []
    usable: Sequence[MatchNode] = [n for n in nodes if not n.is_paused]
    free = {n.node_id: n.free for n in usable}
    reserved: set[int] = set()
    slots = dict(constraints.type_slots)
    assignments: list[Assignment] = []
    for candidate in sorted(candidates, key=lambda c: (c.priority, c.queued, c.queue_id)):
        if candidate.job_type_id in constraints.paused_job_types:
            continue
        if slots.get(candidate.job_type_id, 1) <= 0:
            continue
        open_nodes = [n for n in usable if n.node_id not in reserved]
        fitting = [n for n in open_nodes if candidate.required.fits_in(free[n.node_id])]
        if fitting:
            node = min(fitting, key=lambda n: _spread_key(n, free[n.node_id]))
            free[node.node_id] = free[node.node_id] - candidate.required
            if candidate.job_type_id in slots:
                slots[candidate.job_type_id] -= 1
            assignments.append(Assignment(candidate, node.node_id))
            continue
        could_fit = [n for n in open_nodes if candidate.required.fits_in(n.total)]
        if could_fit:
            # The node closest to fitting it drains first.
            reserved.add(min(could_fit, key=lambda n: _spread_key(n, free[n.node_id])).node_id)
    return assignments

