"""`scale execute JOB_EXE_ID`: run one scheduled execution in this process and exit.

For placements that can only start a command (a Mesos task). It is the same
`run_execution` the local resource manager calls. SIGTERM/SIGINT stop the task without a
report (SIGHUP too), so the scheduler's reconciliation decides what happens to the try.

Exit status: 0 when the execution COMPLETED, 1 when it FAILED, 2 when it was stopped
(canceled, or a signal), 3 when the outcome could not be recorded."""

from __future__ import annotations

import signal
import threading
from functools import partial

from scale.db import make_engine, make_sessions
from scale.execution.runner import COMPLETED, FAILED, run_execution
from scale.settings import Settings

EXIT_CODES = {COMPLETED: 0, FAILED: 1}
EXIT_STOPPED = 2
EXIT_UNRECORDED = 3


def execute(settings: Settings, job_exe_id: int) -> int:
    """Run execution `job_exe_id` on this machine; returns the process exit status above."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    engine = make_engine(settings.database_url)
    try:
        settings.work_root.mkdir(parents=True, exist_ok=True)
        result = run_execution(make_sessions(engine), job_exe_id, work_root=settings.work_root,
                               docker=partial(_docker_client, settings.docker_url), should_stop=stop.is_set,
                               system_env=settings.to_env())
    finally:
        engine.dispose()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if not result.recorded:
        return EXIT_UNRECORDED
    return EXIT_CODES.get(result.status, EXIT_STOPPED)


def _docker_client(url: str | None) -> object:
    # Imported only for job types that use Docker, so a node without the SDK runs the others.
    from scale.execution.containers import docker_client

    return docker_client(url)
