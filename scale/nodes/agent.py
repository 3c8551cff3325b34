"""The node agent of `scale node` (the celery resource manager's nodes): heartbeats the node's
resources into the node table and runs the executions sent to it with the job runner, as a
function on the worker's threads, in the node's own work directory.

The Celery worker around it (`workers/node.py`) only delivers executions and kill messages.
A message for an execution that is no longer RUNNING (it was failed as `node-lost` while
this node was away, or canceled) is a no-op: the runner neither starts nor reports it."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import sessionmaker

from scale.execution.base import Runner
from scale.execution.running import RunningExecutions
from scale.nodes import registry
from scale.resources import Resources
from scale.settings import Settings

log = logging.getLogger(__name__)


class NodeAgent:
    """One node called `name` with capacity `total`; executions run `runner`
    (`JobRunner.from_settings`, in the node's own work directory)."""

    def __init__(self, *, sessions: sessionmaker, name: str, total: Resources, runner: Runner,
                 heartbeat_seconds: float) -> None:
        self.name = name
        self.total = total
        self._sessions = sessions
        self._runner = runner
        self._heartbeat_seconds = heartbeat_seconds
        self._running = RunningExecutions()

    @classmethod
    def from_settings(cls, settings: Settings, sessions: sessionmaker, *, name: str,
                      total: Resources) -> NodeAgent:
        from scale.execution.runner import JobRunner

        return cls(sessions=sessions, name=name, total=total, runner=JobRunner.from_settings(settings, sessions),
                   heartbeat_seconds=settings.node_heartbeat_seconds)

    def start(self) -> None:
        """Fail what an earlier run of this node left RUNNING (it died; its processes died with
        it), then heartbeat, so the scheduler places work here."""
        with self._sessions.begin() as session:
            if left := registry.leave_node(session, self.name):
                log.warning("failed job executions %s left running by this node's last run", left)
        self.heartbeat()

    def heartbeat(self) -> None:
        with self._sessions.begin() as session:
            registry.heartbeat_node(session, hostname=self.name, total=self.total)

    def keep_heartbeating(self, stop: threading.Event) -> None:
        """Heartbeat every `heartbeat_seconds` until `stop` is set; a failed beat is logged and
        the next one tried (the scheduler takes the node for lost only after several)."""
        while not stop.wait(self._heartbeat_seconds):
            try:
                self.heartbeat()
            except Exception:
                log.exception("node %s: heartbeat failed", self.name)

    def run(self, job_exe_id: int) -> None:
        """Run execution `job_exe_id` to its end (see the module docstring). Returns at once
        while the node is stopping, and for an execution already running here: a message
        delivered twice (Redis redelivers one unacknowledged past its visibility timeout, and
        a restarted scheduler re-sends what may never have been sent) must not run it twice."""
        stop = self._running.start(job_exe_id)
        if stop is None:
            return
        try:
            self._runner.run_execution(job_exe_id, should_stop=stop.is_set)
        finally:
            self._running.end(job_exe_id)

    def kill(self, job_exe_id: int) -> None:
        """Stop execution `job_exe_id` if it runs here: the runner kills its process or container
        within a poll interval and reports nothing (it was canceled or failed meanwhile)."""
        self._running.stop(job_exe_id)

    def stop_runs(self) -> None:
        """The node is shutting down: stop every running execution and start no more."""
        self._running.stop_all()

    def leave(self) -> None:
        """Go offline now, after `stop_runs`: what was stopped here goes back to the queue
        without costing a try (a clean stop is not a failure), instead of leaving the scheduler
        to wait for the heartbeat to go stale."""
        with self._sessions.begin() as session:
            if failed := registry.leave_node(session, self.name, stopped_cleanly=True):
                log.warning("node %s left; job executions %s could not be put back and failed", self.name, failed)
