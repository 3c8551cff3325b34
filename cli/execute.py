"""`scale execute JOB_EXE_ID`: run one scheduled execution in this process and exit.

For placements that can only start a command (a Mesos task). It is the same
`JobRunner.run_execution` the local resource manager and `scale node` call. SIGTERM/SIGINT
stop the task without a report (SIGHUP too), so the scheduler's reconciliation decides what
happens to the try.

Exit status: 0 when the execution COMPLETED, 1 when it FAILED, 2 when it was stopped
(canceled, or a signal), 3 when the outcome could not be recorded."""

from __future__ import annotations

import signal
import threading

from scale.db import make_engine, make_sessions
from scale.execution.base import Outcome
from scale.execution.runner import JobRunner
from scale.settings import Settings

EXIT_CODES = {Outcome.COMPLETED: 0, Outcome.FAILED: 1, Outcome.STOPPED: 2, Outcome.UNRECORDED: 3}


def execute(settings: Settings, job_exe_id: int) -> int:
    """Run execution `job_exe_id` on this machine; returns the process exit status above."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    engine = make_engine(settings.database_url)
    try:
        settings.work_root.mkdir(parents=True, exist_ok=True)
        runner = JobRunner.from_settings(settings, make_sessions(engine))
        result = runner.run_execution(job_exe_id, should_stop=stop.is_set)
    finally:
        engine.dispose()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return EXIT_CODES[result.outcome]
