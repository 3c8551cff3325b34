"""The scheduler process: match queued executions to node resources, schedule them, launch
them through a resource manager, and stop those that were canceled.

One cycle, each step in its own short transaction (the shell's job: this module owns the
process's units of work):
1. heartbeat (every `heartbeat_every` s): register or refresh the manager's nodes
   (`last_offer`), and pause nodes with too many SYSTEM failures (`scale.scheduler.heartbeat`);
2. kill the launched executions that are no longer RUNNING (canceled through the API);
3. unless the scheduler is paused or no node has room: claim queue rows in priority order a
   page of `claim_limit` at a time (`FOR UPDATE SKIP LOCKED`, LIMIT on `ix_queue_claim`, so a
   cycle costs the same for a queue of 1,000 rows as for 1,000,000), fit each page with a
   `matching.Matcher`, schedule the fits, commit, and only then launch them.

Work that cannot be placed never holds back the work behind it (docs/decisions.md, "The
scheduler never stalls"): a row larger than every usable node's total is set aside
(`queue.too_large`) the first time a claim meets it, and claims pass over it without reading
it until the nodes change (the heartbeat compares the usable nodes' totals and puts back the
rows that fit again); rows of paused job types and of job types with no `max_scheduled` slot
left are not claimed; and when a page leaves work unplaced while nodes still have room, the
next page is claimed, up to `claim_pages` pages a cycle. A job that fits a node's total but not its free resources
reserves that node (matching's rule), so a stream of smaller jobs cannot starve it.
Cycles run back to back while they place a full claim. Otherwise the loop waits for a reason
to cycle again, up to `idle_wait` s: new queue rows (a one-row probe of the queue's highest id
every `probe_every` s, so a queued job waits about that long, not a whole idle wait), or an
execution finishing while claimed work was left waiting for room. An execution finishing when
nothing waits for its resources does not start a cycle: at tens of jobs a second, a cycle per
finished job would cost the scheduler more than running the jobs.

At every heartbeat, the executions left RUNNING on the nodes this scheduler holds with nothing
behind them (their scheduler died, or their runner ended without an outcome) are reconciled:
`scale.scheduler.heartbeat`, which also holds the nodes' leases.

A cycle that fails (the database is away) is logged and the loop backs off, doubling its pause
from `idle_wait` up to MAX_BACKOFF_SECONDS, then carries on where it left off.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scale.models.errors import SystemErrorName
from scale.models.job_types import JobType
from scale.models.jobs import Job, JobExecution, JobExecutionStatus, Queue
from scale.models.nodes import Node
from scale.nodes import service as nodes
from scale.queue import transitions
from scale.resources import Resources
from scale.scheduler.heartbeat import HeldNodes
from scale.scheduler.managers.base import NodeGone, NodeOffer, ResourceManager
from scale.scheduler.matching import Assignment, Candidate, Constraints, Matcher, MatchNode, never_fits

log = logging.getLogger(__name__)

RUNNING = JobExecutionStatus.RUNNING
# However long the loop waits for work, a stop request is noticed within this many seconds.
STOP_CHECK_SECONDS = 0.5
# The least a job type may ask for (docs/decisions.md): a node without this much free
# takes nothing, so the queue is not even claimed.
SMALLEST_JOB = Resources(cpus=0.01, mem=1.0)
# The longest pause between cycles that fail (the database is unreachable).
MAX_BACKOFF_SECONDS = 5.0


@dataclass(frozen=True)
class LoopOptions:
    claim_limit: int = 100
    claim_pages: int = 10
    idle_wait: float = 0.5
    probe_every: float = 0.2
    heartbeat_every: float = 5.0


class SchedulerLoop:
    """The scheduler for one resource manager. `run` until `stop` is set; `cycle` once."""

    def __init__(self, sessions: sessionmaker, manager: ResourceManager, *,
                 options: LoopOptions = LoopOptions()) -> None:
        self._sessions = sessions
        self._manager = manager
        self._options = options
        self._last_heartbeat = float("-inf")
        # The held nodes as the node table last showed them, with nothing running, and the
        # table's mark then (see `_match_nodes`).
        self._idle_nodes: list[MatchNode] = []
        self._nodes_mark: tuple[object, ...] | None = None
        # The queue's highest id when the last cycle looked, and whether that cycle left queued
        # work waiting for room: what `_wait_for_work` compares and wakes on.
        self._queue_mark: int | None = None
        self._room_wanted = False
        # Unique per process; the host and pid let a scheduler on the same host tell at once
        # that a crashed holder is gone instead of waiting for its heartbeat to go stale.
        self.instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._nodes = HeldNodes(sessions, manager, instance=self.instance)

    def start(self) -> None:
        """Register the manager's nodes, taking those no live scheduler runs, and reconcile
        what was left RUNNING on them."""
        self._heartbeat()

    def run(self, stop: threading.Event) -> None:
        """`start`, then cycle until `stop` is set; the manager is shut down on the way out.
        A failing start or cycle (the database is away) is logged and retried after a pause
        that doubles from `idle_wait` up to MAX_BACKOFF_SECONDS."""
        try:
            started = False
            failures = 0
            while not stop.is_set():
                try:
                    if not started:
                        self.start()
                        started = True
                    busy = self.cycle()
                except Exception as error:
                    failures += 1
                    if failures == 1:
                        log.exception("scheduler %s failed; retrying", "cycle" if started else "start")
                    else:
                        log.warning("scheduler %s failed %s times in a row: %s",
                                    "cycle" if started else "start", failures, error)
                    stop.wait(min(self._options.idle_wait * 2 ** failures, MAX_BACKOFF_SECONDS))
                    continue
                if failures:
                    log.info("scheduler works again after %s failures", failures)
                    failures = 0
                if not busy:
                    self._wait_for_work(stop)
        finally:
            self._shut_down()

    def cycle(self) -> bool:
        """One cycle. True when it placed a full claim, so the next should follow at once."""
        if time.monotonic() - self._last_heartbeat >= self._options.heartbeat_every:
            self._heartbeat()
        self._kill_canceled()
        launched, claimed_full = self._schedule()
        for job_exe_id, offer in launched:
            self._launch(job_exe_id, offer)
        return claimed_full

    def _wait_for_work(self, stop: threading.Event) -> None:
        """Return when the next cycle has something to do (see the module docstring), when
        `idle_wait` has passed, or soon after `stop` is set."""
        now = time.monotonic()
        deadline = now + self._options.idle_wait
        next_probe = now + self._options.probe_every
        while not stop.is_set() and (now := time.monotonic()) < deadline:
            finished = self._manager.wait_for_change(min(deadline, next_probe, now + STOP_CHECK_SECONDS) - now)
            if finished and self._room_wanted:
                return
            if time.monotonic() >= next_probe:
                next_probe += self._options.probe_every
                if self._queue_changed():
                    return

    def _queue_changed(self) -> bool:
        try:
            with self._sessions() as session:
                return _highest_queue_id(session) != self._queue_mark
        except Exception:  # keep waiting: the next cycle logs what is wrong with the database
            log.debug("queue probe failed", exc_info=True)
            return False

    # ---- steps ------------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        """Refresh the manager's nodes and hold their leases (`HeldNodes.refresh`), then
        reconcile the held nodes: a node just taken over may hold a dead scheduler's
        executions, and any node this one's runners that ended without an outcome."""
        held = self._nodes.refresh()
        self._nodes_mark = None  # the held nodes may have changed: re-read them
        if held:
            self._nodes.reconcile(list(held))
        self._last_heartbeat = time.monotonic()

    def _shut_down(self) -> None:
        """Stop what runs in this process and put it back in the queue without costing it a try (a clean
        shutdown is not a failure), then give up the nodes. Executions that could not be put
        back (the database is down) stay RUNNING for the next start to reconcile."""
        stopping = self._manager.shutdown()
        try:
            with self._sessions.begin() as session:
                returned = transitions.return_to_queue(session, sorted(stopping))
            if returned:
                log.info("put %s stopped job execution(s) back in the queue", len(returned))
        except Exception:
            log.exception("could not put the stopped job executions back in the queue")
        self._nodes.release()

    def _kill_canceled(self) -> None:
        if not self._nodes.leading:  # a standby runs nothing
            return
        running = self._manager.running()
        if not running:
            return
        with self._sessions() as session:
            ended = set(session.scalars(select(JobExecution.id).where(
                JobExecution.id.in_(running), JobExecution.status != RUNNING)))
        for job_exe_id in ended:
            self._manager.kill(job_exe_id)

    def _schedule(self) -> tuple[list[tuple[int, NodeOffer]], bool]:
        """Claim, match and schedule in one transaction; the executions to launch once it has
        committed, and whether the claim was full."""
        with self._sessions.begin() as session:
            # Read first: a row queued after this has a higher id, and the probe sees it.
            self._queue_mark = _highest_queue_id(session)
            self._room_wanted = False
            if self._queue_mark is None:  # nothing is queued
                return [], False
            # Held for the transaction, so `constraints` finds it in the session, not the database.
            scheduler = nodes.get_scheduler(session)
            if scheduler.is_paused:
                return [], False
            match_nodes = self._match_nodes(session)
            if not any(SMALLEST_JOB.fits_in(n.free) for n in match_nodes if not n.is_paused):
                self._room_wanted = True
                return [], False
            claimed, assignments, more = self._claim_and_match(session, match_nodes)
            scheduled = self._schedule_rows(session, assignments, {row.id: row for row in claimed})
        self._room_wanted = len(scheduled) < len(claimed)
        return scheduled, more and bool(scheduled)

    def _claim_and_match(self, session: Session, match_nodes: Sequence[MatchNode],
                         ) -> tuple[list[Queue], list[Assignment], bool]:
        """Claim the queue a page at a time and match each page, until the nodes have no room
        left, the queue runs out or `claim_pages` pages were read. Returns the rows claimed that
        wait for room (set-aside rows are left out), the assignments, and whether the last
        page was full (more may wait)."""
        matcher = Matcher(match_nodes, constraints(session))
        claimed: list[Queue] = []
        assignments: list[Assignment] = []
        rows: list[Queue] = []
        for _ in range(self._options.claim_pages):
            rows = transitions.claim_queued(session, limit=self._options.claim_limit,
                                            after=rows[-1] if rows else None,
                                            skip_job_types=matcher.full_job_types())
            if not rows:
                break
            too_large = {row.id for row in rows if self._nodes.usable_totals
                         and never_fits(_required(row), self._nodes.usable_totals)}
            if too_large:
                transitions.set_aside_too_large(session, too_large)
                log.info("set aside %s queued job(s) larger than every node", len(too_large))
            fits = [row for row in rows if row.id not in too_large]
            claimed += fits
            placed = matcher.place([_candidate(row) for row in fits])
            assignments += placed
            # A page placed whole ends the cycle (the next follows at once); one that left
            # work it could not place while nodes still have room looks at the next page.
            if (len(rows) < self._options.claim_limit or len(placed) == len(rows)
                    or not matcher.open_node_fits(SMALLEST_JOB)):
                break
        return claimed, assignments, len(rows) == self._options.claim_limit

    def _schedule_rows(self, session: Session, assignments: Sequence[Assignment],
                       by_id: dict[int, Queue]) -> list[tuple[int, NodeOffer]]:
        placements = [transitions.Placement(by_id[a.candidate.queue_id], node_id=a.node_id,
                                            cpus=a.candidate.required.cpus, mem=a.candidate.required.mem)
                      for a in assignments]
        node_of = {p.queue_row.job_exe_id: p.node_id for p in placements}
        # A job canceled since it was claimed is left out.
        return [(exe_id, self._nodes.offers[node_of[exe_id]])
                for exe_id in transitions.schedule_many(session, placements)]

    def _match_nodes(self, session: Session) -> list[MatchNode]:
        """The held nodes as matching sees them, their free resources from what RUNNING
        executions reserve. The nodes' own rows (totals, pauses) are re-read only when the node
        table changed (a heartbeat, a pause through the API): at 10,000 nodes reading them
        every cycle cost more than the rest of the cycle."""
        mark = tuple(session.execute(_NODES_MARK).one())
        if mark != self._nodes_mark:
            self._idle_nodes = [
                MatchNode(node_id=node_id, total=(total := Resources(cpus or 0.0, mem or 0.0, disk or 0.0)),
                          free=total, is_paused=paused or paused_errors or not active)
                for node_id, cpus, mem, disk, paused, paused_errors, active in session.execute(_NODE_STATE)
                if node_id in self._nodes.offers]
            self._nodes_mark = mark
        scheduled = nodes.scheduled_by_node(session)
        return [replace(node, free=node.total - used) if (used := scheduled.get(node.node_id)) else node
                for node in self._idle_nodes]

    def _launch(self, job_exe_id: int, offer: NodeOffer) -> None:
        try:
            self._manager.launch(job_exe_id, offer)
        except NodeGone as gone:
            log.info("job execution %s goes back to the queue: %s", job_exe_id, gone)
            with self._sessions.begin() as session:
                transitions.return_to_queue(session, [job_exe_id])
            self._last_heartbeat = 0.0  # refresh the nodes before the next placement
        except Exception:
            log.exception("could not launch job execution %s", job_exe_id)
            self._fail(job_exe_id, SystemErrorName.TASK_LAUNCH)

    def _fail(self, job_exe_id: int, error_name: SystemErrorName) -> None:
        with self._sessions.begin() as session:
            transitions.fail_execution(session, job_exe_id, error_name=error_name)


# Changes whenever a node row is added, removed or written (every write sets last_modified).
_NODES_MARK = select(func.count(Node.id), func.max(Node.last_modified))
_NODE_STATE = select(Node.id, Node.cpus_total, Node.mem_total, Node.disk_total, Node.is_paused,
                     Node.is_paused_errors, Node.is_active)


def constraints(session: Session) -> Constraints:
    """The scheduler's pause, the paused job types and, for each job type with a
    `max_scheduled`, how many more may run (its limit minus its RUNNING executions)."""
    paused = frozenset(session.scalars(select(JobType.id).where(JobType.is_paused.is_(True))))
    limits = {type_id: limit or 0 for type_id, limit in session.execute(
        select(JobType.id, JobType.max_scheduled).where(JobType.max_scheduled.is_not(None)))}
    running: dict[int, int] = {}
    if limits:
        running = {type_id: count for type_id, count in session.execute(
            select(Job.job_type_id, func.count()).join(JobExecution, JobExecution.job_id == Job.id)
            .where(JobExecution.status == RUNNING, Job.job_type_id.in_(limits))
            .group_by(Job.job_type_id))}
    return Constraints(scheduler_paused=nodes.get_scheduler(session).is_paused,
                       paused_job_types=paused,
                       type_slots={type_id: limit - running.get(type_id, 0)
                                   for type_id, limit in limits.items()})


def _highest_queue_id(session: Session) -> int | None:
    return session.scalar(select(func.max(Queue.id)))


def _required(row: Queue) -> Resources:
    return Resources(row.cpus_required, row.mem_required, row.disk_total_required)


def _candidate(row: Queue) -> Candidate:
    return Candidate(queue_id=row.id, job_exe_id=row.job_exe_id, job_type_id=row.job_type_id,
                     priority=row.priority, queued=row.queued, required=_required(row))
