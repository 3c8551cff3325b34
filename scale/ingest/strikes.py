"""Strike processes: create, edit, list and read them, and queue the `scale-strike` job that runs each.

Decisions where the reference is silent:

* Beyond `POST /strike/create/`: list, details and edit (`PATCH`) of Strike processes. An edit may
  change `title`, `description`, `configuration` and `is_active`; `name` is fixed.
* Every `files_to_ingest[i].workspace_name` must name an active workspace (400 naming
  `configuration.files_to_ingest[i].workspace_name`).
* Creating a Strike queues its long-running `scale-strike` job with a `STRIKE_CREATED` trigger
  event. A configuration edit only updates the row: the running process re-reads it.
* `is_active: false` cancels the Strike's queued or running job (the runner then stops the
  process). `is_active: true` on a Strike whose job is no longer PENDING/BLOCKED/QUEUED/RUNNING
  (deactivated, or ended) queues a new job with a `STRIKE_ACTIVATED` event: it is also how a
  Strike whose process failed is restarted.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from scale.exceptions import Conflict, NotFound, ValidationError
from scale.ingest.commands import StrikeCreate, StrikeEdit
from scale.listing import Filter, ListSpec, parse_bool
from scale.models.ingest import Strike
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.jobs import Job, JobStatus
from scale.models.triggers import TriggerEvent
from scale.models.workspaces import Workspace
from scale.queue import transitions
from scale.queue.factory import new_job
from scale.specs._inputs import DataInput
from scale.specs.job_data import JobData
from scale.specs.strike_configuration import StrikeConfiguration
from scale.timeutil import utcnow

STRIKE_JOB_TYPE = "scale-strike"
CREATED_EVENT = "STRIKE_CREATED"
ACTIVATED_EVENT = "STRIKE_ACTIVATED"
# A Strike job in one of these is still (or about to be) watching the directory.
LIVE_STATUSES = (JobStatus.PENDING, JobStatus.BLOCKED, JobStatus.QUEUED, JobStatus.RUNNING)

STRIKE_LIST = ListSpec(
    filters={"name": Filter(Strike.name), "is_active": Filter(Strike.is_active, parse_bool)},
    orders={"id": Strike.id, "name": Strike.name, "title": Strike.title, "is_active": Strike.is_active,
            "created": Strike.created, "last_modified": Strike.last_modified},
    default_order=("name", "id"),
    time_column=Strike.last_modified,
)


def list_strikes_statement() -> Select:
    """Strikes with their jobs (and the jobs' types and errors) preloaded."""
    return select(Strike).options(*strike_job_options())


def get_strike(session: Session, strike_id: int) -> Strike:
    """The Strike with its job; NotFound for an unknown id."""
    strike = session.scalars(select(Strike).where(Strike.id == strike_id).options(*strike_job_options())).one_or_none()
    if strike is None:
        raise NotFound(f"strike {strike_id} does not exist")
    return strike


def check_workspaces(session: Session, config: StrikeConfiguration) -> None:
    """Every workspace the configuration names must exist and be active (a ValidationError
    naming `configuration.files_to_ingest[i].workspace_name`)."""
    names = {rule.workspace_name for rule in config.files_to_ingest}
    active = set(session.scalars(select(Workspace.name).where(Workspace.name.in_(names), Workspace.is_active)))
    for index, rule in enumerate(config.files_to_ingest):
        if rule.workspace_name not in active:
            raise ValidationError(f"configuration.files_to_ingest[{index}].workspace_name",
                                  f"workspace {rule.workspace_name!r} does not exist or is not active")


def create_strike(session: Session, command: StrikeCreate) -> Strike:
    """Create a Strike process and queue its `scale-strike` job.

    Raises ValidationError (a Conflict for a taken `name`) before anything is written."""
    check_workspaces(session, command.configuration)
    if session.scalar(select(Strike.id).where(Strike.name == command.name)) is not None:
        raise _name_taken(command.name)
    now = utcnow()
    strike = Strike(name=command.name, title=command.title, description=command.description,
                    configuration=command.configuration.to_dict(), is_active=True, created=now, last_modified=now)
    try:
        # A concurrent create of the same name gets past the check above; the unique constraint
        # catches it, and the savepoint keeps the session usable.
        with session.begin_nested():
            session.add(strike)
            session.flush()
    except IntegrityError:
        raise _name_taken(command.name) from None
    strike.job = queue_strike_job(session, strike, event_type=CREATED_EVENT)
    session.flush()
    return strike


def edit_strike(session: Session, strike_id: int, edit: StrikeEdit) -> Strike:
    """Apply an edit to the Strike (its row locked); see the module docstring for `is_active`."""
    if edit.configuration is not None:
        check_workspaces(session, edit.configuration)
    strike = session.scalars(select(Strike).where(Strike.id == strike_id).with_for_update()).one_or_none()
    if strike is None:
        raise NotFound(f"strike {strike_id} does not exist")
    if "title" in edit.given:
        strike.title = edit.title
    if "description" in edit.given:
        strike.description = edit.description
    if edit.configuration is not None:
        strike.configuration = edit.configuration.to_dict()
    if edit.is_active is not None:
        strike.is_active = edit.is_active
        live = strike.job_id is not None and session.scalar(
            select(Job.status).where(Job.id == strike.job_id)) in LIVE_STATUSES
        if not strike.is_active and live:
            assert strike.job_id is not None
            # The guarded set-based cancel: a job that ended meanwhile is simply left alone.
            transitions.cancel_many(session, [strike.job_id])
        elif strike.is_active and not live:
            strike.job = queue_strike_job(session, strike, event_type=ACTIVATED_EVENT)
    strike.last_modified = utcnow()
    session.flush()
    return get_strike(session, strike_id)


def queue_strike_job(session: Session, strike: Strike, *, event_type: str) -> Job:
    """Queue a `scale-strike` job running `strike` (which must have an id), with a trigger event
    of `event_type` recording which Strike it is for."""
    job_type = session.scalars(select(JobType).where(JobType.name == STRIKE_JOB_TYPE, JobType.is_system)).one()
    revision = session.scalars(select(JobTypeRevision).where(
        JobTypeRevision.job_type_id == job_type.id, JobTypeRevision.revision_num == job_type.revision_num)).one()
    now = utcnow()
    event = TriggerEvent(type=event_type, description={"strike_id": strike.id, "strike_name": strike.name},
                         occurred=now)
    job = new_job(job_type, revision, event, JobData(inputs=(DataInput("strike_id", value=str(strike.id)),)), now)
    transitions.queue_job(session, job)
    return job


def _name_taken(name: str) -> Conflict:
    return Conflict("name", f"a Strike process called {name!r} already exists")


def strike_job_options() -> tuple[Any, ...]:
    """Loader options preloading a Strike's job with its type, error and event."""
    job = selectinload(Strike.job)
    return (job.selectinload(Job.job_type), job.selectinload(Job.error), job.selectinload(Job.event))
