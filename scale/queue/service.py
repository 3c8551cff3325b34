"""The queue's services for the API: queue a new job, requeue or cancel jobs by filter, queue
status, and the reads of jobs and executions (lists, details, logs).

Decisions where the reference is silent:
* Requeue and cancel share one filter (`started`/`ended` bound `last_modified`, as every list
  does). Cancel (beyond the reference) refuses an empty filter: canceling every job in the
  system takes an explicit `status`.
* Both work through the matching jobs in batches of `BATCH` ids, each batch a few set-based
  statements under row locks (`transitions.requeue_many` / `cancel_many`), so thousands of jobs
  cost a handful of round trips per batch, never one per job.
* A new job is refused (400 naming `job_type_id`) when its type is archived, paused or a
  system type: paused jobs would sit on the queue forever, and system jobs are Scale's own.
* Logs are read from the execution's log files as they are now (while running, too); a missing
  file reads as "", and only the last `LOG_LIMIT` bytes of a larger file are returned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from scale.exceptions import NotFound, ValidationError
from scale.listing import Filter, ListSpec, parse_int
from scale.models.files import ScaleFile
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.jobs import Job, JobExecution, JobExecutionStatus, JobStatus, Queue
from scale.models.nodes import Node
from scale.models.recipes import Recipe, RecipeJob
from scale.models.triggers import TriggerEvent
from scale.models.workspaces import Workspace
from scale.queue import transitions
from scale.queue.commands import CancelJobs, JobEdit, JobFilter, NewJob, RequeueJobs
from scale.queue.factory import new_job
from scale.specs import job_data, job_interface
from scale.specs._inputs import InputSpec
from scale.specs.job_interface import OutputSpec
from scale.timeutil import utcnow

BATCH = 500
LOG_LIMIT = 5 * 1024 * 1024
USER_EVENT = "USER"

def requeue_jobs(session: Session, command: RequeueJobs) -> list[int]:
    """Requeue every FAILED/CANCELED job the command's filter matches (reference "Requeue Jobs"),
    with its `priority` when given. Returns the ids requeued, ascending."""
    return _in_batches(session, command.filter,
                       lambda ids: transitions.requeue_many(session, ids, priority=command.priority))


def cancel_jobs(session: Session, command: CancelJobs) -> list[int]:
    """Cancel every PENDING, BLOCKED, QUEUED or RUNNING job the command's filter matches.
    Returns the ids canceled, ascending."""
    return _in_batches(session, command.filter, lambda ids: transitions.cancel_many(session, ids))


def edit_job(session: Session, job_id: int, edit: JobEdit) -> Job:
    """Apply a PATCH of a job: its one allowed change, CANCELED, cancels it (see
    `transitions.cancel_job` for NotFound and InvalidTransition)."""
    assert edit.status == JobStatus.CANCELED  # JobEdit allows no other
    return transitions.cancel_job(session, job_id)


def _in_batches(session: Session, flt: JobFilter, apply: Callable[[list[int]], list[int]]) -> list[int]:
    done: list[int] = []
    last = 0
    stmt = flt.statement()
    while ids := list(session.scalars(stmt.where(Job.id > last).order_by(Job.id).limit(BATCH))):
        done += apply(ids)
        last = ids[-1]
    return done


def queue_new_job(session: Session, command: NewJob) -> tuple[Job, int]:
    """Create a job of `command.job_type_id` on its `job_data` and queue it (reference "Queue New Job").
    Returns the job and the id of its QUEUED execution, as the write made it (by the time the
    caller has committed, a scheduler may have moved the execution on).

    The job type must exist and be active and not a system type; the data must fit the type's
    current interface, every file must exist (not deleted) with a media type its input accepts,
    and every output workspace must exist and be active. Any failure is a ValidationError
    naming the field, before anything is written. A paused type's job is queued all the same:
    the reference pauses *scheduling*, so the job waits (why-queued JOB_TYPE_PAUSED) and runs
    once the type is resumed; refusing it would lose the work."""
    # The type and its current revision in one statement: queueing is a hot path.
    found = session.execute(select(JobType, JobTypeRevision).join(JobTypeRevision, and_(
        JobTypeRevision.job_type_id == JobType.id, JobTypeRevision.revision_num == JobType.revision_num))
        .where(JobType.id == command.job_type_id)).one_or_none()
    if found is None:
        raise ValidationError("job_type_id", f"job type {command.job_type_id} does not exist")
    job_type, revision = found
    for broken, problem in ((not job_type.is_active, "is archived"),
                            (job_type.is_system, "is a system job type, queued by Scale itself")):
        if broken:
            raise ValidationError("job_type_id", f"job type {job_type.name} {job_type.version} {problem}")
    try:
        interface = job_interface.parse(revision.interface)
        job_data.validate_against(command.job_data, interface)
        _check_files(session, command.job_data, interface)
        _check_workspaces(session, command.job_data)
    except ValidationError as error:
        raise error.within("job_data") from None
    now = utcnow()
    event = TriggerEvent(type=USER_EVENT, description={"user": "api"}, occurred=now)
    job = new_job(job_type, revision, event, command.job_data, now)
    return job, transitions.queue_job(session, job)


def _check_files(session: Session, data: job_data.JobData, interface: job_interface.JobInterface) -> None:
    if not (file_ids := data.file_ids()):
        return
    files = {f.id: f for f in session.scalars(select(ScaleFile).where(ScaleFile.id.in_(file_ids)))}
    for index, entry in enumerate(data.inputs):
        spec = interface.get_input(entry.name)
        assert spec is not None  # validate_against checked the names
        for position, file_id in enumerate(entry.all_file_ids):
            where = f"input_data[{index}]." + ("file_id" if entry.file_id is not None else f"file_ids[{position}]")
            found = files.get(file_id)
            if found is None or found.is_deleted:
                raise ValidationError(where, f"file {file_id} does not exist")
            if spec.media_types and found.media_type not in spec.media_types:
                raise ValidationError(where, f"file {file_id} is {found.media_type}; input {spec.name!r} "
                                             f"accepts {', '.join(spec.media_types)}")


def _check_workspaces(session: Session, data: job_data.JobData) -> None:
    if not (wanted := {entry.workspace_id for entry in data.outputs}):
        return
    active = set(session.scalars(select(Workspace.id).where(Workspace.id.in_(wanted), Workspace.is_active)))
    for index, entry in enumerate(data.outputs):
        if entry.workspace_id not in active:
            raise ValidationError(f"output_data[{index}].workspace_id",
                                  f"workspace {entry.workspace_id} does not exist or is not active")


@dataclass(frozen=True)
class QueueStatus:
    """Queued jobs of one job type (reference "Queue Status")."""

    job_type: JobType
    count: int
    longest_queued: dt.datetime
    highest_priority: int


def queue_status(session: Session) -> list[QueueStatus]:
    """One entry per job type with queued jobs, most urgent (lowest priority number) first.
    (Why they wait: `scale.scheduler.why.reason_counts`.)"""
    rows = session.execute(select(Queue.job_type_id, func.count(Queue.id), func.min(Queue.queued),
                                  func.min(Queue.priority)).group_by(Queue.job_type_id)
                           .order_by(func.min(Queue.priority), func.min(Queue.queued))).all()
    types = {t.id: t for t in session.scalars(select(JobType).where(JobType.id.in_([r[0] for r in rows])))}
    return [QueueStatus(types[type_id], count, longest, highest) for type_id, count, longest, highest in rows]


# Reads --------------------------------------------------------------------------------------

_JOB_TYPE_FILTERS = {"status": Filter(Job.status, choices=tuple(JobStatus)),
                     "job_type_id": Filter(Job.job_type_id, parse_int),
                     "job_type_name": Filter(JobType.name), "job_type_category": Filter(JobType.category)}
_JOB_ORDERS = {**{name: getattr(Job, name) for name in (
    "id", "status", "priority", "num_exes", "timeout", "max_tries", "cpus_required", "mem_required",
    "disk_in_required", "disk_out_required", "created", "queued", "started", "ended", "last_status_change",
    "last_modified")}, **{f"job_type__{name}": getattr(JobType, name) for name in (
        "id", "name", "version", "title", "category", "priority")},
    # The reference's example for the job lists is `order=name&order=version`: a job's only
    # name and version are its job type's.
    "name": JobType.name, "version": JobType.version}

JOB_LIST = ListSpec(filters={**_JOB_TYPE_FILTERS, "job_id": Filter(Job.id, parse_int)}, orders=_JOB_ORDERS,
                    default_order=("-last_modified", "-id"), time_column=Job.last_modified)
# "Jobs ... that changed status in the given time range".
JOB_UPDATES = ListSpec(filters=_JOB_TYPE_FILTERS, orders=_JOB_ORDERS,
                       default_order=("-last_status_change", "-id"), time_column=Job.last_status_change)
JOBS_WITH_EXECUTIONS = ListSpec(filters=_JOB_TYPE_FILTERS, orders=_JOB_ORDERS,
                                default_order=("-last_modified", "-id"), time_column=Job.last_modified)
EXECUTION_LIST = ListSpec(
    filters={"status": Filter(JobExecution.status, choices=tuple(JobExecutionStatus)),
             "job_type_id": Filter(Job.job_type_id, parse_int), "job_type_name": Filter(JobType.name),
             "job_type_category": Filter(JobType.category), "node_id": Filter(JobExecution.node_id, parse_int)},
    orders={**{name: getattr(JobExecution, name) for name in (
        "id", "status", "timeout", "created", "queued", "started", "ended", "job_started", "job_completed",
        "last_modified")}, "job__id": Job.id, "job__status": Job.status, "job__priority": Job.priority,
        **{f"job_type__{name}": getattr(JobType, name) for name in ("id", "name", "version", "category")},
        "node__id": Node.id, "node__hostname": Node.hostname},
    default_order=("-last_modified", "-id"), time_column=JobExecution.last_modified)


def list_jobs_statement() -> Select:
    """Jobs joined to their type (so filters and orders may name it), related rows preloaded."""
    return (select(Job).join(Job.job_type)
            .options(contains_eager(Job.job_type), selectinload(Job.job_type_rev),
                     selectinload(Job.event).selectinload(TriggerEvent.rule), selectinload(Job.error)))


def list_executions_statement() -> Select:
    return (select(JobExecution).join(JobExecution.job).join(Job.job_type).outerjoin(JobExecution.node)
            .options(contains_eager(JobExecution.job).contains_eager(Job.job_type),
                     contains_eager(JobExecution.job).selectinload(Job.error),
                     contains_eager(JobExecution.node), selectinload(JobExecution.error)))


def latest_executions(session: Session, job_ids: Sequence[int]) -> dict[int, JobExecution]:
    """Each job's most recent execution, by job id, in one query."""
    latest = select(func.max(JobExecution.id)).where(JobExecution.job_id.in_(job_ids)).group_by(JobExecution.job_id)
    exes = session.scalars(select(JobExecution).where(JobExecution.id.in_(latest))
                           .options(selectinload(JobExecution.node), selectinload(JobExecution.error)))
    return {exe.job_id: exe for exe in exes}


def input_files(session: Session, jobs: Sequence[Job]) -> dict[int, list[ScaleFile]]:
    """Each job's input files, in job data order, by job id, in one query."""
    wanted = {job.id: job_data.parse(job.data).file_ids() for job in jobs}
    ids = {file_id for file_ids in wanted.values() for file_id in file_ids}
    files = {f.id: f for f in session.scalars(select(ScaleFile).where(ScaleFile.id.in_(ids))
                                                .options(selectinload(ScaleFile.workspace)))}
    return {job_id: [files[i] for i in file_ids if i in files] for job_id, file_ids in wanted.items()}


@dataclass(frozen=True)
class JobDetails:
    """A job with what the reference's details show: recipes, executions, input files,
    products, and its interface's inputs and outputs paired with their values (a property's
    string, a file's ScaleFile, a files input's list of them; None when not given)."""

    job: Job
    recipes: list[Recipe]
    input_files: list[ScaleFile]
    products: list[ScaleFile]
    inputs: list[tuple[InputSpec, Any]] = field(default_factory=list)
    outputs: list[tuple[OutputSpec, Any]] = field(default_factory=list)


def get_job(session: Session, job_id: int) -> JobDetails:
    """The job's details; NotFound for an unknown id. (Why a QUEUED job waits:
    `scale.scheduler.why.queued_reasons`.)"""
    job = session.scalars(list_jobs_statement().where(Job.id == job_id)
                          .options(selectinload(Job.job_exes).selectinload(JobExecution.error))).one_or_none()
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    recipes = list(session.scalars(select(Recipe).join(RecipeJob, RecipeJob.recipe_id == Recipe.id)
                                   .where(RecipeJob.job_id == job_id).order_by(Recipe.id)
                                   .options(selectinload(Recipe.recipe_type), selectinload(Recipe.event))))
    files = input_files(session, [job])[job.id]
    products = list(session.scalars(select(ScaleFile).where(ScaleFile.job_id == job_id).order_by(ScaleFile.id)
                                    .options(selectinload(ScaleFile.workspace))))
    interface = job_interface.parse(job.job_type_rev.interface)
    data = job_data.parse(job.data)
    by_id = {f.id: f for f in files + products}
    inputs: list[tuple[InputSpec, Any]] = []
    for spec in interface.inputs:
        entry = data.get_input(spec.name)
        value: Any = None
        if entry is not None:
            value = entry.value if spec.type == "property" else [by_id.get(i) for i in entry.all_file_ids]
            if spec.type == "file":
                value = value[0] if value else None
        inputs.append((spec, value))
    results = {item.get("name"): item for item in (job.results or {}).get("output_data", [])}
    outputs: list[tuple[OutputSpec, Any]] = []
    for output in interface.outputs:
        item = results.get(output.name, {})
        if output.type == "file":
            outputs.append((output, by_id.get(item["file_id"]) if "file_id" in item else None))
        else:
            outputs.append((output, [by_id[i] for i in item.get("file_ids", []) if i in by_id] if item else None))
    return JobDetails(job=job, recipes=recipes, input_files=files, products=products, inputs=inputs,
                      outputs=outputs)


def get_execution(session: Session, job_exe_id: int) -> JobExecution:
    """The execution with its job, node and error; NotFound for an unknown id."""
    exe = session.scalars(list_executions_statement().where(JobExecution.id == job_exe_id)).one_or_none()
    if exe is None:
        raise NotFound(f"job execution {job_exe_id} does not exist")
    return exe


def read_log(path: str | None) -> str:
    """A log file's content so far (its last `LOG_LIMIT` bytes); "" when there is none yet."""
    if not path:
        return ""
    try:
        with Path(path).open("rb") as log:
            log.seek(0, 2)
            log.seek(max(0, log.tell() - LOG_LIMIT))
            return log.read().decode("utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return ""
