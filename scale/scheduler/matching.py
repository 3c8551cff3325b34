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

The queue comes a page at a time (`Matcher.place` per page, the state carried over), so the
scheduler can look past a page of work it cannot place to the work behind it.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from scale.resources import Resources


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


def never_fits(required: Resources, totals: Iterable[Resources]) -> bool:
    """True when `required` fits none of `totals`: no node of those sizes could ever take it."""
    return not any(required.fits_in(total) for total in totals)


class Matcher:
    """The matching state of one cycle: each node's free resources, the nodes reserved for a
    large job, the `max_scheduled` slots left. `place` takes candidates in pages (the
    scheduler claims the queue a page at a time) and carries the state from page to page.

    Cost: the open nodes are kept sorted by the spread order (most free cpus first), so a
    candidate looks at nodes only until one fits or the free cpus run short: with 10,000
    identical nodes a placement looks at one node, not 10,000."""

    def __init__(self, nodes: Iterable[MatchNode], constraints: Constraints = Constraints()) -> None:
        self._constraints = constraints
        usable = [n for n in nodes if not n.is_paused]
        self._nodes = {n.node_id: n for n in usable}
        self._free = {n.node_id: n.free for n in usable}
        self._slots = dict(constraints.type_slots)
        # Open (unreserved) nodes by spread key; `_keys` maps a node to its current key.
        # Built for 10,000 nodes every cycle: plain tuples, no call per node.
        self._keys = {n.node_id: (-n.free.cpus, -n.free.mem, -n.free.disk, n.node_id) for n in usable}
        self._order = sorted(self._keys.values())
        self._totals = frozenset({(n.total.cpus, n.total.mem, n.total.disk): n.total for n in usable}.values())

    def open_node_fits(self, smallest: Resources) -> bool:
        """True when some open node has at least `smallest` free."""
        return any(smallest.fits_in(self._free[key[-1]]) for key in self._order)

    def full_job_types(self) -> frozenset[int]:
        """The job types with no `max_scheduled` slot left: nothing more of theirs is placed."""
        return frozenset(type_id for type_id, left in self._slots.items() if left <= 0)

    def place(self, candidates: Iterable[Candidate]) -> list[Assignment]:
        """Place `candidates` by the rules in the module docstring; the assignments come in
        priority order. Candidates must come in that order across calls (each page after the
        last), as the queue hands them out."""
        if self._constraints.scheduler_paused:
            return []
        assignments: list[Assignment] = []
        for candidate in sorted(candidates, key=lambda c: (c.priority, c.queued, c.queue_id)):
            if not self._order:  # every node is reserved or gone: nothing more can be placed
                break
            if candidate.job_type_id in self._constraints.paused_job_types:
                continue
            if self._slots.get(candidate.job_type_id, 1) <= 0:
                continue
            if never_fits(candidate.required, self._totals):
                continue
            node_id = self._fitting_node(candidate.required)
            if node_id is not None:
                self._take(node_id, candidate.required)
                if candidate.job_type_id in self._slots:
                    self._slots[candidate.job_type_id] -= 1
                assignments.append(Assignment(candidate, node_id))
                continue
            # The node closest to fitting it drains first.
            reserve = next((key[-1] for key in self._order
                            if candidate.required.fits_in(self._nodes[key[-1]].total)), None)
            if reserve is not None:
                self._close(reserve)
        return assignments

    def _fitting_node(self, required: Resources) -> int | None:
        for key in self._order:
            free = self._free[key[-1]]
            if free.cpus < required.cpus:  # the rest have fewer free cpus still
                return None
            if required.fits_in(free):
                return key[-1]
        return None

    def _take(self, node_id: int, required: Resources) -> None:
        self._close(node_id)
        self._free[node_id] = self._free[node_id] - required
        self._keys[node_id] = _spread_key(node_id, self._free[node_id])
        bisect.insort(self._order, self._keys[node_id])

    def _close(self, node_id: int) -> None:
        key = self._keys.pop(node_id)
        del self._order[bisect.bisect_left(self._order, key)]


def _spread_key(node_id: int, free: Resources) -> tuple[float, float, float, int]:
    return (-free.cpus, -free.mem, -free.disk, node_id)


def match(nodes: Iterable[MatchNode], candidates: Iterable[Candidate],
          constraints: Constraints = Constraints()) -> list[Assignment]:
    """Place `candidates` on `nodes` in one go (a `Matcher` for a single page); the
    assignments come in priority order. Inputs are not changed."""
    return Matcher(nodes, constraints).place(candidates)
