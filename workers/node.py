"""`scale node`: a Celery worker that is one node of the celery resource manager.

It consumes only its own queue (`scale.node.<name>`), on a thread pool: each task calls the
node agent (`scale.nodes.agent.NodeAgent`), which runs the job runner in this process. Kill
messages are a remote-control command addressed to this worker alone. The scheduler's side of
both is `CeleryNodeChannel`."""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery, shared_task
from celery.signals import worker_shutting_down
from celery.worker.control import control_command

from scale.db import make_engine, make_sessions
from scale.nodes.agent import NodeAgent
from scale.resources import Resources
from scale.scheduler.managers.local import MAX_THREADS
from scale.settings import Settings
from workers.app import make_celery

log = logging.getLogger("scale.node")

RUN_EXECUTION = "scale.node.run_execution"
KILL_EXECUTION = "scale_kill_execution"
# Connections the node's runner threads share: each holds one for a few milliseconds per
# transaction, and three nodes plus the scheduler stay well under PostgreSQL's 100.
POOL_SIZE = 12
POOL_OVERFLOW = 4

# The agent of this process (a `scale node` runs one), for the task and the kill command.
_agent: NodeAgent | None = None


def node_queue(name: str) -> str:
    return f"scale.node.{name}"


def node_worker_name(name: str) -> str:
    return f"scale-node@{name}"


@shared_task(name=RUN_EXECUTION)
def run_node_execution(job_exe_id: int) -> None:
    """Run a scheduled execution on this node; a no-op for one no longer RUNNING (redelivered
    after this node was taken for lost, or canceled), so delivering it twice is harmless."""
    if _agent is None:
        raise RuntimeError("scale.node.run_execution runs only in `scale node`")
    _agent.run(job_exe_id)


@control_command(args=[("job_exe_id", int)], signature="<job_exe_id>")
def scale_kill_execution(_state: Any, job_exe_id: int) -> dict[str, str]:
    """Stop execution `job_exe_id` if this node runs it (it was canceled)."""
    if _agent is not None:
        _agent.kill(job_exe_id)
    return {"ok": f"stopping job execution {job_exe_id} if it runs here"}


class CeleryNodeChannel:
    """The scheduler's way to its nodes (`scale.scheduler.managers.celery.NodeChannel`)."""

    def __init__(self, app: Celery) -> None:
        self._app = app

    def send_execution(self, hostname: str, job_exe_id: int) -> None:
        self._app.send_task(RUN_EXECUTION, args=[job_exe_id], queue=node_queue(hostname))

    def kill_execution(self, hostname: str, job_exe_id: int) -> None:
        self._app.control.broadcast(KILL_EXECUTION, arguments={"job_exe_id": job_exe_id},
                                    destination=[node_worker_name(hostname)])


def run_node(settings: Settings, *, name: str, total: Resources) -> int:
    """Run node `name` with capacity `total` until SIGINT/SIGTERM; returns the exit code. On the
    way out its executions are stopped and put back in the queue, so they run again elsewhere
without losing a try."""
    global _agent
    app = make_celery(settings)
    engine = make_engine(settings.database_url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    agent = NodeAgent.from_settings(settings, make_sessions(engine), name=name, total=total)
    _agent = agent
    agent.start()
    stop = threading.Event()
    beating = threading.Thread(target=agent.keep_heartbeating, args=(stop,), name="scale-heartbeat",
                               daemon=True)
    beating.start()

    def stopping(**_kwargs: Any) -> None:
        agent.stop_runs()

    worker_shutting_down.connect(stopping, weak=False)
    log.info("node %s: cpus %g, mem %g MiB, disk %g MiB, queue %s", name, total.cpus, total.mem,
             total.disk, node_queue(name))
    try:
        # Resources, not the pool, bound how many executions the scheduler sends here.
        worker = app.Worker(hostname=node_worker_name(name), queues=[node_queue(name)], pool_cls="threads",
                            concurrency=MAX_THREADS, loglevel="INFO", quiet=True,
                            without_mingle=True, without_gossip=True)
        worker.start()
        return int(worker.exitcode or 0)
    finally:
        agent.stop_runs()
        stop.set()
        beating.join()
        agent.leave()
        worker_shutting_down.disconnect(stopping)
        engine.dispose()
