"""The one job runner: runs a scheduled (RUNNING) execution on this node and reports how it ended.

Every placement calls `run_execution`: the local resource manager on a thread pool, and
`scale execute JOB_EXE_ID` for placements that can only start a command. The steps are those
of docs/execution.md:

1. read the execution and make `work_root/<job_exe_id>/` with `inputs/`, `outputs/`,
   `stdout.log` and `stderr.log` (a leftover directory of an earlier attempt is emptied);
2. retrieve the input files through their workspaces' brokers: a `file` input becomes
   `inputs/<input name>/<file name>`, a `files` input the directory `inputs/<input name>/`;
3. build the argv with `JobInterface.command_argv` (never a shell) and record the start, in
   the transaction of step 1 when there are no input files to retrieve;
4. run a child process, or a Docker container when the job type has a `docker_image`;
5. enforce the timeout (kill, SYSTEM error `timeout`), and kill without reporting when
   `should_stop()` says so or the execution is no longer RUNNING (canceled), checked about
   once a second;
6. map a non-zero exit code through the job type's error mapping (unmapped: ALGORITHM error
   `algorithm-unknown`); on 0, collect outputs (`outputs.py`), store products and record
   parse results (`scale/products/service.py`);
7. report with `complete_execution` / `fail_execution` in a transaction of its own (with the
   products and parse results, when there are any), retried for up to `report_for` seconds
   (REPORT_RETRY_SECONDS) while the database cannot be reached; the status checks of step 5
   skip an unreachable database, so an outage does not stop the job.

A job without input files or products costs five statements in two transactions: the
scheduler runs tens of them a second on one Python interpreter, so the hot statements are
built once.

Failures Scale assigns itself: retrieving inputs or building the argv -> `pre-task`; the node
cannot start a process -> `task-launch`; a Docker problem -> `docker`; storing products ->
`post-task`; anything unexpected in the runner -> `unknown`, with the traceback appended to the
stderr log. All are SYSTEM errors, so the try is retried. The runner never raises."""

from __future__ import annotations

import datetime as dt
import logging
import shlex
import shutil
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from scale.errors import InvalidTransition, ScaleError, ValidationError
from scale.execution.outputs import CollectedResults, OutputError, collect_outputs
from scale.execution.processes import start_process
from scale.execution.tasks import RunningTask, TaskSpec
from scale.models.errors import AlgorithmErrorName, SystemErrorName
from scale.models.files import ScaleFile
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.jobs import Job, JobExecution, JobExecutionStatus, JobStatus
from scale.models.nodes import SCHEDULER_ID, Scheduler
from scale.products.service import record_parse_results, store_products
from scale.queue import transitions
from scale.specs import error_interface, job_data, job_interface
from scale.specs.job_interface import JobInterface
from scale.timeutil import as_utc, utcnow
from scale.workspaces.brokers import Broker, broker_for

log = logging.getLogger(__name__)

# Makes a Docker client (docker.DockerClient) when a job type needs a container.
DockerClientFactory = Callable[[], Any]

T = TypeVar("T")

COMPLETED = "COMPLETED"
FAILED = "FAILED"
STOPPED = "STOPPED"  # killed (or never started) without a report: canceled, or the node stopping
STATUS_CHECK_SECONDS = 1.0
# How long the runner keeps trying to record an outcome while the database is unreachable (a
# restart, a failover, a cut network): the job's work is not thrown away for an outage of
# less. Past it the outcome is lost and the scheduler, noticing a RUNNING execution with no
# runner behind it, fails the try `node-lost` (retried) or re-attaches to its container.
REPORT_RETRY_SECONDS = 60.0
REPORT_RETRY_MAX_DELAY = 5.0


@dataclass(frozen=True)
class ExecutionResult:
    """How a run ended: `status` is COMPLETED, FAILED or STOPPED; `error_name` is set when FAILED."""

    job_exe_id: int
    status: str
    error_name: str | None = None
    exit_code: int | None = None
    # False when the outcome could not be written (the database failed): reconciliation's turn.
    recorded: bool = True


@dataclass(frozen=True)
class WorkDir:
    """The execution's work directory on this node."""

    root: Path

    @property
    def inputs(self) -> Path:
        return self.root / "inputs"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    @property
    def stdout(self) -> Path:
        return self.root / "stdout.log"

    @property
    def stderr(self) -> Path:
        return self.root / "stderr.log"


class _Failure(Exception):
    """An expected way for a try to fail, with the Scale error to record."""

    def __init__(self, error_name: str, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.exit_code = exit_code


class _Stopped(Exception):
    """The task was not run to its end and nothing may be reported."""


class _Unrecorded(Exception):
    """The outcome could not be written within the retry budget: the database is down."""


@dataclass(frozen=True)
class _Retrieval:
    broker: Broker
    file_path: str
    local_path: Path


@dataclass
class _Plan:
    """What the run needs from the database, read once so no session stays open while it runs."""

    job_id: int
    installation_id: str
    interface: JobInterface
    errors: error_interface.ErrorInterface
    timeout: int
    image: str | None
    privileged: bool
    cpus: float
    mem_mib: float
    env: dict[str, str]
    values: dict[str, str | None] = field(default_factory=dict)
    retrievals: list[_Retrieval] = field(default_factory=list)
    job_started: dt.datetime | None = None


def run_execution(sessions: sessionmaker, job_exe_id: int, *, work_root: Path,
                  docker: DockerClientFactory | None = None, should_stop: Callable[[], bool] = lambda: False,
                  poll_interval: float = 0.2, system_env: Mapping[str, str] | None = None,
                  report_for: float = REPORT_RETRY_SECONDS) -> ExecutionResult:
    """Run execution `job_exe_id` (scheduled, so RUNNING) to its end and report the outcome.

    `system_env` (`Settings.to_env()`) reaches only system job types: they are `scale`
    subcommands that need the node's database and broker. While the database is unreachable
    the task goes on, and the outcome is retried for up to `report_for` seconds. Blocks until
    the task ends, is killed, or the runner stops it. Never raises."""
    work = WorkDir(work_root / str(job_exe_id))
    launched: list[RunningTask] = []
    return _guarded(sessions, job_exe_id, work, launched, report_for, lambda: _run(
        sessions, job_exe_id, work, docker, should_stop, poll_interval, launched, system_env or {}, report_for))


def resume_execution(sessions: sessionmaker, job_exe_id: int, task: RunningTask, *, work_root: Path,
                     should_stop: Callable[[], bool] = lambda: False, poll_interval: float = 0.2,
                     report_for: float = REPORT_RETRY_SECONDS) -> ExecutionResult:
    """Carry on with execution `job_exe_id` (RUNNING) whose task outlived the scheduler that
    started it: a container found again after a crash (`containers.find_container`). Waits for
    it within what is left of its timeout, then collects its outputs and reports exactly as
    `run_execution` does; its work directory is this node's, as it was left. Never raises."""
    work = WorkDir(work_root / str(job_exe_id))
    launched = [task]

    def resume() -> ExecutionResult:
        with sessions() as session:
            plan = _load_plan(session, job_exe_id, work, {}, resume=True)
        timeout: float = plan.timeout
        if timeout > 0 and plan.job_started is not None:
            # What is left of the timeout; one already spent ends the wait at once (a timeout).
            timeout = max(timeout - (utcnow() - as_utc(plan.job_started)).total_seconds(), 0.001)
        return _finish(sessions, job_exe_id, plan, work, task, timeout, should_stop, poll_interval, report_for)

    return _guarded(sessions, job_exe_id, work, launched, report_for, resume)


def _guarded(sessions: sessionmaker, job_exe_id: int, work: WorkDir, launched: list[RunningTask],
             report_for: float, body: Callable[[], ExecutionResult]) -> ExecutionResult:
    """`body`'s result, with every way a run can fail turned into its report (never raises);
    the task is cleaned up once its outcome is recorded."""
    try:
        result = body()
    except _Failure as failure:
        _note(work.stderr, f"scale: {failure.error_name}: {failure}")
        result = _report_failure(sessions, job_exe_id, failure.error_name, failure.exit_code, report_for)
    except _Stopped as stopped:
        _note(work.stderr, f"scale: stopped: {stopped}")
        result = ExecutionResult(job_exe_id, STOPPED)
    except _Unrecorded as unrecorded:
        _note(work.stderr, f"scale: {unrecorded}")
        result = ExecutionResult(job_exe_id, STOPPED, recorded=False)
    except Exception:
        log.exception("job execution %s: the runner failed", job_exe_id)
        _note(work.stderr, f"scale: the runner failed\n{traceback.format_exc()}")
        result = _report_failure(sessions, job_exe_id, SystemErrorName.UNKNOWN, None, report_for)
    if launched and result.recorded:
        _close(launched[0])
    return result


def _run(sessions: sessionmaker, job_exe_id: int, work: WorkDir, docker: DockerClientFactory | None,
         should_stop: Callable[[], bool], poll_interval: float, launched: list[RunningTask],
         system_env: Mapping[str, str], report_for: float) -> ExecutionResult:
    # Without input files to fetch, reading the plan and recording the start are one
    # transaction; with them, the start is recorded once they are here.
    with sessions.begin() as session:
        plan = _load_plan(session, job_exe_id, work, system_env)
        argv = _command(plan, work)
        if not plan.retrievals:
            _record_start(session, job_exe_id, plan, argv, work)
    if plan.retrievals:
        try:
            for item in plan.retrievals:
                item.broker.retrieve(item.file_path, item.local_path)
        except (ScaleError, OSError) as error:
            raise _Failure(SystemErrorName.PRE_TASK, f"could not prepare the inputs: {error}") from error
        with sessions.begin() as session:
            _record_start(session, job_exe_id, plan, argv, work)
    if should_stop():
        raise _Stopped("the node is stopping")
    spec = TaskSpec(installation_id=plan.installation_id, job_exe_id=job_exe_id, argv=argv, work_dir=work.root,
                    inputs_dir=work.inputs, outputs_dir=work.outputs, stdout_path=work.stdout,
                    stderr_path=work.stderr, env=plan.env, cpus=plan.cpus, mem_mib=plan.mem_mib,
                    image=plan.image, privileged=plan.privileged)
    task = _launch(spec, docker)
    launched.append(task)
    return _finish(sessions, job_exe_id, plan, work, task, plan.timeout, should_stop, poll_interval, report_for)


def _finish(sessions: sessionmaker, job_exe_id: int, plan: _Plan, work: WorkDir, task: RunningTask, timeout: float,
            should_stop: Callable[[], bool], poll_interval: float, report_for: float) -> ExecutionResult:
    """Wait for the started task, map its exit code, collect its outputs and report success."""
    exit_code = _wait(sessions, job_exe_id, task, timeout, should_stop, poll_interval)
    if exit_code != 0:
        name = plan.errors.error_for_exit_code(exit_code) or AlgorithmErrorName.ALGORITHM_UNKNOWN
        raise _Failure(name, f"the command exited with code {exit_code}", exit_code)
    try:
        results = collect_outputs(plan.interface, work.outputs, work.stdout)
    except OutputError as error:
        raise _Failure(error.error_name, str(error), exit_code) from error
    return _report_success(sessions, job_exe_id, results, report_for)


def _command(plan: _Plan, work: WorkDir) -> list[str]:
    try:
        return plan.interface.command_argv(plan.values, str(work.outputs))
    except ScaleError as error:
        raise _Failure(SystemErrorName.PRE_TASK, f"could not prepare the inputs: {error}") from error


def _record_start(session: Session, job_exe_id: int, plan: _Plan, argv: list[str], work: WorkDir) -> None:
    arguments = argv[len(plan.interface.command.split()):]
    try:
        transitions.start_execution(session, job_exe_id, command_arguments=shlex.join(arguments),
                                    stdout_path=str(work.stdout), stderr_path=str(work.stderr))
    except InvalidTransition as error:
        raise _Stopped(str(error)) from error


def _prepare(work: WorkDir) -> None:
    if work.root.exists():
        shutil.rmtree(work.root)
    work.inputs.mkdir(parents=True)
    work.outputs.mkdir()
    work.stdout.touch()
    work.stderr.touch()


# Built once (building a statement costs more Python than running it): what a run needs.
_PLAN = (select(JobExecution.status, JobExecution.environment, JobExecution.cpus_scheduled,
                JobExecution.mem_scheduled, JobExecution.job_started, Job.id, Job.data, Job.timeout,
                Job.cpus_required, Job.mem_required,
                JobType.docker_image, JobType.docker_privileged, JobType.is_system, JobType.error_mapping,
                JobTypeRevision.interface,
                select(Scheduler.installation_id).where(Scheduler.id == SCHEDULER_ID)
                .scalar_subquery().label("installation_id"))
         .join(Job, JobExecution.job_id == Job.id).join(JobType, Job.job_type_id == JobType.id)
         .join(JobTypeRevision, Job.job_type_rev_id == JobTypeRevision.id)
         .where(JobExecution.id == bindparam("job_exe_id")))


def _load_plan(session: Session, job_exe_id: int, work: WorkDir, system_env: Mapping[str, str], *,
               resume: bool = False) -> _Plan:
    """The plan of a RUNNING execution (else _Stopped), with its work directory made afresh;
    to `resume` a task already running, the directory is kept and no inputs are planned.
    One statement reads the columns it needs; input files cost one more."""
    found = session.execute(_PLAN, {"job_exe_id": job_exe_id}).one_or_none()
    if found is None or found.status != JobExecutionStatus.RUNNING:
        raise _Stopped(f"execution {job_exe_id} is {found.status if found else 'missing'}, not RUNNING")
    if not resume:
        _prepare(work)
    try:
        interface = job_interface.parse(found.interface)
        errors = error_interface.parse(found.error_mapping or {"exit_codes": {}})
        data = job_data.parse(found.data)
    except ValidationError as error:
        raise _Failure(SystemErrorName.PRE_TASK, f"the job's stored documents are not valid: {error}") from error
    plan = _Plan(
        job_id=found.id, installation_id=found.installation_id, interface=interface, errors=errors,
        timeout=found.timeout, image=found.docker_image,
        privileged=found.docker_privileged, cpus=found.cpus_scheduled or found.cpus_required,
        mem_mib=found.mem_scheduled or found.mem_required,
        env={**(system_env if found.is_system else {}),
             **{str(key): str(value) for key, value in (found.environment or {}).items()}},
        job_started=found.job_started,
    )
    if resume:
        return plan
    files: dict[int, ScaleFile] = {}
    if file_ids := data.file_ids():
        files = {f.id: f for f in session.scalars(select(ScaleFile).where(ScaleFile.id.in_(file_ids))
                                                  .options(selectinload(ScaleFile.workspace)))}
    used: set[Path] = set()
    for entry in data.inputs:
        if entry.value is not None:
            plan.values[entry.name] = entry.value
            continue
        spec = interface.get_input(entry.name)
        directory = work.inputs / entry.name
        for file_id in entry.all_file_ids:
            row = files.get(file_id)
            if row is None or row.is_deleted:
                raise _Failure(SystemErrorName.PRE_TASK, f"input {entry.name!r}: file {file_id} does not exist")
            # Only the last path component: a stored name cannot place a file elsewhere.
            name = PurePosixPath(row.file_name).name or f"file_{row.id}"
            local = directory / (name if directory / name not in used else f"{row.id}_{name}")
            used.add(local)
            try:
                plan.retrievals.append(_Retrieval(broker_for(row.workspace), row.file_path, local))
            except ScaleError as error:
                raise _Failure(SystemErrorName.PRE_TASK, f"input {entry.name!r}: {error}") from error
            plan.values[entry.name] = str(local)
        if spec is not None and spec.type == "files":
            plan.values[entry.name] = str(directory)
    return plan


def _launch(spec: TaskSpec, docker: DockerClientFactory | None) -> RunningTask:
    if spec.image is None:
        try:
            return start_process(spec)
        except OSError as error:
            raise _Failure(SystemErrorName.TASK_LAUNCH, f"could not start the command: {error}") from error
    if docker is None:
        raise _Failure(SystemErrorName.DOCKER,
                       f"the job needs the Docker image {spec.image!r}, and this node has no Docker")
    try:
        from scale.execution.containers import start_container

        return start_container(docker(), spec)
    except Exception as error:  # the Docker SDK's errors have no common base worth naming
        raise _Failure(SystemErrorName.DOCKER, f"could not start a container of {spec.image!r}: {error}") from error


def _wait(sessions: sessionmaker, job_exe_id: int, task: RunningTask, timeout: float,
          should_stop: Callable[[], bool], poll_interval: float) -> int:
    """The task's exit code; kills it and raises _Failure (timeout) or _Stopped. Whatever goes
    wrong while waiting, the task (its whole process group) does not outlive the wait."""
    started = time.monotonic()
    deadline = started + timeout if timeout > 0 else None
    next_check = started + STATUS_CHECK_SECONDS
    try:
        while (exit_code := task.wait(poll_interval)) is None:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise _Failure(SystemErrorName.TIMEOUT, f"killed after its timeout of {timeout} s")
            if should_stop():
                raise _Stopped("the node is stopping")
            if now >= next_check:
                next_check = now + STATUS_CHECK_SECONDS
                try:
                    with sessions() as session:
                        status = session.scalar(select(JobExecution.status).where(JobExecution.id == job_exe_id))
                except DBAPIError as error:
                    if not _transient(error):
                        raise
                    # The database is away: the job goes on, and its outcome waits for it.
                    log.warning("job execution %s: cannot check its status: %s", job_exe_id, error.orig)
                    continue
                if status != JobExecutionStatus.RUNNING:
                    raise _Stopped(f"the execution is {status}")
    except BaseException:
        task.kill()
        raise
    # What the command left running in the background would hold resources the scheduler
    # believes free, and could still write to the logs being read: it ends with the command.
    task.kill()
    return exit_code


def _report_success(sessions: sessionmaker, job_exe_id: int, results: CollectedResults,
                    report_for: float) -> ExecutionResult:
    """Store products and parse results (when there are any) and complete the execution, in one
    transaction, retried while the database is unreachable (products are stored at paths named
    by the execution, so a retry overwrites what a failed one copied); a job with neither
    costs just `complete_execution`'s three statements."""

    def report() -> None:
        with sessions.begin() as session:
            products: list[ScaleFile] = []
            if results.outputs or results.parse_results:
                products = _store_outputs(session, job_exe_id, results)
            job = transitions.complete_execution(
                session, job_exe_id, results=_results_document(results, products), exit_code=0,
                results_manifest=results.manifest.to_dict() if results.manifest is not None else None)
            if job.status != JobStatus.COMPLETED:  # canceled meanwhile: roll the products back
                raise _Stopped(f"the execution was no longer RUNNING; its job is {job.status}")

    try:
        _retrying(job_exe_id, "its completion", report_for, report)
    except OutputError as error:
        raise _Failure(error.error_name, str(error), 0) from error
    except (ScaleError, OSError) as error:
        raise _Failure(SystemErrorName.POST_TASK, f"could not store the products: {error}", 0) from error
    return ExecutionResult(job_exe_id, COMPLETED, exit_code=0)


def _store_outputs(session: Session, job_exe_id: int, results: CollectedResults) -> list[ScaleFile]:
    """Products and parse results, under the job's lock (taken first: the one lock order) and
    only while the execution is RUNNING, so a canceled one stores nothing."""
    job, exe = transitions.lock_execution(session, job_exe_id)
    if exe.status != JobExecutionStatus.RUNNING:
        raise _Stopped(f"the execution is {exe.status}")
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


def _report_failure(sessions: sessionmaker, job_exe_id: int, error_name: str, exit_code: int | None,
                    report_for: float) -> ExecutionResult:
    """fail_execution in its own transaction (retried while the database is unreachable);
    STOPPED when the execution had already ended."""

    def report() -> str | None:
        with sessions.begin() as session:
            transitions.fail_execution(session, job_exe_id, error_name=error_name, exit_code=exit_code)
            return session.scalar(select(JobExecution.status).where(JobExecution.id == job_exe_id))

    try:
        status = _retrying(job_exe_id, f"the failure {error_name}", report_for, report)
    except Exception:
        # Nothing more can be done here: the scheduler's reconciliation finds the execution.
        log.exception("job execution %s: could not record the failure %s", job_exe_id, error_name)
        return ExecutionResult(job_exe_id, FAILED, error_name, exit_code, recorded=False)
    if status != JobExecutionStatus.FAILED:
        return ExecutionResult(job_exe_id, STOPPED)
    return ExecutionResult(job_exe_id, FAILED, error_name, exit_code)


def _transient(error: DBAPIError) -> bool:
    """Whether `error` says the database could not be reached (so trying again may work),
    not that the statement was wrong."""
    return isinstance(error, (OperationalError, InterfaceError)) or error.connection_invalidated


def _retrying(job_exe_id: int, what: str, seconds: float, body: Callable[[], T]) -> T:
    """`body()`, tried again with a growing pause while it fails for want of the database, for
    up to `seconds`; then _Unrecorded. Other errors propagate at once."""
    deadline = time.monotonic() + seconds
    delay = 0.2
    while True:
        try:
            return body()
        except DBAPIError as error:
            if not _transient(error):
                raise
            if time.monotonic() + delay > deadline:
                raise _Unrecorded(f"could not record {what} within {seconds:g} s: {error.orig}") from error
            log.warning("job execution %s: could not record %s, retrying: %s", job_exe_id, what, error.orig)
            time.sleep(delay)
            delay = min(delay * 2, REPORT_RETRY_MAX_DELAY)


def _close(task: RunningTask) -> None:
    """Release what a finished task still holds once its outcome is recorded (a container is
    removed); a failure to clean up must not change the recorded outcome."""
    try:
        task.close()
    except Exception:
        log.exception("could not clean up task %s", task.ident)


def _note(path: Path, message: str) -> None:
    """Append Scale's own message to a log; a log that cannot be written must not hide the outcome."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log_file:
            log_file.write(message.rstrip("\n") + "\n")
    except OSError:
        log.warning("could not write to %s: %s", path, message)
