"""Which nodes there are: a resource manager's offers and a `scale node`'s heartbeats create
and refresh node rows; a node is run by one scheduler at a time (its lease); a node that goes
silent is lost, and what it was running fails `node-lost` (retried) exactly once.

Reads, edits and status of nodes: `scale.nodes.service`; who leads: `scale.nodes.leadership`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scale.models.errors import SystemErrorName
from scale.models.jobs import JobExecution
from scale.models.nodes import Node
from scale.nodes.service import AGENT_PORT, RUNNING, is_online
from scale.queue import transitions
from scale.resources import Resources
from scale.timeutil import utcnow


class Lease(StrEnum):
    """A scheduler's hold on a node after its heartbeat."""

    HELD = "HELD"          # it already ran the node
    ACQUIRED = "ACQUIRED"  # it has just taken the node: what was left RUNNING there is its to reconcile
    BUSY = "BUSY"          # another live scheduler runs the node


class Offer(Protocol):
    """A resource manager's offer of a node (`scale.scheduler.managers.base.NodeOffer`)."""

    @property
    def hostname(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def total(self) -> Resources: ...
    @property
    def slave_id(self) -> str | None: ...
    @property
    def own_heartbeat(self) -> bool: ...


def register_nodes(session: Session, offers: Sequence[Offer], *, instance: str | None = None,
                   holder_is_alive: Callable[[str], bool] = lambda _holder: True, take_over: bool = False,
                   now: dt.datetime | None = None) -> list[tuple[Node, Lease]]:
    """Create or refresh the node of each offer (capacity, `last_offer` heartbeat,
    `is_active`; pause state is left alone), for scheduler `instance`; the nodes and their
    leases in the offers' order. A node whose offer has `own_heartbeat` (a `scale node`)
    writes `last_offer` itself (`heartbeat_node`), so that it stays a sign of the node's life,
    not of the scheduler's.

    A node is run by one scheduler at a time, so that a second scheduler never reconciles
    (fails) executions the first is still running: while another instance's heartbeat is
    fresh (within ONLINE_WINDOW) and `holder_is_alive(holder)` does not say it is gone, the
    node is BUSY and left untouched — unless `take_over`: the leader of a cluster-wide manager
    (`scale.nodes.leadership`) takes every node, since no other scheduler may run them. Locks
    the node rows, all in a few statements: a scheduler of 10,000 nodes registers them every
    heartbeat."""
    now = now or utcnow()
    rows = {node.hostname: node for node in session.scalars(
        select(Node).where(Node.hostname.in_([offer.hostname for offer in offers])).order_by(Node.id)
        .with_for_update().execution_options(populate_existing=True))}
    missing = [offer for offer in offers if offer.hostname not in rows]
    if missing:
        try:
            # Two processes starting together on new nodes both get here; one insert wins.
            with session.begin_nested():
                new = [Node(hostname=offer.hostname, port=offer.port, created=now, last_modified=now)
                       for offer in missing]
                session.add_all(new)
                session.flush()
            rows.update((node.hostname, node) for node in new)
        except IntegrityError:
            rows.update((offer.hostname, _node_named(session, offer.hostname, offer.port, now)) for offer in missing)
    registered = []
    for offer in offers:
        node = rows[offer.hostname]
        holder = node.scheduler_lease
        if (not take_over and instance is not None and holder is not None and holder != instance
                and is_online(node, now) and holder_is_alive(holder)):
            registered.append((node, Lease.BUSY))
            continue
        registered.append((node, Lease.HELD if holder == instance else Lease.ACQUIRED))
        node.scheduler_lease = instance
        node.port = offer.port
        node.slave_id = offer.slave_id
        node.is_active = True
        node.archived = None
        if not offer.own_heartbeat:
            node.last_offer = now
        node.cpus_total, node.mem_total, node.disk_total = offer.total.cpus, offer.total.mem, offer.total.disk
        node.last_modified = now
    session.flush()
    return registered


def heartbeat_node(session: Session, *, hostname: str, total: Resources,
                   now: dt.datetime | None = None) -> Node:
    """A `scale node`'s heartbeat: create or refresh its row with its capacity and `last_offer`
    (so it is online), leaving pause state and the scheduler's lease alone. Locks the node row."""
    now = now or utcnow()
    node = _node_named(session, hostname, AGENT_PORT, now)
    node.is_active = True
    node.archived = None
    node.last_offer = now
    node.cpus_total, node.mem_total, node.disk_total = total.cpus, total.mem, total.disk
    node.last_modified = now
    session.flush()
    return node


def lose_silent_nodes(session: Session, *, silent_since: dt.datetime,
                      now: dt.datetime | None = None) -> list[int]:
    """For nodes that write their own heartbeat: mark offline (clear `last_offer`) each node
    whose heartbeat is older than `silent_since`, and fail every RUNNING execution on an offline
    node with the SYSTEM error `node-lost` (queued again while tries remain). Returns the ids of
    the executions failed.

    Exactly once: the node rows are locked and the mark guarded on the stale heartbeat, and
    `fail_execution` moves only a RUNNING execution; a node that comes back finds its old
    executions FAILED, and the runner neither starts nor reports over them."""
    now = now or utcnow()
    for node in session.scalars(select(Node).where(Node.last_offer < silent_since).with_for_update()):
        node.last_offer = None
        node.last_modified = now
    session.flush()
    return _fail_lost(session, select(Node.id).where(Node.last_offer.is_(None)))


def leave_node(session: Session, hostname: str, now: dt.datetime | None = None, *,
               stopped_cleanly: bool = False) -> list[int]:
    """A `scale node` stopping, or starting after a crash: mark it offline without waiting for
    its heartbeat to go stale. What it left RUNNING goes back to the queue without costing a try
    when it `stopped_cleanly` (it stopped those executions itself: docs/execution.md, "Stopping"),
    else fails with `node-lost` as `lose_silent_nodes` does for a silent node. Returns the ids of
    the executions failed."""
    node = _lock_node_named(session, hostname)
    if node is None:
        return []
    node.last_offer = None
    node.last_modified = now or utcnow()
    session.flush()
    if stopped_cleanly:
        transitions.return_to_queue(session, list(session.scalars(select(JobExecution.id).where(
            JobExecution.status == RUNNING, JobExecution.node_id == node.id))))
    return _fail_lost(session, select(Node.id).where(Node.id == node.id))


def _fail_lost(session: Session, node_ids: Select) -> list[int]:
    lost = list(session.scalars(select(JobExecution.id).where(
        JobExecution.status == RUNNING, JobExecution.node_id.in_(node_ids)).order_by(JobExecution.id)))
    for job_exe_id in lost:
        transitions.fail_execution(session, job_exe_id, error_name=SystemErrorName.NODE_LOST)
    return lost


def heartbeating_nodes(session: Session, *, since: dt.datetime) -> list[Node]:
    """Active nodes whose heartbeat is not older than `since`, by hostname."""
    return list(session.scalars(select(Node).where(Node.is_active.is_(True), Node.last_offer >= since)
                                .order_by(Node.hostname)))


def _node_named(session: Session, hostname: str, port: int, now: dt.datetime) -> Node:
    """The node row called `hostname`, locked; created (with `port`) when there is none."""
    node = _lock_node_named(session, hostname)
    if node is None:
        try:
            # Two processes starting together on a new node both get here; one insert wins.
            with session.begin_nested():
                node = Node(hostname=hostname, port=port, created=now, last_modified=now)
                session.add(node)
                session.flush()
        except IntegrityError:
            node = _lock_node_named(session, hostname)
            assert node is not None
    return node


def _lock_node_named(session: Session, hostname: str) -> Node | None:
    return session.scalar(select(Node).where(Node.hostname == hostname).with_for_update()
                          .execution_options(populate_existing=True))


def release_node(session: Session, node_id: int, instance: str) -> None:
    """A scheduler stopping cleanly hands its node back, so the next one need not wait."""
    session.execute(update(Node).where(Node.id == node_id, Node.scheduler_lease == instance)
                    .values(scheduler_lease=None))
