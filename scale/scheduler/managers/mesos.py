"""The `mesos` resource manager: a Mesos framework inside the scheduler process, speaking the
v1 scheduler HTTP API through the `avmesos` client.

- Offers: kept until used or for OFFER_HOLD_SECONDS, then declined; all are declined at once
  while the scheduler is paused. Each agent seen in offers is a node; its total is what Mesos
  last offered Scale there plus what Scale's own tasks hold there, so the loop's `free` (total
  minus the RUNNING executions' reservations) is about what the agent offers now.
- Launch: the launcher thread (`scale.scheduler.managers.mesos_launch`) accepts offers with the
  tasks queued for their agents, kills the tasks of ended executions and declines old offers.
- Status updates (acknowledged by avmesos): `scale execute` records the outcome itself, so a
  terminal state only fails an execution still RUNNING, with the SYSTEM error of ERRORS
  (queued again while tries remain). An agent lost (a FAILURE event) fails its tasks `node-lost`.
- Reconciliation: the framework id is fixed by the installation (`scale-<installation_id>`),
  so a restarted scheduler re-subscribes as the same framework; `reattach` follows a task left
  by the previous one and asks the master for its state (RECONCILE), as does every
  re-subscription for all tasks followed. `shutdown` leaves tasks running (the master keeps
  them for FAILOVER_TIMEOUT_SECONDS) for the next scheduler to reconcile.
"""

from __future__ import annotations

import getpass
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from avmesos.client import MesosClient  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from scale.models.errors import SystemErrorName
from scale.models.jobs import JobExecution, JobExecutionStatus
from scale.nodes import service as nodes
from scale.queue import transitions
from scale.resources import Resources
from scale.scheduler.managers.base import NodeGone, NodeOffer, fail_quietly
from scale.scheduler.managers.mesos_launch import Agent, FrameworkState, Launcher, Offer, Task
from scale.scheduler.managers.mesos_wire import TERMINAL_STATES, error_for, job_exe_id_of, offered_resources, task_id_of
from scale.settings import Settings

log = logging.getLogger(__name__)

FRAMEWORK_NAME = "Scale"
# How long the master keeps the tasks of a disconnected framework for its next scheduler.
FAILOVER_TIMEOUT_SECONDS = 7 * 24 * 3600.0
COMMAND = "scale execute"
AGENT_PORT = 5051  # an offer without an agent URL: the agent's default port
# Offers' leftovers come back this slowly while the scheduler is paused (`mesos_launch.REFUSE_SECONDS` otherwise).
PAUSED_REFUSE_SECONDS = 5.0
ENDED_GRACE_SECONDS = 60.0
RECONNECT_SECONDS = 2.0
# An agent with no offer this long and no task of Scale's is no longer a node.
AGENT_TTL_SECONDS = 60.0


class MesosManager:
    """A Mesos framework registered with `master` (an http:// URL or zk://) as `framework_id`
    (or what calling it returns). Tasks run `command` followed by the execution id, with
    `task_env` (the system environment) in their environment."""

    name = "mesos"
    cluster_wide = True

    def __init__(self, *, sessions: sessionmaker, master: str, framework_id: str | Callable[[], str],
                 task_env: Mapping[str, str], command: str = COMMAND,
                 on_finished: Callable[[int], None] | None = None) -> None:
        self._sessions = sessions
        self._state = FrameworkState(sessions, on_finished)
        self._stopping = threading.Event()
        self._framework_id = framework_id
        self._client = MesosClient(mesos_urls=[master], frameworkName=FRAMEWORK_NAME,
                                   frameworkUser=getpass.getuser())
        self._client.set_failover_timeout(FAILOVER_TIMEOUT_SECONDS)
        for event, callback in ((MesosClient.SUBSCRIBED, self._on_subscribed),
                                (MesosClient.OFFERS, self._on_offers),
                                (MesosClient.UPDATE, self._on_update),
                                (MesosClient.RESCIND, self._on_rescind),
                                (MesosClient.FAILURE, self._on_failure),
                                (MesosClient.ERROR, self._on_error),
                                (MesosClient.DISCONNECTED, self._on_disconnected)):
            self._client.on(event, callback)
        self._launcher = Launcher(self._state, self._client, command=command, task_env=task_env,
                                  stopping=self._stopping)
        self._threads = [threading.Thread(target=self._subscribe, name="mesos-stream", daemon=True),
                         threading.Thread(target=self._launcher.run, name="mesos-launcher", daemon=True)]
        for thread in self._threads:
            thread.start()

    @classmethod
    def from_settings(cls, settings: Settings, sessions: sessionmaker,
                      on_finished: Callable[[int], None] | None = None) -> MesosManager:
        master = settings.mesos_master or ""
        if "://" not in master:
            master = f"http://{master}"

        def framework_id() -> str:
            with sessions() as session:
                return f"scale-{nodes.get_scheduler(session).installation_id}"

        return cls(sessions=sessions, master=master, framework_id=framework_id,
                   task_env=settings.to_env(), on_finished=on_finished)

    # ---- the ResourceManager protocol -------------------------------------------------------

    def nodes(self) -> list[NodeOffer]:
        """The agents of recent offers, none while not subscribed: then nothing is placed, and
        the nodes' heartbeats (what /status/ calls the master being online) stop."""
        now = time.monotonic()
        with self._state.lock:
            if self._state.driver is None:
                return []
            # A queued task is still part of what its agent offers (its offer is not accepted yet).
            used: dict[str, Resources] = {}
            for task in self._state.tasks.values():
                if task.info is None:
                    used[task.agent_id] = used.get(task.agent_id, Resources()) + task.resources
            busy = {task.agent_id for task in self._state.tasks.values()}
            for agent_id, agent in list(self._state.agents.items()):
                if agent_id not in busy and now - agent.last_offer > AGENT_TTL_SECONDS:
                    del self._state.agents[agent_id]
            return [NodeOffer(hostname=agent.hostname, port=agent.port, slave_id=agent_id,
                              total=agent.offered + used.get(agent_id, Resources()))
                    for agent_id, agent in self._state.agents.items()]

    def launch(self, job_exe_id: int, node: NodeOffer) -> None:
        if node.slave_id is None:
            raise RuntimeError(f"node {node.hostname} is not a Mesos agent")
        info, resources = self._launcher.task_info(job_exe_id, node.slave_id)
        with self._state.wake:
            if node.slave_id not in self._state.agents:  # lost since the loop's last heartbeat
                raise NodeGone(f"Mesos agent {node.slave_id} is gone")
            if job_exe_id in self._state.tasks:
                raise RuntimeError(f"job execution {job_exe_id} is already running here")
            self._state.tasks[job_exe_id] = Task(job_exe_id, node.slave_id, resources, info)
            self._state.wake.notify()

    def running(self) -> set[int]:
        with self._state.lock:
            return set(self._state.tasks)

    def kill(self, job_exe_id: int) -> None:
        """The execution is no longer RUNNING: a task never launched is dropped; a canceled
        one is killed (KILL) by the launcher thread. One that ended otherwise was recorded by
        its own `scale execute`, which is exiting: it is killed only if still there after
        ENDED_GRACE_SECONDS."""
        with self._state.lock:
            task = self._state.tasks.get(job_exe_id)
            if task is None or task.kill_at is not None:
                return
            if task.info is not None:
                del self._state.tasks[job_exe_id]
        if task.info is not None:
            self._state.finished(job_exe_id)
            return
        with self._sessions() as session:
            status = session.scalar(select(JobExecution.status).where(JobExecution.id == job_exe_id))
        grace = 0.0 if status == JobExecutionStatus.CANCELED else ENDED_GRACE_SECONDS
        with self._state.wake:
            task.kill_at = time.monotonic() + grace
            self._state.wake.notify()

    def reattach(self, job_exe_id: int) -> bool:
        """Follow the task of an execution a previous scheduler launched: its state comes back
        from the master's reconciliation (a task the master does not know is TASK_LOST)."""
        agent_id, resources = self._placement(job_exe_id)
        if agent_id is None:
            return False
        with self._state.lock:
            self._state.tasks.setdefault(job_exe_id, Task(job_exe_id, agent_id, resources, None))
            driver = self._state.driver
        if driver is not None:
            driver.reconcile([{"task_id": {"value": task_id_of(job_exe_id)}, "agent_id": {"value": agent_id}}])
        log.warning("reconciling the Mesos task of job execution %s", job_exe_id)
        return True

    def reap(self, job_exe_id: int) -> None:
        agent_id, _resources = self._placement(job_exe_id)
        with self._state.lock:
            driver = self._state.driver
        if agent_id is not None and driver is not None:
            driver.kill(agent_id, task_id_of(job_exe_id))

    def wait_for_change(self, timeout: float) -> bool:
        finished = self._state.changed.wait(timeout)
        self._state.changed.clear()
        return finished

    def shutdown(self) -> set[int]:
        """Disconnect without tearing the framework down: its tasks keep running for the next
        scheduler to reconcile, so none was stopped."""
        self._stopping.set()
        with self._state.wake:
            self._state.wake.notify()
        self._client.disconnect_framework()
        # Ends the stream thread's read at once (avmesos only looks at its flag between events).
        sock = getattr(getattr(getattr(self._client.long_pool, "raw", None), "connection", None), "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed
        for thread in self._threads:
            thread.join(timeout=5)
        return set()

    # ---- avmesos callbacks (on the stream thread) ---------------------------------------------

    def _subscribe(self) -> None:
        while not self._stopping.is_set():
            try:
                if self._client.frameworkId is None:
                    # Read here, not at start-up: the database may not be up yet.
                    framework_id = self._framework_id
                    self._client.frameworkId = framework_id if isinstance(framework_id, str) else framework_id()
                self._client.register()
            except Exception:
                log.exception("Mesos subscription failed")
            self._stopping.wait(RECONNECT_SECONDS)

    def _on_subscribed(self, driver: Any) -> None:
        log.info("subscribed to the Mesos master as framework %s", driver.frameworkId)
        with self._state.lock:
            self._state.driver = driver
            launched = [{"task_id": {"value": task_id_of(t.job_exe_id)}, "agent_id": {"value": t.agent_id}}
                        for t in self._state.tasks.values() if t.info is None]
        driver.reconcile(launched)

    def _on_disconnected(self, message: str) -> None:
        log.warning("%s", message)
        with self._state.lock:
            self._state.driver = None
            self._state.offers.clear()

    def _on_error(self, message: str) -> None:
        log.error("the Mesos master ended the subscription: %s", message)

    def _on_offers(self, offers: list[Any]) -> None:
        paused = self._paused()
        with self._state.wake:
            for handle in offers:
                offer = handle.get_offer()
                agent_id = offer["agent_id"]["value"]
                resources = offered_resources(offer)
                if not paused:
                    self._state.offers[offer["id"]["value"]] = Offer(agent_id, resources, handle)
                port = offer.get("url", {}).get("address", {}).get("port", AGENT_PORT)
                held = sum((o.resources for o in self._state.offers.values() if o.agent_id == agent_id), Resources())
                self._state.agents[agent_id] = Agent(offer["hostname"], int(port), held if not paused else resources)
            self._state.wake.notify()
        if paused:
            for handle in offers:
                handle.decline({"filters": {"refuse_seconds": PAUSED_REFUSE_SECONDS}})

    def _on_rescind(self, rescind: Mapping[str, Any]) -> None:
        with self._state.lock:
            self._state.offers.pop(rescind["offer_id"]["value"], None)

    def _on_failure(self, failure: Mapping[str, Any]) -> None:
        if "executor_id" in failure:
            return  # an executor's end: its tasks' own updates follow
        agent_id = failure["agent_id"]["value"]
        log.warning("Mesos agent %s was lost", agent_id)
        with self._state.lock:
            self._state.agents.pop(agent_id, None)
            for offer_id in [i for i, o in self._state.offers.items() if o.agent_id == agent_id]:
                del self._state.offers[offer_id]
            lost = [t for t in self._state.tasks.values() if t.agent_id == agent_id]
            for task in lost:
                del self._state.tasks[task.job_exe_id]
        for task in lost:
            if task.info is None:
                fail_quietly(self._sessions, task.job_exe_id, SystemErrorName.NODE_LOST)
            else:  # still waiting for an offer from the agent: it never started, so no try is spent
                self._return_to_queue(task.job_exe_id)
            self._state.finished(task.job_exe_id)

    def _on_update(self, update: Mapping[str, Any]) -> None:
        status = update["status"]
        job_exe_id = job_exe_id_of(status["task_id"]["value"])
        state = status["state"]
        log.info("task %s: %s %s", status["task_id"]["value"], state, status.get("reason", ""))
        if job_exe_id is None or state not in TERMINAL_STATES:
            return
        with self._state.lock:
            task = self._state.tasks.pop(job_exe_id, None)
        if task is None:  # not followed here: another scheduler's, or already ended
            return
        fail_quietly(self._sessions, job_exe_id, error_for(state, status.get("reason")))
        self._state.finished(job_exe_id)

    # ---- the database -------------------------------------------------------------------------

    def _placement(self, job_exe_id: int) -> tuple[str | None, Resources]:
        with self._sessions() as session:
            exe = session.get(JobExecution, job_exe_id)
            if exe is None or exe.node is None:
                return None, Resources()
            return exe.node.slave_id, Resources(exe.cpus_scheduled or 0.0, exe.mem_scheduled or 0.0,
                                                exe.disk_total_scheduled or 0.0)

    def _paused(self) -> bool:
        try:
            with self._sessions() as session:
                return nodes.get_scheduler(session).is_paused
        except Exception:  # no database: hold the offers, nothing is scheduled meanwhile
            log.exception("could not read whether the scheduler is paused")
            return False

    def _return_to_queue(self, job_exe_id: int) -> None:
        try:
            with self._sessions.begin() as session:
                transitions.return_to_queue(session, [job_exe_id])
        except Exception:
            log.exception("could not put job execution %s back in the queue", job_exe_id)
