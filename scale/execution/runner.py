"""The one job runner: runs a scheduled (RUNNING) execution on this node and reports how it ended.

Every placement calls `run_execution` through a `JobRunner` (the `Runner` of
scale/execution/base.py): the local resource manager on a thread pool, the node agent of
`scale node` on the worker's threads, and `scale execute JOB_EXE_ID` for placements that can
only start a command. The steps are those of docs/execution.md:

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
6. map a non-zero exit code through the job type's error mapping; an unmapped one is the
   SYSTEM error `killed` when a signal from outside ended the command (see `killed_by`), else
   the ALGORITHM error `algorithm-unknown`; on 0, collect outputs (`outputs.py`), store products and record
   parse results (`scale/products/service.py`);
7. report with `complete_execution` / `fail_execution` in a transaction of its own (with the
   products and parse results, when there are any), retried for up to `report_for` seconds
   (REPORT_RETRY_SECONDS) while the database cannot be reached; the status checks of step 5
   skip an unreachable database, so an outage does not stop the job.
Steps 1-3 are planned in `plan.py`, the start and step 7 are reported by `report.py`; this
module runs and waits (steps 4-6) and turns every way a run ends into its ExecutionResult.

A job without input files or products costs five statements in two transactions: the
scheduler runs tens of them a second on one Python interpreter, so the hot statements are
built once.

Failures Scale assigns itself: retrieving inputs or building the argv -> `pre-task`; the node
cannot start a process -> `task-launch`; a Docker problem -> `docker`; killed by a signal from
outside (the out-of-memory killer, an operator) -> `killed`; past its timeout -> `timeout`;
storing products -> `post-task`; anything unexpected in the runner -> `unknown`, with the traceback appended to the
stderr log. All are SYSTEM errors, so the try is retried. The runner never raises."""

from __future__ import annotations

import logging
import signal
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from scale.execution.base import DockerClientFactory, ExecutionResult, Failure, Outcome, Stopped, Unrecorded
from scale.execution.outputs import OutputError, collect_outputs
from scale.execution.plan import Plan, Run, WorkDir, command, load_plan, retrieve_inputs
from scale.execution.processes import start_process
from scale.execution.report import REPORT_RETRY_SECONDS, record_start, report_failure, report_success, transient
from scale.execution.tasks import RunningTask, TaskSpec
from scale.models.errors import AlgorithmErrorName, SystemErrorName
from scale.models.jobs import JobExecution, JobExecutionStatus
from scale.settings import Settings
from scale.timeutil import as_utc, utcnow

log = logging.getLogger(__name__)

STATUS_CHECK_SECONDS = 1.0
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class JobRunner:
    """The `Runner` of a node: `run_execution` and `resume_execution` with this node's database,
    work root, Docker and system environment bound."""

    sessions: sessionmaker
    work_root: Path
    docker: DockerClientFactory | None = None
    system_env: Mapping[str, str] = field(default_factory=dict)
    poll_interval: float = POLL_SECONDS
    report_for: float = REPORT_RETRY_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings, sessions: sessionmaker) -> JobRunner:
        """The runner every placement builds: Docker at `settings.docker_url`, and the node's
        `SCALE_*` settings for system job types."""
        url = settings.docker_url
        return cls(sessions, settings.work_root, docker=lambda: _docker_client(url), system_env=settings.to_env())

    def run_execution(self, job_exe_id: int, *, should_stop: Callable[[], bool]) -> ExecutionResult:
        return run_execution(self.sessions, job_exe_id, work_root=self.work_root, docker=self.docker,
                             should_stop=should_stop, poll_interval=self.poll_interval, system_env=self.system_env,
                             report_for=self.report_for)

    def resume_execution(self, job_exe_id: int, task: RunningTask, *,
                         should_stop: Callable[[], bool]) -> ExecutionResult:
        return resume_execution(self.sessions, job_exe_id, task, work_root=self.work_root, should_stop=should_stop,
                                poll_interval=self.poll_interval, report_for=self.report_for)


def run_execution(sessions: sessionmaker, job_exe_id: int, *, work_root: Path,
                  docker: DockerClientFactory | None = None, should_stop: Callable[[], bool] = lambda: False,
                  poll_interval: float = POLL_SECONDS, system_env: Mapping[str, str] | None = None,
                  report_for: float = REPORT_RETRY_SECONDS) -> ExecutionResult:
    """Run execution `job_exe_id` (scheduled, so RUNNING) to its end and report the outcome.

    `system_env` (`Settings.to_env()`) reaches only system job types: they are `scale`
    subcommands that need the node's database and broker. While the database is unreachable
    the task goes on, and the outcome is retried for up to `report_for` seconds. Blocks until
    the task ends, is killed, or the runner stops it. Never raises."""
    run = Run(sessions, job_exe_id, WorkDir(work_root / str(job_exe_id)), should_stop, poll_interval, report_for,
              docker=docker, system_env=system_env or {})
    launched: list[RunningTask] = []
    return _guarded(run, launched, lambda: _start(run, launched))


def resume_execution(sessions: sessionmaker, job_exe_id: int, task: RunningTask, *, work_root: Path,
                     should_stop: Callable[[], bool] = lambda: False, poll_interval: float = POLL_SECONDS,
                     report_for: float = REPORT_RETRY_SECONDS) -> ExecutionResult:
    """Carry on with execution `job_exe_id` (RUNNING) whose task outlived the scheduler that
    started it: a container found again after a crash (`containers.find_container`). Waits for
    it within what is left of its timeout, then collects its outputs and reports exactly as
    `run_execution` does; its work directory is this node's, as it was left. Never raises."""
    run = Run(sessions, job_exe_id, WorkDir(work_root / str(job_exe_id)), should_stop, poll_interval, report_for)

    def resume() -> ExecutionResult:
        with sessions() as session:
            plan = load_plan(session, run, resume=True)
        timeout: float = plan.timeout
        if timeout > 0 and plan.job_started is not None:
            # What is left of the timeout; one already spent ends the wait at once (a timeout).
            timeout = max(timeout - (utcnow() - as_utc(plan.job_started)).total_seconds(), 0.001)
        return _finish(run, plan, task, timeout)

    return _guarded(run, [task], resume)


def _guarded(run: Run, launched: list[RunningTask], body: Callable[[], ExecutionResult]) -> ExecutionResult:
    """`body`'s result, with every way a run can fail turned into its report (never raises);
    the task is cleaned up once its outcome is recorded."""
    try:
        result = body()
    except Failure as failure:
        _note(run.work.stderr, f"scale: {failure.error_name}: {failure}")
        result = report_failure(run, failure.error_name, failure.exit_code)
    except Stopped as stopped:
        _note(run.work.stderr, f"scale: stopped: {stopped}")
        result = ExecutionResult(run.job_exe_id, Outcome.STOPPED)
    except Unrecorded as unrecorded:
        _note(run.work.stderr, f"scale: {unrecorded}")
        result = ExecutionResult(run.job_exe_id, Outcome.UNRECORDED)
    except Exception:
        log.exception("job execution %s: the runner failed", run.job_exe_id)
        _note(run.work.stderr, f"scale: the runner failed\n{traceback.format_exc()}")
        result = report_failure(run, SystemErrorName.UNKNOWN, None)
    if launched and result.recorded:
        _close(launched[0])
    return result


def _start(run: Run, launched: list[RunningTask]) -> ExecutionResult:
    """Plan, record the start, launch the task (appended to `launched`) and finish it."""
    # Without input files to fetch, reading the plan and recording the start are one
    # transaction; with them, the start is recorded once they are here.
    with run.sessions.begin() as session:
        plan = load_plan(session, run)
        argv = command(plan, run.work)
        if not plan.retrievals:
            record_start(session, run, plan, argv)
    if plan.retrievals:
        retrieve_inputs(plan)
        with run.sessions.begin() as session:
            record_start(session, run, plan, argv)
    if run.should_stop():
        raise Stopped("the node is stopping")
    work = run.work
    spec = TaskSpec(installation_id=plan.installation_id, job_exe_id=run.job_exe_id, argv=argv, work_dir=work.root,
                    inputs_dir=work.inputs, outputs_dir=work.outputs, stdout_path=work.stdout,
                    stderr_path=work.stderr, env=plan.env, cpus=plan.cpus, mem_mib=plan.mem_mib,
                    image=plan.image, privileged=plan.privileged)
    task = _launch(spec, run.docker)
    launched.append(task)
    return _finish(run, plan, task, plan.timeout)


def _finish(run: Run, plan: Plan, task: RunningTask, timeout: float) -> ExecutionResult:
    """Wait for the started task, map its exit code, collect its outputs and report success."""
    exit_code = _wait(run, task, timeout)
    if exit_code != 0:
        # The job type's own mapping wins: an algorithm may exit 137 on purpose.
        if (name := plan.errors.error_for_exit_code(exit_code)) is not None:
            raise Failure(name, f"the command exited with code {exit_code}", exit_code)
        if (signum := killed_by(exit_code, oom_killed=task.oom_killed)) is not None:
            how = "the out-of-memory killer" if task.oom_killed else signal.Signals(signum).name
            raise Failure(SystemErrorName.KILLED, f"the command was killed by {how} (exit code {exit_code})",
                          exit_code)
        raise Failure(AlgorithmErrorName.ALGORITHM_UNKNOWN, f"the command exited with code {exit_code}", exit_code)
    try:
        results = collect_outputs(plan.interface, run.work.outputs, run.work.stdout)
    except OutputError as error:
        raise Failure(error.error_name, str(error), exit_code) from error
    return report_success(run, results)


# Signals that come from outside a command, not from its own fault: the out-of-memory killer
# and `kill -9` (KILL), a stop or shutdown (TERM, INT, HUP). A crash of the command itself
# (SEGV, ABRT, FPE, BUS, ILL) is the algorithm's, and final like any unmapped exit code.
OUTSIDE_SIGNALS = frozenset({signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP})


def killed_by(exit_code: int, *, oom_killed: bool = False) -> int | None:
    """The signal from outside that ended a command with `exit_code`, or None. A child process
    killed by signal N exits -N; a container's main process, or a shell whose child was killed,
    reports 128 + N (a killed container: 137). A container the kernel killed for memory is
    SIGKILL whatever it reports."""
    if oom_killed:
        return signal.SIGKILL
    signum = -exit_code if exit_code < 0 else exit_code - 128 if 128 < exit_code < 128 + 65 else None
    return signum if signum in OUTSIDE_SIGNALS else None


def _launch(spec: TaskSpec, docker: DockerClientFactory | None) -> RunningTask:
    if spec.image is None:
        try:
            return start_process(spec)
        except OSError as error:
            raise Failure(SystemErrorName.TASK_LAUNCH, f"could not start the command: {error}") from error
    if docker is None:
        raise Failure(SystemErrorName.DOCKER,
                      f"the job needs the Docker image {spec.image!r}, and this node has no Docker")
    try:
        from scale.execution.containers import start_container

        return start_container(docker(), spec)
    except Exception as error:  # the Docker SDK's errors have no common base worth naming
        raise Failure(SystemErrorName.DOCKER, f"could not start a container of {spec.image!r}: {error}") from error


def _wait(run: Run, task: RunningTask, timeout: float) -> int:
    """The task's exit code; kills it and raises Failure (timeout) or Stopped. Whatever goes
    wrong while waiting, the task (its whole process group) does not outlive the wait."""
    started = time.monotonic()
    deadline = started + timeout if timeout > 0 else None
    next_check = started + STATUS_CHECK_SECONDS
    try:
        while (exit_code := task.wait(run.poll_interval)) is None:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise Failure(SystemErrorName.TIMEOUT, f"killed after its timeout of {timeout} s")
            if run.should_stop():
                raise Stopped("the node is stopping")
            if now >= next_check:
                next_check = now + STATUS_CHECK_SECONDS
                try:
                    with run.sessions() as session:
                        status = session.scalar(select(JobExecution.status)
                                                .where(JobExecution.id == run.job_exe_id))
                except DBAPIError as error:
                    if not transient(error):
                        raise
                    # The database is away: the job goes on, and its outcome waits for it.
                    log.warning("job execution %s: cannot check its status: %s", run.job_exe_id, error.orig)
                    continue
                if status != JobExecutionStatus.RUNNING:
                    raise Stopped(f"the execution is {status}")
    except BaseException:
        task.kill()
        raise
    # What the command left running in the background would hold resources the scheduler
    # believes free, and could still write to the logs being read: it ends with the command.
    task.kill()
    return exit_code


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


def _docker_client(url: str | None) -> object:
    # Imported only for job types that use Docker, so a node without the SDK runs the others.
    from scale.execution.containers import docker_client

    return docker_client(url)
