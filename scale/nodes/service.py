"""Nodes, the scheduler's settings and the system status numbers.

Decisions where the reference is silent:
- A node is online while its resource manager keeps offering it: `last_offer` within
  `ONLINE_WINDOW` (the scheduler refreshes it every few seconds). A `scale node` (the celery
  manager) writes `last_offer` itself with its heartbeat; the scheduler clears it when the
  heartbeat is older than `node_lost_seconds` (the node is then offline and its RUNNING
  executions fail with `node-lost`).
- Pausing a node (`is_paused: true`) keeps or sets `pause_reason`; resuming clears
  `is_paused`, `is_paused_errors` and `pause_reason` together.
- Pausing for errors: a node on which more than `max_node_errors` distinct jobs failed with
  SYSTEM errors within the last `node_error_period` seconds is paused with `is_paused` and
  `is_paused_errors` set and a `pause_reason` saying why. Those failures still count after a
  user resumes the node, so it stays up only once the period has passed them by.
- Scheduled resources are the sums over RUNNING executions of `cpus_scheduled`,
  `mem_scheduled` and `disk_total_scheduled`; `used` is always zero, as the reference notes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from scale.exceptions import ConfigError, Conflict, NotFound
from scale.listing import ListSpec
from scale.models.errors import Error, ErrorCategory, SystemErrorName
from scale.models.jobs import Job, JobExecution, JobExecutionStatus, Queue
from scale.models.nodes import SCHEDULER_ID, Node, Scheduler
from scale.nodes import leadership
from scale.nodes.commands import NodeEdit, SchedulerEdit
from scale.resources import Resources
from scale.timeutil import as_utc, utcnow

ONLINE_WINDOW = dt.timedelta(seconds=30)
# A `scale node` has no executor listening (it takes work from its broker queue): the
# reference's `port` is then 0, as for the local node.
AGENT_PORT = 0
# What "recent" means for the job execution counts of GET /nodes/status/ without `started`.
STATUS_DEFAULT_RANGE = dt.timedelta(hours=3)

NODE_LIST = ListSpec(
    # `host_name` is the reference's own example (`order=host_name&order=created`) for the
    # field it lists as `hostname`.
    orders={"id": Node.id, "hostname": Node.hostname, "host_name": Node.hostname, "port": Node.port,
            "slave_id": Node.slave_id, "is_paused": Node.is_paused,
            "is_active": Node.is_active, "created": Node.created, "archived": Node.archived,
            "last_offer": Node.last_offer, "last_modified": Node.last_modified},
    default_order=("hostname", "id"),
    time_column=Node.last_modified,
)
RUNNING = JobExecutionStatus.RUNNING
# When an execution last did something: for the status counts' time range and `most_recent`.
EXE_TIME = func.coalesce(JobExecution.ended, JobExecution.started, JobExecution.queued)

NODE_STATUS_LIST = ListSpec(orders={"id": Node.id, "hostname": Node.hostname, "host_name": Node.hostname},
                            default_order=("hostname", "id"))
# The same list with `started`/`ended`: they bound the executions counted, not the nodes.
NODE_STATUS_RANGE = replace(NODE_STATUS_LIST, time_column=EXE_TIME,
                            default_range=STATUS_DEFAULT_RANGE)


@dataclass(frozen=True)
class NodeResources:
    total: Resources
    scheduled: Resources
    used: Resources


@dataclass(frozen=True)
class ExeCount:
    status: str
    count: int
    most_recent: dt.datetime | None
    category: str | None


@dataclass(frozen=True)
class NodeStatus:
    node: Node
    is_online: bool
    job_exe_counts: list[ExeCount]
    job_exes_running: list[JobExecution]


@dataclass(frozen=True)
class SystemStatus:
    master_hostname: str | None
    master_port: int | None
    master_online: bool
    scheduler_hostname: str | None
    scheduler_online: bool
    scheduler_paused: bool
    queue_depth: int
    resources: NodeResources
    # Beyond the reference: the leading scheduler's process, and the clock.
    scheduler_leader: str | None = None
    clock_hostname: str | None = None
    clock_online: bool = False
    clock_last_fire: dt.datetime | None = None


# ---- nodes ---------------------------------------------------------------------------------

def list_nodes_statement(*, include_inactive: bool = False) -> Select:
    stmt = select(Node)
    return stmt if include_inactive else stmt.where(Node.is_active.is_(True))


def list_node_status_statement() -> Select:
    return select(Node).where(Node.is_active.is_(True))


def get_node(session: Session, node_id: int) -> Node:
    node = session.get(Node, node_id)
    if node is None:
        raise NotFound(f"node {node_id} does not exist")
    return node


def edit_node(session: Session, node_id: int, edit: NodeEdit) -> Node:
    """A PUT or PATCH of the node: the given fields, a hostname another node has being a
    Conflict naming `hostname`; NotFound for an unknown id."""
    node = get_node(session, node_id)
    hostname = edit.hostname if edit.hostname is not None else node.hostname
    if hostname != node.hostname and session.scalar(
            select(Node.id).where(Node.hostname == hostname)) is not None:
        raise Conflict("hostname", f"a node called {hostname!r} already exists")
    node.hostname = hostname
    node.port = edit.port if edit.port is not None else node.port
    paused = edit.is_paused if edit.is_paused is not None else node.is_paused
    if paused:
        node.is_paused = True
        node.pause_reason = edit.pause_reason if "pause_reason" in edit.given else node.pause_reason
    else:
        node.is_paused = node.is_paused_errors = False
        node.pause_reason = None
    node.last_modified = utcnow()
    session.flush()
    return node


def is_online(node: Node, now: dt.datetime | None = None) -> bool:
    return node.last_offer is not None and as_utc(node.last_offer) >= (now or utcnow()) - ONLINE_WINDOW


def usable_totals(session: Session, now: dt.datetime | None = None) -> frozenset[Resources]:
    """The distinct totals of the nodes work can be placed on (online, active, unpaused), under
    any scheduler: a queued job larger than all of them can run nowhere until they change."""
    rows = session.execute(
        select(Node.cpus_total, Node.mem_total, Node.disk_total).distinct()
        .where(Node.is_active.is_(True), Node.is_paused.is_(False), Node.is_paused_errors.is_(False),
               Node.last_offer >= (now or utcnow()) - ONLINE_WINDOW))
    return frozenset(Resources(cpus or 0.0, mem or 0.0, disk or 0.0) for cpus, mem, disk in rows)


def running_executions(session: Session, node_id: int) -> list[JobExecution]:
    """The node's RUNNING executions with their job, job type and error, oldest first."""
    stmt = (select(JobExecution)
            .where(JobExecution.node_id == node_id, JobExecution.status == RUNNING)
            .options(selectinload(JobExecution.job).selectinload(Job.job_type),
                     selectinload(JobExecution.error))
            .order_by(JobExecution.id))
    return list(session.scalars(stmt))


def scheduled_by_node(session: Session) -> dict[int, Resources]:
    """What RUNNING executions have reserved, per node id."""
    stmt = (select(JobExecution.node_id, func.sum(JobExecution.cpus_scheduled),
                   func.sum(JobExecution.mem_scheduled), func.sum(JobExecution.disk_total_scheduled))
            .where(JobExecution.status == RUNNING, JobExecution.node_id.is_not(None))
            .group_by(JobExecution.node_id))
    return {node_id: Resources(float(c or 0), float(m or 0), float(d or 0))
            for node_id, c, m, d in session.execute(stmt) if node_id is not None}


def node_total(node: Node) -> Resources:
    return Resources(node.cpus_total or 0.0, node.mem_total or 0.0, node.disk_total or 0.0)


def node_resources(session: Session, node: Node) -> NodeResources:
    scheduled = scheduled_by_node(session).get(node.id, Resources())
    return NodeResources(total=node_total(node), scheduled=scheduled, used=Resources())


def node_status(session: Session, node: Node, *, started: dt.datetime, ended: dt.datetime | None,
                now: dt.datetime | None = None) -> NodeStatus:
    """The node's execution counts by status (and error category, for FAILED) over the
    executions active within [started, ended], and its running executions."""
    category = Error.category
    stmt = (select(JobExecution.status, category, func.count(), func.max(EXE_TIME))
            .outerjoin(Error, Error.id == JobExecution.error_id)
            .where(JobExecution.node_id == node.id, EXE_TIME >= started)
            .group_by(JobExecution.status, category)
            .order_by(JobExecution.status, category))
    if ended is not None:
        stmt = stmt.where(EXE_TIME <= ended)
    counts = [ExeCount(status=status, count=count, most_recent=most_recent,
                       category=cat if status == JobExecutionStatus.FAILED else None)
              for status, cat, count, most_recent in session.execute(stmt)]
    return NodeStatus(node=node, is_online=is_online(node, now), job_exe_counts=counts,
                      job_exes_running=running_executions(session, node.id))


def pause_nodes_with_errors(session: Session, *, now: dt.datetime | None = None) -> list[Node]:
    """Pause every active, unpaused node on which more than `max_node_errors` distinct jobs
    failed with SYSTEM errors in the last `node_error_period` seconds. Returns those paused.

    `node-lost` does not count: it records that a scheduler lost track of an execution (it was
    killed and restarted, the database was away, the node stopped answering), not that the
    node fails the jobs it runs. A node really gone is offline and takes no work anyway; a
    scheduler restarted a few times under load must not pause its own node for good."""
    scheduler = get_scheduler(session)
    cutoff = (now or utcnow()) - dt.timedelta(seconds=scheduler.node_error_period)
    failing = (select(JobExecution.node_id, func.count(func.distinct(JobExecution.job_id)))
               .join(Error, Error.id == JobExecution.error_id)
               .where(JobExecution.status == JobExecutionStatus.FAILED,
                      Error.category == ErrorCategory.SYSTEM, Error.name != SystemErrorName.NODE_LOST,
                      JobExecution.ended >= cutoff, JobExecution.node_id.is_not(None))
               .group_by(JobExecution.node_id)
               .having(func.count(func.distinct(JobExecution.job_id)) > scheduler.max_node_errors))
    errors = {node_id: count for node_id, count in session.execute(failing)}
    if not errors:
        return []
    nodes = list(session.scalars(
        select(Node).where(Node.id.in_(errors), Node.is_active.is_(True),
                           Node.is_paused.is_(False)).with_for_update()))
    for node in nodes:
        node.is_paused = node.is_paused_errors = True
        node.pause_reason = (f"{errors[node.id]} jobs failed with system errors within "
                             f"{scheduler.node_error_period} s")[:250]
        node.last_modified = utcnow()
    session.flush()
    return nodes


# ---- the scheduler and the system status -------------------------------------------------

def get_scheduler(session: Session) -> Scheduler:
    """The scheduler's settings row. The migration seeds it, so its absence is a broken
    installation (a 500, as the reference answers), not a missing resource."""
    scheduler = session.get(Scheduler, SCHEDULER_ID)
    if scheduler is None:
        raise ConfigError("the scheduler row is missing; run `scale db upgrade`")
    return scheduler


def edit_scheduler(session: Session, edit: SchedulerEdit) -> Scheduler:
    """Pause or resume the scheduler."""
    scheduler = get_scheduler(session)
    scheduler.is_paused = edit.is_paused
    scheduler.last_modified = utcnow()
    session.flush()
    return scheduler


def _host_port(address: str) -> tuple[str | None, int | None]:
    """`host:port`, `http://host:port` or `zk://h1:2181,h2:2181/mesos` as (host, port)."""
    url = urlsplit(address if "//" in address else f"//{address}")
    try:
        return url.hostname, url.port
    except ValueError:  # several ZooKeeper hosts: no single port
        return url.netloc, None


def system_status(session: Session, *, resource_manager: str, mesos_master: str | None,
                  now: dt.datetime | None = None) -> SystemStatus:
    """GET /status/. The scheduler is the one that leads (`scale.nodes.leadership`), online
    while its lease is fresh, under every resource manager. With the `local` manager the master
    is that same host (port 0: there is no separate master); with `mesos` it is
    `SCALE_MESOS_MASTER`, and with `celery` the freshest node's host, each online while its
    nodes' offers or heartbeats arrive. The clock is online while it ticks; `last_fire` is when
    a clock rule last fired."""
    now = now or utcnow()
    nodes = list(session.scalars(select(Node).where(Node.is_active.is_(True))))
    total = sum((node_total(n) for n in nodes), Resources())
    active_ids = {n.id for n in nodes}
    scheduled = sum((r for node_id, r in scheduled_by_node(session).items()
                     if node_id in active_ids), Resources())
    freshest = max((n for n in nodes if n.last_offer is not None),
                   key=lambda n: as_utc(n.last_offer), default=None)  # type: ignore[arg-type]
    nodes_online = freshest is not None and is_online(freshest, now)
    leader = leadership.scheduler_leader(session, now)
    scheduler_host = leader.hostname if leader is not None else None
    scheduler_online = leader is not None and leader.is_online
    if resource_manager == "mesos" and mesos_master:
        master, master_online = _host_port(mesos_master), nodes_online
    elif resource_manager == "celery":
        master, master_online = (freshest.hostname if freshest is not None else None, 0), nodes_online
    else:
        master, master_online = (scheduler_host, 0), scheduler_online
    clock, last_fire = leadership.clock_status(session, now)
    return SystemStatus(
        master_hostname=master[0], master_port=master[1], master_online=master_online,
        scheduler_hostname=scheduler_host, scheduler_online=scheduler_online,
        scheduler_paused=get_scheduler(session).is_paused,
        queue_depth=session.scalar(select(func.count()).select_from(Queue)) or 0,
        resources=NodeResources(total=total, scheduled=scheduled, used=Resources()),
        scheduler_leader=leader.holder if leader is not None else None,
        clock_hostname=clock.hostname if clock is not None else None,
        clock_online=clock is not None and clock.is_online, clock_last_fire=last_fire,
    )
