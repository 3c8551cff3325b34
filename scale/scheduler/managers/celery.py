"""The `celery` resource manager: nodes are `scale node` processes (Celery workers), one per
machine, each heartbeating its resources into the node table and consuming its own queue.

- `nodes()`: the nodes whose heartbeat is fresh (within `node_lost_seconds`), with the totals
  they reported. First it marks the silent ones offline and fails their RUNNING executions with
  `node-lost` (`registry.lose_silent_nodes`), so they are queued again while tries remain. The
  first call also re-sends the executions on live nodes that have not started (a previous
  scheduler may have died before sending them).
- `launch`: sends the execution to its node's queue through the `NodeChannel` the shell
  passes in (this package never imports Celery); the node's worker calls the job runner.
  Sends go out on threads of their own, so a cycle placing many executions does not wait a
  broker round trip for each (under load, 50 ms a send); one that fails fails its execution
  with `task-launch` here, as the loop does when a launch raises.
- `running()`: every execution RUNNING on a live node (so a restarted scheduler leaves the
  nodes' work alone).
- `wait_for_change`: polls the database for launched executions that have ended, and hands
  them to `on_finished` on a thread of its own (its queries and sends would otherwise hold up
  the loop, one per finished job).
- `kill`/`reap`: a kill message to the execution's node, which stops its runner.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from scale.exceptions import ConfigError
from scale.models.errors import SystemErrorName
from scale.models.jobs import JobExecution, JobExecutionStatus
from scale.models.nodes import Node
from scale.nodes import registry
from scale.nodes import service as nodes
from scale.scheduler.managers.base import NodeOffer, fail_quietly, follow_up
from scale.settings import Settings
from scale.timeutil import utcnow

log = logging.getLogger(__name__)

RUNNING = JobExecutionStatus.RUNNING
# How often `wait_for_change` looks for ended executions: a finished job's resources are
# noticed this late at most (the loop itself schedules from the database, not from this).
POLL_SECONDS = 0.1
# Threads for sending launches, and for what follows an ended execution (a kill message,
# `on_finished`'s sends).
SEND_THREADS = 4
AFTER_THREADS = 2


class NodeChannel(Protocol):
    """How the scheduler reaches `scale node` processes; the shell implements it with Celery."""

    def send_execution(self, hostname: str, job_exe_id: int) -> None:
        """Queue execution `job_exe_id` on node `hostname`. Raises if it could not be sent."""

    def kill_execution(self, hostname: str, job_exe_id: int) -> None:
        """Ask node `hostname` to stop execution `job_exe_id`, if it runs it."""


_channel: NodeChannel | None = None


def use_channel(channel: NodeChannel) -> None:
    """Set the channel that `from_settings` builds managers with (the scheduler's shell does,
    before `make_manager`; as `brokers.configure`, this keeps Celery out of `scale/`)."""
    global _channel
    _channel = channel


class CeleryManager:
    """Executions placed on `scale node` processes through `channel`."""

    name = "celery"
    cluster_wide = True

    def __init__(self, *, sessions: sessionmaker, channel: NodeChannel, lost_after: float,
                 on_finished: Callable[[int], None] | None = None) -> None:
        self._sessions = sessions
        self._channel = channel
        self._lost_after = dt.timedelta(seconds=lost_after)
        self._on_finished = on_finished
        self._lock = threading.Lock()
        self._launched: set[int] = set()
        self._resent = False
        self._senders = ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="scale-send")
        self._after = ThreadPoolExecutor(max_workers=AFTER_THREADS, thread_name_prefix="scale-after")

    @classmethod
    def from_settings(cls, settings: Settings, sessions: sessionmaker,
                      on_finished: Callable[[int], None] | None = None) -> CeleryManager:
        if _channel is None:
            raise ConfigError("the celery resource manager has no channel to its nodes; "
                              "run it in `scale scheduler`")
        return cls(sessions=sessions, channel=_channel, lost_after=settings.node_lost_seconds,
                   on_finished=on_finished)

    def nodes(self) -> list[NodeOffer]:
        since = utcnow() - self._lost_after
        with self._sessions.begin() as session:
            for job_exe_id in registry.lose_silent_nodes(session, silent_since=since):
                log.warning("job execution %s failed: its node stopped heartbeating", job_exe_id)
            offers = [NodeOffer(hostname=node.hostname, port=node.port, total=nodes.node_total(node),
                                own_heartbeat=True)
                      for node in registry.heartbeating_nodes(session, since=since)]
            unsent = [] if self._resent else list(session.execute(
                select(JobExecution.id, Node.hostname).join(Node, Node.id == JobExecution.node_id)
                .where(JobExecution.status == RUNNING, JobExecution.job_started.is_(None),
                       Node.last_offer >= since)))
        if not self._resent:
            # A scheduler that died between scheduling (committed) and sending left these
            # RUNNING with no message; sending one again is harmless (`NodeAgent.run`).
            self._resent = True
            for job_exe_id, hostname in unsent:
                log.info("sending job execution %s to node %s again", job_exe_id, hostname)
                self._launch_on(job_exe_id, hostname)
        return offers

    def launch(self, job_exe_id: int, node: NodeOffer) -> None:
        self._launch_on(job_exe_id, node.hostname)

    def _launch_on(self, job_exe_id: int, hostname: str) -> None:
        with self._lock:
            self._launched.add(job_exe_id)
        self._senders.submit(self._send, job_exe_id, hostname)

    def _send(self, job_exe_id: int, hostname: str) -> None:
        try:
            self._channel.send_execution(hostname, job_exe_id)
        except Exception:
            log.exception("could not send job execution %s to node %s", job_exe_id, hostname)
            fail_quietly(self._sessions, job_exe_id, SystemErrorName.TASK_LAUNCH)

    def running(self) -> set[int]:
        # From the database, not from what was launched here: an execution launched here that
        # has ended is not running (the loop would kill it), and one a previous scheduler
        # launched still is (the loop must not reconcile it).
        since = utcnow() - self._lost_after
        with self._sessions() as session:
            return set(session.scalars(
                select(JobExecution.id).join(Node, Node.id == JobExecution.node_id)
                .where(JobExecution.status == RUNNING, Node.last_offer >= since)))

    def kill(self, job_exe_id: int) -> None:
        with self._sessions() as session:
            hostname = session.scalar(select(Node.hostname).join(JobExecution, JobExecution.node_id == Node.id)
                                      .where(JobExecution.id == job_exe_id))
        if hostname is not None:
            self._channel.kill_execution(hostname, job_exe_id)

    def reattach(self, job_exe_id: int) -> bool:
        """Executions run on the nodes, not here: one left RUNNING on a live node is in
        `running()`, so the loop never asks; one on a lost node cannot be followed."""
        return False

    def reap(self, job_exe_id: int) -> None:
        self.kill(job_exe_id)

    def wait_for_change(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if self._collect_finished():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(POLL_SECONDS, remaining))

    def shutdown(self) -> set[int]:
        """Nothing runs here, so nothing is stopped: the nodes carry on, and a restarted
        scheduler finds their work in `running()`. Launches and what follows the executions
        seen ending are sent first."""
        self._senders.shutdown(wait=True)
        self._after.shutdown(wait=True)
        with self._lock:
            self._launched.clear()
        return set()

    def _collect_finished(self) -> bool:
        with self._lock:
            launched = list(self._launched)
        if not launched:
            return False
        with self._sessions() as session:
            ended = list(session.execute(select(JobExecution.id, JobExecution.status).where(
                JobExecution.id.in_(launched), JobExecution.status != RUNNING)))
        if not ended:
            return False
        with self._lock:
            self._launched.difference_update(job_exe_id for job_exe_id, _status in ended)
        for job_exe_id, status in ended:
            self._after.submit(self._follow_up, job_exe_id, status)
        return True

    def _follow_up(self, job_exe_id: int, status: str) -> None:
        if status == JobExecutionStatus.CANCELED:
            # The runner notices within a second on its own; the message stops it now.
            try:
                self.kill(job_exe_id)
            except Exception:
                log.exception("could not send the kill of job execution %s", job_exe_id)
        follow_up(self._on_finished, job_exe_id)
