"""The scheduler's nodes: each heartbeat registers the resource manager's nodes, holds their
leases, and reconciles what was left RUNNING on them.

Leading comes first (`scale.nodes.leadership`): with a cluster-wide manager (celery, mesos)
one scheduler leads the `scheduler` role and takes every node; another stands by, holding
nothing, until the leader's lease goes stale (not renewed for LEASE_SECONDS) or, on the same
host, its process is gone (`holder_is_alive`). A local scheduler leads its own node's role.
A node is run by one scheduler at a time: its lease (`Node.scheduler_lease`) names the holder
(`SchedulerLoop.instance`), and a node whose lease another live scheduler holds is left to it.
The heartbeat also pauses nodes with too many SYSTEM failures and, when the
usable nodes' totals change, puts back the queued rows set aside as too large that fit again.

At every heartbeat, executions left RUNNING on the manager's nodes that the manager is not
running are reconciled: those a previous scheduler left when it died (on the nodes just taken
over), and this scheduler's own whose runner ended without recording an outcome (the database
was unreachable for longer than the runner retries, or the runner raised and its failure
could not be written either). So an outage of the database costs at most the tries it
interrupted, reconciled within a heartbeat of its end. Such an execution is reconciled: the
manager re-attaches to what still exists of one (a container, running or exited, is followed
to its end by the runner's `resume_execution`); otherwise (a child process, whose exit status
went to the scheduler that died or was lost with its runner) the manager reaps it (kills its
process group) and the execution fails with the SYSTEM error `node-lost`, which queues it
again while tries remain, so it cannot run twice or report late.
"""

from __future__ import annotations

import logging
import os
import socket

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scale.models.errors import SystemErrorName
from scale.models.jobs import JobExecution, JobExecutionStatus
from scale.nodes import leadership, registry
from scale.nodes import service as nodes
from scale.queue import transitions
from scale.resources import Resources
from scale.scheduler.managers.base import NodeOffer, ResourceManager

# The scheduler's log lines have always carried this logger's name.
log = logging.getLogger("scale.scheduler.loop")


class HeldNodes:
    """The nodes scheduler `instance` holds through `manager`, as the last heartbeat left them."""

    def __init__(self, sessions: sessionmaker, manager: ResourceManager, *, instance: str) -> None:
        self._sessions = sessions
        self._manager = manager
        self.instance = instance
        self.offers: dict[int, NodeOffer] = {}  # node id -> offer, for the nodes this one runs
        self._standing_by: set[int] = set()
        self.role: str | None = None  # the leadership role held, once led
        self.leading = False
        # The usable nodes' totals (all schedulers'), as the last heartbeat read them: a row
        # larger than all of them is set aside until they change.
        self.usable_totals: frozenset[Resources] = frozenset()

    def refresh(self) -> dict[int, NodeOffer]:
        """Refresh the manager's nodes and hold their leases; a node another live scheduler
        runs is left to it (this one stands by). Returns the nodes now held (`offers`), which
        the caller then reconciles."""
        held: dict[int, NodeOffer] = {}
        with self._sessions.begin() as session:
            offers = self._manager.nodes()
            if not self._lead(session, offers):
                self.offers = {}
                return {}
            registered = registry.register_nodes(session, offers, instance=self.instance,
                                                 holder_is_alive=holder_is_alive,
                                                 take_over=self._manager.cluster_wide)
            for offer, (node, lease) in zip(offers, registered, strict=True):
                if lease == registry.Lease.BUSY:
                    if node.id not in self._standing_by:
                        log.info("node %s is run by scheduler %s; standing by", node.hostname,
                                 node.scheduler_lease)
                        self._standing_by.add(node.id)
                    continue
                self._standing_by.discard(node.id)
                held[node.id] = offer
            for node in nodes.pause_nodes_with_errors(session):
                log.warning("paused node %s: %s", node.hostname, node.pause_reason)
            totals = nodes.usable_totals(session)
            if totals != self.usable_totals:
                if back := transitions.reconsider_too_large(session, totals):
                    log.info("the nodes changed: %s queued job(s) set aside as too large fit again", back)
                self.usable_totals = totals
        self.offers = held
        return held

    def _lead(self, session: Session, offers: list[NodeOffer]) -> bool:
        """Take or renew this scheduler's role; False (standing by) while another leads."""
        if self._manager.cluster_wide:
            role = leadership.SCHEDULER_ROLE
        elif offers:
            role = leadership.node_role(offers[0].hostname)
        else:
            return True  # no node to run: nothing to lead
        leads = leadership.lead(session, role, self.instance, holder_is_alive=holder_is_alive)
        if leads and not self.leading:
            log.info("scheduler %s leads (%s)", self.instance, role)
        elif not leads and (self.leading or self.role != role):
            log.info("another scheduler leads (%s); standing by", role)
        self.role, self.leading = role, leads
        return leads

    def reconcile(self, node_ids: list[int]) -> None:
        """Executions RUNNING on nodes this scheduler holds that its manager is not running
        have nothing behind them (their scheduler died, or their runner ended without an
        outcome): re-attach to what still runs of one, else reap what it left and fail it
        (node-lost, retried while tries remain).

        Safe against a runner finishing meanwhile: launches happen on this thread only, and a
        runner leaves `running()` only after its outcome is committed, so an execution missing
        from the snapshot taken first and still RUNNING afterwards has no runner."""
        running_here = self._manager.running()
        with self._sessions() as session:
            left = [exe_id for exe_id in session.scalars(
                select(JobExecution.id).where(JobExecution.status == JobExecutionStatus.RUNNING,
                                              JobExecution.node_id.in_(node_ids)))
                    if exe_id not in running_here]
        for job_exe_id in left:
            if self._manager.reattach(job_exe_id):
                continue
            self._manager.reap(job_exe_id)
            with self._sessions.begin() as session:
                transitions.fail_execution(session, job_exe_id, error_name=SystemErrorName.NODE_LOST)

    def release(self) -> None:
        """Give up the held nodes' leases and the role, so a standby need not wait."""
        try:
            with self._sessions.begin() as session:
                for node_id in self.offers:
                    registry.release_node(session, node_id, self.instance)
                if self.role is not None and self.leading:
                    leadership.resign(session, self.role, self.instance)
        except Exception:  # the lease then goes stale on its own
            log.exception("could not release this scheduler's nodes")


def holder_is_alive(holder: str) -> bool:
    """False only when `holder` ran on this host and its process no longer exists."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
