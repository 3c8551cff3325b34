"""Planning a run (steps 1 to 3 of scale/execution/runner.py): what the run needs from the
database, read in one statement so no session stays open while the task runs; its work
directory; where each input file comes from and goes; and the command line."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from scale.exceptions import ScaleError, ValidationError
from scale.execution.base import DockerClientFactory, Failure, Stopped
from scale.models.errors import SystemErrorName
from scale.models.files import ScaleFile
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.jobs import Job, JobExecution, JobExecutionStatus
from scale.models.nodes import SCHEDULER_ID, Scheduler
from scale.specs import error_interface, job_data, job_interface
from scale.specs.job_interface import JobInterface
from scale.workspaces.brokers import Broker, broker_for


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


@dataclass(frozen=True)
class Run:
    """One run of execution `job_exe_id` on this node: what every step needs besides the plan.
    `docker` and `system_env` matter only to a run that starts its task (not to a resumed one)."""

    sessions: sessionmaker
    job_exe_id: int
    work: WorkDir
    should_stop: Callable[[], bool]
    poll_interval: float
    report_for: float
    docker: DockerClientFactory | None = None
    system_env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Retrieval:
    broker: Broker
    file_path: str
    local_path: Path


@dataclass
class Plan:
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
    retrievals: list[Retrieval] = field(default_factory=list)
    job_started: dt.datetime | None = None


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


def load_plan(session: Session, run: Run, *, resume: bool = False) -> Plan:
    """The plan of a RUNNING execution (else Stopped), with its work directory made afresh;
    to `resume` a task already running, the directory is kept and no inputs are planned.
    One statement reads the columns it needs; input files cost one more."""
    found = session.execute(_PLAN, {"job_exe_id": run.job_exe_id}).one_or_none()
    if found is None or found.status != JobExecutionStatus.RUNNING:
        raise Stopped(f"execution {run.job_exe_id} is {found.status if found else 'missing'}, not RUNNING")
    work = run.work
    if not resume:
        _prepare(work)
    try:
        interface = job_interface.parse(found.interface)
        errors = error_interface.parse(found.error_mapping or {"exit_codes": {}})
        data = job_data.parse(found.data)
    except ValidationError as error:
        raise Failure(SystemErrorName.PRE_TASK, f"the job's stored documents are not valid: {error}") from error
    plan = Plan(
        job_id=found.id, installation_id=found.installation_id, interface=interface, errors=errors,
        timeout=found.timeout, image=found.docker_image,
        privileged=found.docker_privileged, cpus=found.cpus_scheduled or found.cpus_required,
        mem_mib=found.mem_scheduled or found.mem_required,
        env={**(run.system_env if found.is_system else {}),
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
                raise Failure(SystemErrorName.PRE_TASK, f"input {entry.name!r}: file {file_id} does not exist")
            # Only the last path component: a stored name cannot place a file elsewhere.
            name = PurePosixPath(row.file_name).name or f"file_{row.id}"
            local = directory / (name if directory / name not in used else f"{row.id}_{name}")
            used.add(local)
            try:
                plan.retrievals.append(Retrieval(broker_for(row.workspace), row.file_path, local))
            except ScaleError as error:
                raise Failure(SystemErrorName.PRE_TASK, f"input {entry.name!r}: {error}") from error
            plan.values[entry.name] = str(local)
        if spec is not None and spec.type == "files":
            plan.values[entry.name] = str(directory)
    return plan


def retrieve_inputs(plan: Plan) -> None:
    """Copy the plan's input files from their workspaces into the work directory."""
    try:
        for item in plan.retrievals:
            item.broker.retrieve(item.file_path, item.local_path)
    except (ScaleError, OSError) as error:
        raise Failure(SystemErrorName.PRE_TASK, f"could not prepare the inputs: {error}") from error


def command(plan: Plan, work: WorkDir) -> list[str]:
    """The argv of the job's command, built from its interface (never a shell)."""
    try:
        return plan.interface.command_argv(plan.values, str(work.outputs))
    except ScaleError as error:
        raise Failure(SystemErrorName.PRE_TASK, f"could not prepare the inputs: {error}") from error


def _prepare(work: WorkDir) -> None:
    if work.root.exists():
        shutil.rmtree(work.root)
    work.inputs.mkdir(parents=True)
    work.outputs.mkdir()
    work.stdout.touch()
    work.stderr.touch()
