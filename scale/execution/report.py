"""Reporting a run (its start, and step 7 of scale/execution/runner.py): each outcome is written
with `scale/queue/transitions.py` in a transaction of its own (with the products and parse
results, when there are any), retried for up to `Run.report_for` seconds
(REPORT_RETRY_SECONDS) while the database cannot be reached."""

from __future__ import annotations

import logging
import shlex
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from scale.exceptions import InvalidTransition, ScaleError, ValidationError
from scale.execution.base import ExecutionResult, Failure, Outcome, Stopped, Unrecorded
from scale.execution.outputs import CollectedResults, OutputError
from scale.execution.plan import Plan, Run
from scale.models.errors import AlgorithmErrorName, SystemErrorName
from scale.models.files import ScaleFile
from scale.models.jobs import JobExecution, JobExecutionStatus, JobStatus
from scale.products.service import record_parse_results, store_products
from scale.queue import transitions

# The runner's logger: its lines (the logger name is in every process's format) read as before
# the runner was split into modules.
log = logging.getLogger("scale.execution.runner")

T = TypeVar("T")

# How long the runner keeps trying to record an outcome while the database is unreachable (a
# restart, a failover, a cut network): the job's work is not thrown away for an outage of
# less. Past it the outcome is lost and the scheduler, noticing a RUNNING execution with no
# runner behind it, fails the try `node-lost` (retried) or re-attaches to its container.
REPORT_RETRY_SECONDS = 60.0
REPORT_RETRY_MAX_DELAY = 5.0


def record_start(session: Session, run: Run, plan: Plan, argv: list[str]) -> None:
    """The command line and log paths on the execution (`start_execution`); Stopped when it is
    no longer RUNNING."""
    arguments = argv[len(plan.interface.command.split()):]
    try:
        transitions.start_execution(session, run.job_exe_id, command_arguments=shlex.join(arguments),
                                    stdout_path=str(run.work.stdout), stderr_path=str(run.work.stderr))
    except InvalidTransition as error:
        raise Stopped(str(error)) from error


def report_success(run: Run, results: CollectedResults) -> ExecutionResult:
    """Store products and parse results (when there are any) and complete the execution, in one
    transaction, retried while the database is unreachable (products are stored at paths named
    by the execution, so a retry overwrites what a failed one copied); a job with neither
    costs just `complete_execution`'s three statements."""

    def report() -> None:
        with run.sessions.begin() as session:
            products: list[ScaleFile] = []
            if results.outputs or results.parse_results:
                products = _store_outputs(session, run.job_exe_id, results)
            job = transitions.complete_execution(
                session, run.job_exe_id, results=_results_document(results, products), exit_code=0,
                results_manifest=results.manifest.to_dict() if results.manifest is not None else None)
            if job.status != JobStatus.COMPLETED:  # canceled meanwhile: roll the products back
                raise Stopped(f"the execution was no longer RUNNING; its job is {job.status}")

    try:
        _retrying(run, "its completion", report)
    except OutputError as error:
        raise Failure(error.error_name, str(error), 0) from error
    except (ScaleError, OSError) as error:
        raise Failure(SystemErrorName.POST_TASK, f"could not store the products: {error}", 0) from error
    return ExecutionResult(run.job_exe_id, Outcome.COMPLETED, exit_code=0)


def report_failure(run: Run, error_name: str, exit_code: int | None) -> ExecutionResult:
    """fail_execution in its own transaction (retried while the database is unreachable);
    STOPPED when the execution had already ended."""

    def report() -> str | None:
        with run.sessions.begin() as session:
            transitions.fail_execution(session, run.job_exe_id, error_name=error_name, exit_code=exit_code)
            return session.scalar(select(JobExecution.status).where(JobExecution.id == run.job_exe_id))

    try:
        status = _retrying(run, f"the failure {error_name}", report)
    except Exception:
        # Nothing more can be done here: the scheduler's reconciliation finds the execution.
        log.exception("job execution %s: could not record the failure %s", run.job_exe_id, error_name)
        return ExecutionResult(run.job_exe_id, Outcome.UNRECORDED, error_name, exit_code)
    if status != JobExecutionStatus.FAILED:
        return ExecutionResult(run.job_exe_id, Outcome.STOPPED)
    return ExecutionResult(run.job_exe_id, Outcome.FAILED, error_name, exit_code)


def transient(error: DBAPIError) -> bool:
    """Whether `error` says the database could not be reached (so trying again may work),
    not that the statement was wrong."""
    return isinstance(error, (OperationalError, InterfaceError)) or error.connection_invalidated


def _store_outputs(session: Session, job_exe_id: int, results: CollectedResults) -> list[ScaleFile]:
    """Products and parse results, under the job's lock (taken first: the one lock order) and
    only while the execution is RUNNING, so a canceled one stores nothing."""
    job, exe = transitions.lock_execution(session, job_exe_id)
    if exe.status != JobExecutionStatus.RUNNING:
        raise Stopped(f"the execution is {exe.status}")
    products = store_products(session, exe, results.outputs)
    try:
        record_parse_results(session, job, results.parse_results)
    except ValidationError as error:
        raise OutputError(AlgorithmErrorName.INVALID_RESULTS_MANIFEST, str(error)) from error
    return products


def _results_document(results: CollectedResults, products: list[ScaleFile]) -> dict[str, Any]:
    """Job results 1.0: each output's product id(s), in the order `store_products` made them."""
    remaining = iter(products)
    output_data: list[dict[str, Any]] = []
    for output in results.outputs:
        ids = [next(remaining).id for _ in output.files]
        output_data.append({"name": output.name, "file_ids": ids} if output.multiple
                           else {"name": output.name, "file_id": ids[0]})
    return {"version": "1.0", "output_data": output_data}


def _retrying(run: Run, what: str, body: Callable[[], T]) -> T:
    """`body()`, tried again with a growing pause while it fails for want of the database, for
    up to `run.report_for` seconds; then Unrecorded. Other errors propagate at once."""
    deadline = time.monotonic() + run.report_for
    delay = 0.2
    while True:
        try:
            return body()
        except DBAPIError as error:
            if not transient(error):
                raise
            if time.monotonic() + delay > deadline:
                raise Unrecorded(f"could not record {what} within {run.report_for:g} s: {error.orig}") from error
            log.warning("job execution %s: could not record %s, retrying: %s", run.job_exe_id, what, error.orig)
            time.sleep(delay)
            delay = min(delay * 2, REPORT_RETRY_MAX_DELAY)
