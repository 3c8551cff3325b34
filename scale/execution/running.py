"""The executions one process runs itself with the job runner, for every placement that runs
them in-process (the local manager, a `scale node`)."""

from __future__ import annotations

import threading


class RunningExecutions:
    """The executions a process runs itself with the job runner (the local manager's, a
    `scale node`'s), each with the event its runner polls as `should_stop`. Thread-safe.
    After `stop_all` nothing more is taken on: the process is shutting down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stops: dict[int, threading.Event] = {}
        self._closed = False

    def start(self, job_exe_id: int) -> threading.Event | None:
        """Take on execution `job_exe_id` and return the event that stops its runner; None when it
        runs here already (one execution never has two runners) or the process is stopping."""
        with self._lock:
            if self._closed or job_exe_id in self._stops:
                return None
            stop = self._stops[job_exe_id] = threading.Event()
            return stop

    def end(self, job_exe_id: int) -> None:
        """Its runner has returned (its outcome recorded, or given up on)."""
        with self._lock:
            self._stops.pop(job_exe_id, None)

    def ids(self) -> set[int]:
        with self._lock:
            return set(self._stops)

    def stop(self, job_exe_id: int) -> None:
        """Ask the runner of `job_exe_id` to kill its task (it polls about once a second); a no-op
        if it does not run here."""
        with self._lock:
            stop = self._stops.get(job_exe_id)
        if stop is not None:
            stop.set()

    def stop_all(self) -> set[int]:
        """Take nothing more on and ask every runner to stop; the ids of those asked."""
        with self._lock:
            self._closed = True
            stops = dict(self._stops)
        for stop in stops.values():
            stop.set()
        return set(stops)
