"""Every job and execution state change (docs/execution.md, "Job life cycle").

Kept whole past the ~400 lines of STYLE.md on purpose (issue 15, item 4): every state change
sits beside the others, so the one lock order and the status guards below can be read and
checked in one place; split, a new change could take its locks in another order unseen.

All functions take a Session first, lock rows, flush, and never commit. Rows are always locked
in one order, queue -> job -> execution (the scheduler claims queue rows before it touches the
job), so two writers never deadlock on each other. Besides the lock, every write is an UPDATE
guarded on the status it moves from: on SQLite, which has no row locks, the guard is what stops
a second writer, and a late report (an execution completing after its job was canceled) can
never resurrect a job.

Retry rules: a failed try whose error is SYSTEM is queued again (a new execution and queue row)
while `num_exes < max_tries`; ALGORITHM and DATA errors are final; a long-running job type is
always queued again. Requeueing a FAILED/CANCELED job raises `max_tries` to `num_exes + 1` so
that it gets exactly one more try (or keeps a higher limit); a job that never ran goes back to
PENDING, for its recipe to queue when its inputs are ready (reference, "Requeue Jobs").
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    CursorResult,
    Table,
    Update,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.attributes import set_committed_value

from scale.db import Base
from scale.exceptions import InvalidTransition, NotFound
from scale.models.errors import Error, ErrorCategory, SystemErrorName
from scale.models.files import ScaleFile
from scale.models.job_types import JobType
from scale.models.jobs import Job, JobExecution, JobExecutionStatus, JobStatus, Queue
from scale.resources import Resources
from scale.specs import job_data
from scale.timeutil import utcnow

# The job life cycle, one line per transition, for `scale up`'s output and the process logs.
lifecycle = logging.getLogger("scale.jobs")

# A job in one of these may be queued (new, recipe-released, requeued).
QUEUEABLE = (JobStatus.PENDING, JobStatus.FAILED, JobStatus.CANCELED)
REQUEUEABLE = (JobStatus.FAILED, JobStatus.CANCELED)
CANCELABLE = (JobStatus.PENDING, JobStatus.BLOCKED, JobStatus.QUEUED, JobStatus.RUNNING)
MIB = 1024 * 1024
# DML here runs without ORM synchronisation (it cannot evaluate every value, and would half
# update objects); `_expire` then makes the session re-read what the statements changed.
_NO_SYNC = {"synchronize_session": False}


def _claim_statements() -> dict[str, Any]:
    """The scheduler cycle's statements, built once (building one costs about as much Python as
    running it) and in Core where no ORM object is wanted."""
    job, exe, queue = (cast(Table, model.__table__) for model in (Job, JobExecution, Queue))
    job_ids: BindParameter[Any] = bindparam("job_ids", expanding=True)
    now = bindparam("now", type_=job.c.started.type)
    return {
        "claim": (select(Queue).join(JobType, Queue.job_type_id == JobType.id)
                  .where(Queue.too_large == false(), JobType.is_paused.is_(False))
                  .order_by(Queue.priority, Queue.queued, Queue.id).limit(bindparam("limit"))
                  .with_for_update(skip_locked=True, of=Queue)
                  .execution_options(populate_existing=True)),
        "lock_jobs": select(job.c.id).where(job.c.id.in_(job_ids)).with_for_update(skip_locked=True),
        "start_jobs": (update(job).where(job.c.id.in_(job_ids), job.c.status == JobStatus.QUEUED)
                       .values(status=JobStatus.RUNNING, started=now, last_status_change=now)
                       .returning(job.c.id)),
        "start_executions": (update(exe).where(exe.c.id == bindparam("exe_id"),
                                               exe.c.status == JobExecutionStatus.QUEUED)
                             .values(status=JobExecutionStatus.RUNNING, node_id=bindparam("node"),
                                     cpus_scheduled=bindparam("cpus"), mem_scheduled=bindparam("mem"),
                                     disk_in_scheduled=bindparam("disk_in"), disk_out_scheduled=bindparam("disk_out"),
                                     disk_total_scheduled=bindparam("disk_total"),
                                     started=bindparam("exe_now", type_=exe.c.started.type),
                                     last_modified=bindparam("exe_now", type_=exe.c.started.type))),
        "delete_rows": delete(queue).where(queue.c.id.in_(bindparam("queue_ids", expanding=True))),
    }


_CLAIM = _claim_statements()


def claim_queued(session: Session, *, limit: int, after: Queue | None = None,
                 skip_job_types: Collection[int] = ()) -> list[Queue]:
    """Lock up to `limit` queue rows, lowest priority number first, then oldest queued; with
    `after`, the rows that come after that one in this order (the next page of a claim).

    Rows another scheduler holds are skipped (`FOR UPDATE SKIP LOCKED`), and so are rows that
    could never be placed now, which would otherwise fill every claim: rows set aside as too
    large, rows of paused job types and rows of `skip_job_types` (those with no
    `max_scheduled` slot left)."""
    stmt = _CLAIM["claim"]
    if after is not None:
        stmt = stmt.where(tuple_(Queue.priority, Queue.queued, Queue.id)
                          > tuple_(literal(after.priority), literal(after.queued, Queue.queued.type),
                                   literal(after.id)))
    if skip_job_types:
        stmt = stmt.where(Queue.job_type_id.not_in(skip_job_types))
    return list(session.scalars(stmt, {"limit": limit}))


def set_aside_too_large(session: Session, queue_ids: Collection[int]) -> None:
    """Mark claimed rows that ask for more than every usable node's total: claims pass over
    them until `reconsider_too_large` finds a node they fit."""
    if queue_ids:
        session.execute(update(Queue).where(Queue.id.in_(queue_ids)).values(too_large=True),
                        execution_options=_NO_SYNC)


def reconsider_too_large(session: Session, totals: Collection[Resources]) -> int:
    """Return to the claim the rows set aside as too large that fit one of `totals` (the
    usable nodes' totals, which changed); rows that still fit none stay aside. Returns how
    many came back. Reads only the rows set aside (the front of `ix_queue_claim`)."""
    if not totals:
        return 0
    fits = or_(*(and_(Queue.cpus_required <= total.cpus, Queue.mem_required <= total.mem,
                      Queue.disk_total_required <= total.disk) for total in totals))
    result = session.execute(update(Queue).where(Queue.too_large == true(), fits).values(too_large=False),
                             execution_options=_NO_SYNC)
    return cast(CursorResult[Any], result).rowcount


@dataclass(frozen=True)
class Placement:
    """A claimed queue row placed on a node with the resources it reserves there."""

    queue_row: Queue
    node_id: int
    cpus: float
    mem: float
    disk_in: float | None = None  # default: what the queue row asks for
    disk_out: float | None = None


def schedule_many(session: Session, placements: Sequence[Placement]) -> list[int]:
    """`schedule_execution` for a whole cycle's placements in a handful of statements (the
    scheduler's hot path): lock the jobs (queue row -> job -> execution, the one lock order),
    move those still QUEUED and their executions to RUNNING, and delete their queue rows.
    Returns the job_exe_ids scheduled; a placement whose job was canceled meanwhile is left out,
    and so is one whose job row another transaction holds locked (a cancel under way, or any
    client's open transaction): it stays queued for a later cycle, and the scheduler never
    waits on another's lock."""
    if not placements:
        return []
    by_job = {p.queue_row.job_id: p for p in placements}
    now = utcnow()
    # Lock first so a concurrent cancel waits for us (or we skip what it already canceled).
    locked: list[int] = list(session.execute(_CLAIM["lock_jobs"], {"job_ids": list(by_job)}).scalars())
    if not locked:
        return []
    moved: set[int] = set(session.execute(_CLAIM["start_jobs"], {"job_ids": locked, "now": now}).scalars())
    chosen = [by_job[job_id] for job_id in moved]
    if not chosen:
        return []
    # One executemany for every row's own resources and node.
    session.execute(_CLAIM["start_executions"], [{**_placement_values(p), "exe_now": now} for p in chosen])
    scheduled = [p.queue_row.job_exe_id for p in chosen]
    for p in chosen:
        lifecycle.info("job %s (type %s) exe %s RUNNING on node %s", p.queue_row.job_id, p.queue_row.job_type_id,
                       p.queue_row.job_exe_id, p.node_id)
    session.execute(_CLAIM["delete_rows"], {"queue_ids": [p.queue_row.id for p in chosen]})
    for placement in chosen:  # deleted: nothing left to re-read
        session.expunge(placement.queue_row)
    _expire(session, Job, moved)
    _expire(session, JobExecution, scheduled)
    return scheduled


def _placement_values(placement: Placement) -> dict[str, Any]:
    row = placement.queue_row
    disk_in = row.disk_in_required if placement.disk_in is None else placement.disk_in
    disk_out = row.disk_out_required if placement.disk_out is None else placement.disk_out
    return {"exe_id": row.job_exe_id, "node": placement.node_id, "cpus": placement.cpus, "mem": placement.mem,
            "disk_in": disk_in, "disk_out": disk_out, "disk_total": disk_in + disk_out}


def schedule_execution(session: Session, queue_row: Queue, *, node_id: int, cpus: float, mem: float,
                       disk_in: float, disk_out: float) -> JobExecution:
    """Place one claimed queue row on a node (see `schedule_many`). Raises InvalidTransition if
    its job is no longer QUEUED."""
    job_id = queue_row.job_id
    scheduled = schedule_many(session, [Placement(queue_row, node_id=node_id, cpus=cpus, mem=mem,
                                                  disk_in=disk_in, disk_out=disk_out)])
    if not scheduled:
        raise InvalidTransition(f"job {job_id} is no longer QUEUED")
    exe = session.get(JobExecution, scheduled[0])
    assert exe is not None
    return exe


def start_execution(session: Session, job_exe_id: int, *, command_arguments: str, stdout_path: str,
                    stderr_path: str) -> None:
    """Record that the runner started the job task: its command line, log files and
    `job_started`. Raises InvalidTransition when the execution is no longer RUNNING (it was
    canceled after scheduling), so the runner does not start it, and NotFound for an unknown id.

    One guarded UPDATE of the execution's row and no other lock: holding a single row, it
    cannot deadlock with a cancel (which locks the job, then the execution)."""
    if not _move_if(session, JobExecution, job_exe_id, (JobExecutionStatus.RUNNING,),
                    command_arguments=command_arguments, stdout_path=stdout_path, stderr_path=stderr_path,
                    job_started=utcnow()):
        if session.get(JobExecution, job_exe_id) is None:
            raise NotFound(f"job execution {job_exe_id} does not exist")
        raise InvalidTransition(f"job execution {job_exe_id} is no longer RUNNING")


def complete_execution(session: Session, job_exe_id: int, *, results: dict[str, Any], exit_code: int | None,
                       results_manifest: dict[str, Any] | None = None) -> Job:
    """End a RUNNING execution COMPLETED with its `results` (and the `results_manifest` the job
    wrote, if any), and its job with it. Three statements: lock the job (reading it and the
    execution), then the two guarded UPDATEs.

    An execution that is no longer RUNNING (canceled meanwhile) is left alone and its job
    returned unchanged: a late report never resurrects a canceled job. So the returned job is
    COMPLETED exactly when this execution completed it (a COMPLETED job is never queued again),
    and its status is known without a query."""
    job, exe = lock_execution(session, job_exe_id)
    logged = (job.id, job.job_type_id, exe.id)  # read now: the updates below expire both objects
    now = utcnow()
    if not _move_if(session, JobExecution, exe.id, (JobExecutionStatus.RUNNING,),
                    status=JobExecutionStatus.COMPLETED, results=results, results_manifest=results_manifest,
                    job_exit_code=exit_code, job_completed=exe.job_completed or now, ended=now):
        return job
    if job.status == JobStatus.RUNNING:
        _move(session, Job, job.id, (JobStatus.RUNNING,), status=JobStatus.COMPLETED, results=results,
              ended=now, last_status_change=now)
        lifecycle.info("job %s (type %s) exe %s COMPLETED", *logged)
    return job


def fail_execution(session: Session, job_exe_id: int, *, error_name: str, exit_code: int | None = None) -> Job:
    """End a RUNNING execution FAILED with the error called `error_name` (an unknown name is the
    SYSTEM error `unknown`), then apply the retry rules: the job is queued again with a new
    execution, or ends FAILED with the error. Returns the job in its new state; an execution that
    is no longer RUNNING is left alone, as in `complete_execution`."""
    error = _error_named(session, error_name)
    job, exe = lock_execution(session, job_exe_id)
    logged = (job.id, job.job_type_id, exe.id)  # read now: the updates below expire both objects
    now = utcnow()
    if not _move_if(session, JobExecution, exe.id, (JobExecutionStatus.RUNNING,),
                    status=JobExecutionStatus.FAILED, error_id=error.id,
                    job_exit_code=exe.job_exit_code if exit_code is None else exit_code, ended=now):
        return job
    if job.status != JobStatus.RUNNING:
        return job
    retry = job.job_type.is_long_running or (error.category == ErrorCategory.SYSTEM
                                             and job.num_exes < job.max_tries)
    lifecycle.info("job %s (type %s) exe %s FAILED with %s (%s)%s", *logged, error.name, error.category,
                   "; retrying" if retry else "")
    if retry:
        _queue_many(session, [job.id], from_statuses=(JobStatus.RUNNING,), now=now)
    else:
        _move(session, Job, job.id, (JobStatus.RUNNING,), status=JobStatus.FAILED, error_id=error.id,
              ended=now, last_status_change=now)
    return job


def return_to_queue(session: Session, job_exe_ids: Sequence[int]) -> list[int]:
    """Put back in the queue the RUNNING executions among `job_exe_ids` that their node stopped
    without an outcome because it was shutting down cleanly (docs/execution.md, "Stopping").

    The try did not happen: the execution itself goes back to QUEUED (node, scheduled resources,
    start times and command line cleared), its job from RUNNING to QUEUED, and a queue row is
    added; `num_exes` is unchanged, so a shutdown never costs a try. Executions or jobs that
    moved on meanwhile (completed, failed, canceled) are left alone. Returns the ids moved."""
    if not job_exe_ids:
        return []
    now = utcnow()
    job_ids = sorted(set(session.scalars(select(JobExecution.job_id).where(
        JobExecution.id.in_(job_exe_ids), JobExecution.status == JobExecutionStatus.RUNNING))))
    if not job_ids:
        return []
    # The one lock order: the job before its execution.
    session.execute(select(Job.id).where(Job.id.in_(job_ids)).order_by(Job.id).with_for_update()).all()
    jobs = list(_dml(session, update(Job).where(Job.id.in_(job_ids), Job.status == JobStatus.RUNNING)
                     .values(status=JobStatus.QUEUED, started=None, last_status_change=now)
                     .returning(Job.id)).scalars())
    if not jobs:
        return []
    moved = sorted(_dml(session, update(JobExecution).where(
        JobExecution.job_id.in_(jobs), JobExecution.id.in_(job_exe_ids),
        JobExecution.status == JobExecutionStatus.RUNNING).values(
        status=JobExecutionStatus.QUEUED, node_id=None, cpus_scheduled=None, mem_scheduled=None,
        disk_in_scheduled=None, disk_out_scheduled=None, disk_total_scheduled=None, started=None,
        job_started=None, command_arguments=None, stdout_path=None, stderr_path=None,
        last_modified=now).returning(JobExecution.id)).scalars())
    session.execute(_INSERT_QUEUE_ROWS, {"exe_ids": moved, "now": now})
    _expire(session, Job, jobs)
    _expire(session, JobExecution, moved)
    return moved


def cancel_job(session: Session, job_id: int) -> Job:
    """Cancel a PENDING, BLOCKED, QUEUED or RUNNING job: its queue row is deleted and its queued
    or running execution CANCELED (the runner notices and kills the task).

    Raises NotFound for an unknown id and InvalidTransition for a COMPLETED, FAILED or CANCELED job."""
    if session.get(Job, job_id) is None:
        raise NotFound(f"job {job_id} does not exist")
    canceled = cancel_many(session, [job_id])
    job = session.get(Job, job_id)
    assert job is not None
    if not canceled:
        raise InvalidTransition(f"job {job_id} is {job.status}; only "
                                f"{', '.join(CANCELABLE)} jobs can be canceled")
    return job


def queue_job(session: Session, job: Job) -> int:
    """Queue `job` (new, PENDING, FAILED or CANCELED): a QUEUED execution and a queue row holding
    the job's resources. disk_in is the input files' total size in MiB, disk_out the job type's
    `disk_out_const_required + disk_out_mult_required * disk_in`. The job becomes QUEUED with
    `num_exes` + 1. Returns the new execution's id.

    A new job (not yet in the database) is added to the session and inserted already QUEUED:
    nobody else can see it, so there is nothing to guard, and queueing it costs its INSERT plus
    the execution's and the queue row's. A job that exists is moved by an UPDATE guarded on its
    status, so one another writer moved meanwhile raises InvalidTransition."""
    if not inspect(job).has_identity:
        return queue_new_jobs(session, [job])[job.id]
    job_type = session.get(JobType, job.job_type_id)
    assert job_type is not None
    _set_disk_sizes(job, job_type, input_size_mib(session, job.data))
    now = utcnow()
    session.flush()
    if job.status not in QUEUEABLE:
        raise InvalidTransition(f"job {job.id} is {job.status}; only {', '.join(QUEUEABLE)} jobs can be queued")
    queued = _queue_many(session, [job.id], from_statuses=QUEUEABLE, now=now)
    if not queued:
        raise InvalidTransition(f"job {job.id} changed status while being queued")
    return queued[job.id]


def requeue_many(session: Session, job_ids: Sequence[int], *, priority: int | None = None) -> list[int]:
    """Requeue the FAILED/CANCELED jobs among `job_ids` in a few set-based statements, locking
    them first. A job that has run before gets `max_tries` raised to at least `num_exes + 1`
    and is queued (with `priority` when given); one that never ran goes back to PENDING.
    Returns the ids that moved; jobs in other statuses are skipped."""
    now = utcnow()
    locked = session.execute(select(Job.id, Job.num_exes).where(Job.id.in_(job_ids), Job.status.in_(REQUEUEABLE))
                             .order_by(Job.id).with_for_update()).all()
    never_ran = [job_id for job_id, num_exes in locked if num_exes == 0]
    ran = [job_id for job_id, num_exes in locked if num_exes > 0]
    moved: list[int] = []
    if never_ran:
        values: dict[str, Any] = {"status": JobStatus.PENDING, "error_id": None, "started": None, "ended": None,
                                  "last_status_change": now}
        if priority is not None:
            values["priority"] = priority
        moved += _dml(session, update(Job).where(Job.id.in_(never_ran), Job.status.in_(REQUEUEABLE))
                      .values(**values).returning(Job.id)).scalars().all()
    if ran:
        _dml(session, update(Job).where(Job.id.in_(ran), Job.status.in_(REQUEUEABLE)).values(
            max_tries=case((Job.max_tries < Job.num_exes + 1, Job.num_exes + 1), else_=Job.max_tries)))
        moved += _queue_many(session, ran, from_statuses=REQUEUEABLE, now=now, priority=priority)
    _expire(session, Job, moved)
    return sorted(moved)


def cancel_many(session: Session, job_ids: Sequence[int]) -> list[int]:
    """Cancel the PENDING, BLOCKED, QUEUED and RUNNING jobs among `job_ids` in a few set-based
    statements: queue rows deleted, queued/running executions and the jobs CANCELED. Returns
    the ids canceled; jobs in other statuses are skipped."""
    now = utcnow()
    # Queue rows first: the scheduler locks a claimed row before its job (see the module doc).
    session.execute(select(Queue.id).where(Queue.job_id.in_(job_ids)).order_by(Queue.id).with_for_update())
    locked = list(session.scalars(select(Job.id).where(Job.id.in_(job_ids), Job.status.in_(CANCELABLE))
                                  .order_by(Job.id).with_for_update()))
    if not locked:
        return []
    deleted = _dml(session, delete(Queue).where(Queue.job_id.in_(locked)).returning(Queue.id)).scalars().all()
    exes = _dml(session, update(JobExecution).where(
        JobExecution.job_id.in_(locked),
        JobExecution.status.in_((JobExecutionStatus.QUEUED, JobExecutionStatus.RUNNING)),
    ).values(status=JobExecutionStatus.CANCELED, ended=now).returning(JobExecution.id)).scalars().all()
    canceled = list(_dml(session, update(Job).where(Job.id.in_(locked), Job.status.in_(CANCELABLE)).values(
        status=JobStatus.CANCELED, ended=now, last_status_change=now).returning(Job.id)).scalars())
    _expire(session, Queue, deleted)
    _expire(session, JobExecution, exes)
    _expire(session, Job, locked)
    return canceled


def lock_job(session: Session, job_id: int) -> Job:
    """The job with its row locked and its attributes re-read; NotFound if there is none."""
    job = session.scalars(select(Job).where(Job.id == job_id).with_for_update()
                          .execution_options(populate_existing=True)).one_or_none()
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    return job


def input_size_mib(session: Session, data: dict[str, Any]) -> float:
    """Total size in MiB of the files a job data document passes (0 for none)."""
    file_ids = job_data.parse(data).file_ids()
    if not file_ids:
        return 0.0
    total = session.scalar(select(func.coalesce(func.sum(ScaleFile.file_size), 0))
                           .where(ScaleFile.id.in_(file_ids)))
    return float(total or 0) / MIB


# The statements of the runner's hot path are built once, with parameters: building a
# statement costs more Python than executing it (py-spy of bench/throughput's scheduler).
_LOCK_EXECUTION = (select(Job, JobExecution).join(JobExecution, JobExecution.job_id == Job.id)
                   .where(JobExecution.id == bindparam("job_exe_id")).with_for_update(of=Job)
                   .execution_options(populate_existing=True))


def lock_execution(session: Session, job_exe_id: int) -> tuple[Job, JobExecution]:
    """The execution and its job, re-read in one statement that locks the job's row; NotFound
    if there is no such execution. The execution's row is locked by the guarded UPDATE that
    moves it (job, then execution: the one lock order). Its status as read here may predate a
    cancel that committed while this waited for the job's lock; the guard, not this read,
    decides whether it still moves."""
    found = session.execute(_LOCK_EXECUTION, {"job_exe_id": job_exe_id}).one_or_none()
    if found is None:
        raise NotFound(f"job execution {job_exe_id} does not exist")
    return found[0], found[1]


def _move(session: Session, model: type[Job] | type[JobExecution], row_id: int,
          from_statuses: Collection[str], **values: Any) -> None:
    """`_move_if`, raising InvalidTransition when the row was no longer in one of
    `from_statuses` (another writer got there first)."""
    if not _move_if(session, model, row_id, from_statuses, **values):
        raise InvalidTransition(f"{model.__tablename__} {row_id} is no longer {' or '.join(from_statuses)}")


def _move_if(session: Session, model: type[Job] | type[JobExecution], row_id: int,
             from_statuses: Collection[str], **values: Any) -> bool:
    """UPDATE one row to plain `values`, guarded on its status; False (nothing written) when it
    was no longer in one of `from_statuses`. A loaded object of the row is expired; when the row
    moved, all but the written columns, which it then holds as loaded (reading them back, as the
    runner does with the status, costs no query)."""
    params = {f"new_{key}": value for key, value in values.items()}
    result = session.execute(_guarded_update(model.__tablename__, tuple(values)),
                             {"row_id": row_id, "from_statuses": list(from_statuses), **params})
    moved = cast(CursorResult[Any], result).rowcount == 1
    row = session.identity_map.get(session.identity_key(model, row_id))
    if row is not None and not moved:
        session.expire(row)
    elif row is not None:
        columns = cast(Mapper[Any], inspect(model)).column_attrs
        session.expire(row, [column.key for column in columns if column.key not in values])
        for key, value in values.items():
            set_committed_value(row, key, value)
    return bool(moved)


@functools.cache
def _guarded_update(table_name: str, columns: tuple[str, ...]) -> Update:
    """`UPDATE table SET columns WHERE id = :row_id AND status IN :from_statuses`, built once
    per table and set of columns (a handful of call sites use it). Core, not an ORM-enabled
    UPDATE: `_move_if` keeps the session's objects in step itself."""
    table = Base.metadata.tables[table_name]
    return (update(table)
            .where(table.c.id == bindparam("row_id"), table.c.status.in_(bindparam("from_statuses", expanding=True)))
            .values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in columns}))


def _queue_many(session: Session, job_ids: Sequence[int], *, from_statuses: Collection[str], now: Any,
                priority: int | None = None) -> dict[int, int]:
    """The one queue write for jobs that exist: those among `job_ids` still in `from_statuses`
    become QUEUED (`num_exes` + 1, error and times cleared), each with a QUEUED execution and a
    queue row (`_add_executions`). Set-based, so requeueing thousands of jobs is a handful of
    statements. Returns the new execution id of each job queued, by job id."""
    values = _queued_values(now, num_exes=Job.num_exes + 1)
    if priority is not None:
        values["priority"] = priority
    moved = list(_dml(session, update(Job).where(Job.id.in_(job_ids), Job.status.in_(from_statuses))
                      .values(**values).returning(Job.id)).scalars())
    if not moved:
        return {}
    _expire(session, Job, moved)
    return _add_executions(session, moved, now)


def _queued_values(now: Any, *, num_exes: Any) -> dict[str, Any]:
    """What a job becomes when queued, new (`queue_job`) or again (`_queue_many`)."""
    return {"status": JobStatus.QUEUED, "num_exes": num_exes, "queued": now, "error_id": None, "started": None,
            "ended": None, "last_status_change": now}


def _insert_statements() -> tuple[Any, Any]:
    """The two INSERT ... SELECTs of `_add_executions`, built once: building them is most of
    their cost in Python. Parameters: `job_ids` (expanding) and `now`."""
    exe, queue, job = (cast(Table, model.__table__) for model in (JobExecution, Queue, Job))
    job_ids: BindParameter[Any] = bindparam("job_ids", expanding=True)
    now = bindparam("now", type_=exe.c.created.type)
    executions = insert(exe).from_select(
        ["job_id", "status", "timeout", "environment", "requires_cleanup", "created", "queued", "last_modified"],
        select(job.c.id, literal(JobExecutionStatus.QUEUED.value, exe.c.status.type), job.c.timeout,
               literal({}, exe.c.environment.type), literal(False), now, now, now)
        .where(job.c.id.in_(job_ids))).returning(exe.c.job_id, exe.c.id)
    disk_in = func.coalesce(job.c.disk_in_required, 0.0)
    disk_out = func.coalesce(job.c.disk_out_required, 0.0)
    queue_rows = insert(queue).from_select(
        ["job_exe_id", "job_id", "job_type_id", "priority", "cpus_required", "mem_required", "disk_in_required",
         "disk_out_required", "disk_total_required", "queued", "created", "last_modified"],
        select(exe.c.id, job.c.id, job.c.job_type_id, job.c.priority, job.c.cpus_required, job.c.mem_required,
               disk_in, disk_out, disk_in + disk_out, now, now, now)
        .join(job, exe.c.job_id == job.c.id)
        .where(exe.c.id.in_(bindparam("exe_ids", expanding=True)))).returning(
            queue.c.job_id, queue.c.job_type_id, queue.c.job_exe_id)
    return executions, queue_rows


_INSERT_EXECUTIONS, _INSERT_QUEUE_ROWS = _insert_statements()


def _add_executions(session: Session, job_ids: Sequence[int], now: Any) -> dict[int, int]:
    """A QUEUED execution and a queue row with its resources (`disk_*_required` as computed
    when the job was first queued) for each of `job_ids`, jobs just made QUEUED. Two
    statements however many jobs. Returns the execution ids by job id."""
    rows = cast(Sequence[tuple[int, int]],
                session.execute(_INSERT_EXECUTIONS, {"job_ids": list(job_ids), "now": now}).all())
    exe_ids = dict(rows)
    for job_id, job_type_id, exe_id in session.execute(_INSERT_QUEUE_ROWS,
                                                       {"exe_ids": list(exe_ids.values()), "now": now}):
        lifecycle.info("job %s (type %s) exe %s QUEUED", job_id, job_type_id, exe_id)
    return exe_ids


def _dml(session: Session, stmt: Any) -> Any:
    return session.execute(stmt, execution_options=_NO_SYNC)


def _expire(session: Session, model: type[Job] | type[JobExecution] | type[Queue], ids: Collection[int]) -> None:
    """Make the session re-read the rows of `model` with these ids that it holds, after
    set-based statements changed them behind its back (a lookup per id, not a scan of the
    session)."""
    for row_id in ids:
        row = session.identity_map.get(session.identity_key(model, row_id))
        if row is not None:
            session.expire(row)


def _error_named(session: Session, name: str) -> Error:
    error = session.scalar(select(Error).where(Error.name == name))
    if error is None:
        error = session.scalars(select(Error).where(Error.name == SystemErrorName.UNKNOWN)).one()
    return error


def queue_new_jobs(session: Session, jobs: Sequence[Job]) -> dict[int, int]:
    """`queue_job` for many new jobs (not yet in the database) at once, in a handful of
    statements however many: their disk sizes computed as `queue_job` does (one query for all
    their input files' sizes), the jobs added and inserted already QUEUED in one flush (with any
    pending objects they point at, such as their events), then `_add_executions`. Returns the
    new execution ids by job id. Raises InvalidTransition, before writing anything, for a job
    that exists already or is not PENDING, FAILED or CANCELED."""
    for job in jobs:
        if inspect(job).has_identity:
            raise InvalidTransition(f"job {job.id} exists already; queue_job queues it")
        if (job.status or JobStatus.PENDING) not in QUEUEABLE:
            raise InvalidTransition(f"a new job is {job.status}; only {', '.join(QUEUEABLE)} jobs can be queued")
    if not jobs:
        return {}
    inputs = [set(job_data.parse(job.data).file_ids()) for job in jobs]
    wanted = set().union(*inputs)
    sizes: dict[int, int | None] = dict(cast(Sequence[tuple[int, int | None]], session.execute(
        select(ScaleFile.id, ScaleFile.file_size).where(ScaleFile.id.in_(wanted))).all())) if wanted else {}
    now = utcnow()
    for job, file_ids in zip(jobs, inputs, strict=True):
        job_type = session.get(JobType, job.job_type_id)
        assert job_type is not None
        _set_disk_sizes(job, job_type, float(sum(sizes.get(file_id) or 0 for file_id in file_ids)) / MIB)
        for key, value in _queued_values(now, num_exes=(job.num_exes or 0) + 1).items():
            setattr(job, key, value)
    session.add_all(jobs)
    session.flush()
    return _add_executions(session, [job.id for job in jobs], now)


def _set_disk_sizes(job: Job, job_type: JobType, disk_in: float) -> None:
    """disk_in is the input files' total size in MiB; disk_out the job type's
    `disk_out_const_required + disk_out_mult_required * disk_in`."""
    job.disk_in_required = disk_in
    job.disk_out_required = job_type.disk_out_const_required + job_type.disk_out_mult_required * disk_in
