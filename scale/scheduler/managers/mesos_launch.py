"""The `mesos` manager's launch side: the state its threads share, and the launcher thread that
turns queued tasks and held offers into ACCEPT, KILL and DECLINE calls.

- Launch: the loop has scheduled the execution on an agent; a Mesos task running
  `scale execute JOB_EXE_ID` is queued for that agent and the launcher thread accepts the
  agent's offers with every queued task that fits them (one ACCEPT per agent). A task no offer
  has taken within LAUNCH_WAIT_SECONDS fails with `task-launch`.
- Offers held for OFFER_HOLD_SECONDS are declined; a task whose execution ended is killed
  (again every KILL_RESEND_SECONDS while it is still there).

The event stream, the offers' arrival and reconciliation are `scale.scheduler.managers.mesos`.
"""

from __future__ import annotations

import logging
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import sessionmaker

from scale.models.errors import SystemErrorName
from scale.models.jobs import JobExecution
from scale.resources import Resources
from scale.scheduler.managers.base import fail_quietly, follow_up
from scale.scheduler.managers.mesos_wire import scalar, task_id_of

# The manager's log lines have always carried this logger's name.
log = logging.getLogger("scale.scheduler.managers.mesos")

OFFER_HOLD_SECONDS = 5.0
LAUNCH_WAIT_SECONDS = 30.0
# Declined (and accepted) offers' leftovers come back this soon.
REFUSE_SECONDS = 1.0
KILL_RESEND_SECONDS = 5.0
HOUSEKEEPING_SECONDS = 0.2


@dataclass
class Task:
    """A Mesos task of Scale's: queued for its agent's offers, launched, or being killed."""

    job_exe_id: int
    agent_id: str
    resources: Resources
    info: dict[str, Any] | None  # the TaskInfo while it waits for an offer; None once launched
    since: float = field(default_factory=time.monotonic)
    kill_at: float | None = None  # when to send KILL (again)


@dataclass
class Agent:
    """An agent seen in offers: a node, offering `offered` beside what Scale's tasks hold there."""

    hostname: str
    port: int
    offered: Resources
    last_offer: float = field(default_factory=time.monotonic)


@dataclass
class Offer:
    """An offer held until a task takes it, or declined after OFFER_HOLD_SECONDS."""

    agent_id: str
    resources: Resources
    handle: Any  # avmesos' Offer, which declines itself
    received: float = field(default_factory=time.monotonic)


@dataclass
class FrameworkState:
    """What the scheduler loop, the event stream thread and the launcher thread share; read and
    written under `lock` (`wake`, its condition, tells the launcher thread there is work)."""

    sessions: sessionmaker
    on_finished: Callable[[int], None] | None
    lock: threading.Lock = field(default_factory=threading.Lock)
    agents: dict[str, Agent] = field(default_factory=dict)
    offers: dict[str, Offer] = field(default_factory=dict)
    tasks: dict[int, Task] = field(default_factory=dict)
    driver: Any = None  # avmesos' driver while subscribed
    changed: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.wake = threading.Condition(self.lock)

    def finished(self, job_exe_id: int) -> None:
        """An execution this manager ran has ended: wake the loop, and follow it up."""
        self.changed.set()
        follow_up(self.on_finished, job_exe_id)


class Launcher:
    """The launcher thread's work (`run`), and the TaskInfo of an execution to launch: tasks run
    `command` followed by the execution id, with `task_env` in their environment."""

    def __init__(self, state: FrameworkState, client: Any, *, command: str, task_env: Mapping[str, str],
                 stopping: threading.Event) -> None:
        self._state = state
        self._client = client
        self._command = command
        self._task_env = dict(task_env)
        self._stopping = stopping

    def run(self) -> None:
        while not self._stopping.is_set():
            with self._state.wake:
                self._state.wake.wait(HOUSEKEEPING_SECONDS)
            try:
                self._launch_queued()
                self._kill_stopped()
                self._decline_old_offers()
            except Exception:
                log.exception("Mesos offer handling failed")

    def _launch_queued(self) -> None:
        now = time.monotonic()
        launches: list[tuple[list[Offer], list[Task]]] = []
        expired: list[int] = []
        with self._state.lock:
            queued = sorted((t for t in self._state.tasks.values() if t.info is not None), key=lambda t: t.since)
            for agent_id in dict.fromkeys(t.agent_id for t in queued):
                offer_ids = [i for i, o in self._state.offers.items() if o.agent_id == agent_id]
                room = sum((self._state.offers[i].resources for i in offer_ids), Resources())
                fitting = []
                for task in (t for t in queued if t.agent_id == agent_id):
                    if task.resources.fits_in(room):
                        room = room - task.resources
                        fitting.append(task)
                    elif now - task.since > LAUNCH_WAIT_SECONDS:
                        expired.append(task.job_exe_id)
                if fitting and self._state.driver is not None:
                    launches.append(([self._state.offers.pop(i) for i in offer_ids], fitting))
                    if agent_id in self._state.agents:
                        self._state.agents[agent_id].offered = room
            for exe_id in expired:
                del self._state.tasks[exe_id]
        for exe_id in expired:
            log.warning("no Mesos offer took job execution %s", exe_id)
            fail_quietly(self._state.sessions, exe_id, SystemErrorName.TASK_LAUNCH)
            self._state.finished(exe_id)
        for offers, tasks in launches:
            self._accept(offers, tasks)

    def _accept(self, offers: list[Offer], tasks: list[Task]) -> None:
        infos = []
        with self._state.lock:
            tasks = [t for t in tasks if self._state.tasks.get(t.job_exe_id) is t]  # not canceled meanwhile
            for task in tasks:
                assert task.info is not None
                infos.append(task.info)
                task.info = None
        if not tasks:
            for offer in offers:
                offer.handle.decline({"filters": {"refuse_seconds": REFUSE_SECONDS}})
            return
        try:
            self._client.combine_offers([o.handle for o in offers], infos,
                                        {"filters": {"refuse_seconds": REFUSE_SECONDS}})
        except Exception:
            log.exception("could not accept Mesos offers")
            for task in tasks:
                with self._state.lock:
                    self._state.tasks.pop(task.job_exe_id, None)
                fail_quietly(self._state.sessions, task.job_exe_id, SystemErrorName.TASK_LAUNCH)
                self._state.finished(task.job_exe_id)
            return
        log.info("launched %s on Mesos agent %s", ", ".join(i["task_id"]["value"] for i in infos),
                 offers[0].agent_id)

    def _kill_stopped(self) -> None:
        now = time.monotonic()
        with self._state.lock:
            driver = self._state.driver
            if driver is None:
                return
            due = [t for t in self._state.tasks.values() if t.kill_at is not None and t.kill_at <= now]
            for task in due:
                task.kill_at = now + KILL_RESEND_SECONDS
        for task in due:
            log.info("killing the Mesos task of job execution %s", task.job_exe_id)
            driver.kill(task.agent_id, task_id_of(task.job_exe_id))

    def _decline_old_offers(self) -> None:
        now = time.monotonic()
        with self._state.lock:
            old = [i for i, o in self._state.offers.items() if now - o.received > OFFER_HOLD_SECONDS]
            declined = [self._state.offers.pop(i) for i in old]
        for offer in declined:
            offer.handle.decline({"filters": {"refuse_seconds": REFUSE_SECONDS}})

    def task_info(self, job_exe_id: int, agent_id: str) -> tuple[dict[str, Any], Resources]:
        with self._state.sessions() as session:
            exe = session.get(JobExecution, job_exe_id)
            if exe is None:
                raise RuntimeError(f"job execution {job_exe_id} does not exist")
            job_type = exe.job.job_type
            resources = Resources(exe.cpus_scheduled or 0.0, exe.mem_scheduled or 0.0,
                                  exe.disk_total_scheduled or 0.0)
            name = f"{job_type.name} {job_type.version} (job {exe.job_id}, execution {job_exe_id})"
        info = {
            "name": name,
            "task_id": {"value": task_id_of(job_exe_id)},
            "agent_id": {"value": agent_id},
            "resources": [scalar("cpus", resources.cpus), scalar("mem", resources.mem)]
            + ([scalar("disk", resources.disk)] if resources.disk else []),
            "command": {"shell": True, "value": f"{self._command} {shlex.quote(str(job_exe_id))}",
                        "environment": {"variables": [{"name": k, "value": v}
                                                      for k, v in sorted(self._task_env.items())]}},
        }
        return info, resources
