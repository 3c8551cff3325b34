"""The runner's contract: what the placements call (`Runner`), what it answers (`ExecutionResult`
with an `Outcome`), and the exceptions its steps (plan.py, runner.py, report.py) end a run with.

Every placement holds one `Runner` (`scale.execution.runner.JobRunner`): the local manager
calls it on its threads, the node agent of `scale node` on the worker's threads, and
`scale execute JOB_EXE_ID` once in its own process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from scale.execution.tasks import RunningTask

# Makes a Docker client (docker.DockerClient) when a job type needs a container.
DockerClientFactory = Callable[[], Any]


class Outcome(StrEnum):
    """How a run ended, as far as the runner knows it."""

    COMPLETED = "COMPLETED"  # recorded: the execution COMPLETED
    FAILED = "FAILED"  # recorded: the execution FAILED with `error_name` (and was retried, or not)
    # Killed, or never started, without a report: canceled (the execution was no longer
    # RUNNING), or the node stopping (`should_stop`), whose manager puts it back in the queue.
    STOPPED = "STOPPED"
    # The outcome could not be written (the database stayed out of reach): the execution is
    # left RUNNING for the scheduler's reconciliation.
    UNRECORDED = "UNRECORDED"


@dataclass(frozen=True)
class ExecutionResult:
    """How execution `job_exe_id` ended. `error_name` is set when it FAILED, or when the failure
    it should have been recorded with is UNRECORDED; `exit_code` when its command exited."""

    job_exe_id: int
    outcome: Outcome
    error_name: str | None = None
    exit_code: int | None = None

    @property
    def recorded(self) -> bool:
        """False when reconciliation, not this run, decides what becomes of the execution."""
        return self.outcome != Outcome.UNRECORDED


class Runner(Protocol):
    """The job runner of one node: its database, work directory, Docker and system environment
    are bound; the callers give only the execution. Neither method raises: every way a run can
    end is its `ExecutionResult`."""

    def run_execution(self, job_exe_id: int, *, should_stop: Callable[[], bool]) -> ExecutionResult:
        """Run execution `job_exe_id` (scheduled, so RUNNING) to its end and record the outcome.
        Blocks until the task ends or is killed; `should_stop` (polled) kills it unreported."""

    def resume_execution(self, job_exe_id: int, task: RunningTask, *,
                         should_stop: Callable[[], bool]) -> ExecutionResult:
        """Follow `task`, left running by a scheduler that died (a container found again), to
        its end and record the outcome as `run_execution` does."""


class Failure(Exception):
    """An expected way for a try to fail, with the Scale error to record."""

    def __init__(self, error_name: str, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.exit_code = exit_code


class Stopped(Exception):
    """The task was not run to its end and nothing may be reported."""


class Unrecorded(Exception):
    """The outcome could not be written within the retry budget: the database is down."""
