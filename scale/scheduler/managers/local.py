"""The `local` resource manager (the default): this machine is the one node, and each
execution runs the job runner as a function on a thread of the scheduler process.

Threads, not child processes: the runner spends its time waiting on the job's own process or
container, and calling it in-process saves a Python start-up per job."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from scale.execution.base import DockerClientFactory, Runner
from scale.execution.containers import find_container
from scale.execution.processes import kill_leftover_processes
from scale.execution.running import RunningExecutions
from scale.models.errors import SystemErrorName
from scale.nodes import service as nodes
from scale.resources import Resources
from scale.scheduler.managers.base import NodeOffer, fail_quietly, follow_up
from scale.settings import Settings

log = logging.getLogger(__name__)

MIB = 1024 * 1024
# The local node has no executor listening; the reference's `port` is then 0.
LOCAL_PORT = 0
# Resources, not the pool, bound how many executions run; this only caps runaway thread use
# when jobs ask for tiny cpu shares.
MAX_THREADS = 256


def memory_mib() -> float:
    """Total RAM of this machine in MiB (`MemTotal` of /proc/meminfo, else sysconf)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return float(int(line.split()[1]) // 1024)  # kB
    except OSError:
        pass
    return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // MIB)


def machine_resources(work_root: Path) -> Resources:
    """This machine's capacity: all cpus, all RAM and the disk space free under `work_root`
    (measured once: what executions later write there is accounted as scheduled disk)."""
    work_root.mkdir(parents=True, exist_ok=True)
    return Resources(cpus=float(os.cpu_count() or 1), mem=memory_mib(),
                     disk=float(shutil.disk_usage(work_root).free // MIB))


class LocalManager:
    """One node (this machine); executions run `runner` (`JobRunner.from_settings`) on a thread
    pool. `docker` finds the containers a scheduler that died left behind: followed to their
    end with `runner.resume_execution`, or reaped; without it they are not looked for. A runner
    that raises (a bug: it reports its own failures) gets the execution failed with the SYSTEM
    error `unknown`, so it never stays RUNNING with nothing behind it."""

    name = "local"
    cluster_wide = False

    def __init__(self, *, sessions: sessionmaker, work_root: Path, runner: Runner,
                 docker: DockerClientFactory | None = None, hostname: str | None = None,
                 total: Resources | None = None, on_finished: Callable[[int], None] | None = None) -> None:
        self._sessions = sessions
        self._on_finished = on_finished
        self._docker = docker
        self._runner = runner
        self._offer = NodeOffer(hostname=hostname or socket.getfqdn(), port=LOCAL_PORT,
                                total=total or machine_resources(work_root))
        self._pool = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="scale-exe")
        self._running = RunningExecutions()
        self._changed = threading.Event()
        self._installation_id: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, sessions: sessionmaker,
                      on_finished: Callable[[int], None] | None = None) -> LocalManager:
        from scale.execution.runner import JobRunner

        runner = JobRunner.from_settings(settings, sessions)
        return cls(sessions=sessions, work_root=settings.work_root, runner=runner, docker=runner.docker,
                   hostname=settings.node_name, on_finished=on_finished)

    def nodes(self) -> list[NodeOffer]:
        return [self._offer]

    def launch(self, job_exe_id: int, node: NodeOffer) -> None:
        self._submit(job_exe_id, lambda stop: self._runner.run_execution(job_exe_id, should_stop=stop.is_set))

    def reattach(self, job_exe_id: int) -> bool:
        """Follow a container the execution left running (or exited) when its scheduler died
        to its end, with `runner.resume_execution`. A child process cannot be followed (its exit
        status went to the scheduler that died): `reap` stops it. False when there is nothing to
        carry on with."""
        if self._docker is None:
            return False
        installation = self._installation()  # a database error propagates: try again later
        try:
            task = find_container(self._docker(), installation, job_exe_id)
        except Exception:  # no Docker on this node: then there is no container either
            log.debug("no Docker to look for job execution %s's container", job_exe_id)
            return False
        if task is None:
            return False
        log.warning("re-attached to the container of job execution %s", job_exe_id)
        self._submit(job_exe_id, lambda stop: self._runner.resume_execution(job_exe_id, task,
                                                                            should_stop=stop.is_set))
        return True

    def _submit(self, job_exe_id: int, body: Callable[[threading.Event], object]) -> None:
        stop = self._running.start(job_exe_id)
        if stop is None:
            raise RuntimeError(f"job execution {job_exe_id} is already running here, or the manager has shut down")
        try:
            self._pool.submit(self._run, job_exe_id, stop, body)
        except BaseException:
            self._running.end(job_exe_id)
            raise

    def running(self) -> set[int]:
        return self._running.ids()

    def kill(self, job_exe_id: int) -> None:
        self._running.stop(job_exe_id)

    def reap(self, job_exe_id: int) -> None:
        """Kill the child processes (their whole process groups) and remove the container the
        execution left behind; a process cannot be followed to its end by another scheduler
        (its exit status went to the one that died), so it is stopped and the try retried."""
        if killed := kill_leftover_processes(self._installation(), job_exe_id):
            log.warning("killed %s leftover process group(s) of job execution %s", killed, job_exe_id)
        if self._docker is None:
            return
        installation = self._installation()
        try:
            task = find_container(self._docker(), installation, job_exe_id)
        except Exception:  # no Docker on this node: then there is no container either
            log.debug("no Docker to look for job execution %s's container", job_exe_id)
            return
        if task is not None:
            log.warning("killing the leftover container of job execution %s", job_exe_id)
            task.kill()
            task.close()

    def _installation(self) -> str:
        """This database's installation id, which tags its job processes and containers
        (read once: it never changes)."""
        if self._installation_id is None:
            with self._sessions() as session:
                self._installation_id = nodes.get_scheduler(session).installation_id
        return self._installation_id

    def wait_for_change(self, timeout: float) -> bool:
        finished = self._changed.wait(timeout)
        self._changed.clear()
        return finished

    def shutdown(self) -> set[int]:
        """Ask every running execution to stop and wait for the runners to finish; all of them
        were stopped here (a restarted scheduler reconciles any the loop cannot put back)."""
        stopped = self._running.stop_all()
        self._pool.shutdown(wait=True, cancel_futures=True)
        return stopped

    def _run(self, job_exe_id: int, stop: threading.Event, body: Callable[[threading.Event], object]) -> None:
        try:
            body(stop)
        except Exception:
            log.exception("runner failed for job execution %s", job_exe_id)
            fail_quietly(self._sessions, job_exe_id, SystemErrorName.UNKNOWN)
        finally:
            self._running.end(job_exe_id)
            self._changed.set()
        follow_up(self._on_finished, job_exe_id)
