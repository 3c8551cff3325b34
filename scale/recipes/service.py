"""Recipes at run time (reference: Recipe Services, Queue Services `new-recipe`).

A recipe is one run of a recipe type's definition: one Job per definition job (a `RecipeJob`
row names it). Jobs without dependencies are queued when the recipe is created; the others
stay PENDING until `advance_recipe` finds all their dependencies COMPLETED, builds their job
data from the recipe data and the dependencies' results, and queues them.

Decisions where the reference is silent:

* A recipe queued through the API gets a `USER` trigger event (no rule).
* Every job gets its job data at creation with what is already known (recipe inputs and
  `output_data`); a dependent job's data gains its connected inputs when it is queued. Every
  output of a job goes to the recipe data's `workspace_id`.
* A PENDING job with a FAILED, CANCELED or BLOCKED dependency becomes BLOCKED (transitively);
  a BLOCKED job whose dependencies are no longer failed (one was requeued) is PENDING again.
* `completed` is set once every job of the recipe is COMPLETED and never cleared.
* Files given in recipe data must exist, not be deleted, and have a media type accepted by
  the recipe input and by every job input that the recipe input feeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session, selectinload

from scale.definitions.recipe_types import job_types_by_key
from scale.exceptions import NotFound, ValidationError
from scale.listing import INT_MAX, Filter, ListSpec, parse_int
from scale.models.files import ScaleFile
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.jobs import Job, JobStatus
from scale.models.recipes import Recipe, RecipeJob, RecipeType, RecipeTypeRevision
from scale.models.triggers import TriggerEvent
from scale.models.workspaces import Workspace
from scale.queue import transitions
from scale.queue.factory import new_job
from scale.recipes.commands import NewRecipe
from scale.specs import job_interface, recipe_data, recipe_definition
from scale.specs._inputs import DataInput
from scale.specs.job_data import DataOutput, JobData
from scale.specs.job_interface import JobInterface
from scale.specs.recipe_data import RecipeData
from scale.specs.recipe_definition import RecipeDefinition
from scale.timeutil import utcnow

USER_EVENT = "USER"
# A dependency in one of these states means the dependent job cannot run as things stand.
_BROKEN = frozenset({JobStatus.FAILED, JobStatus.CANCELED, JobStatus.BLOCKED})

RECIPE_LIST = ListSpec(
    filters={"type_id": Filter(Recipe.recipe_type_id, parse_int),
             "type_name": Filter(RecipeType.name)},
    orders={"id": Recipe.id, "created": Recipe.created, "completed": Recipe.completed,
            "last_modified": Recipe.last_modified, "recipe_type__id": RecipeType.id,
            "recipe_type__name": RecipeType.name, "recipe_type__version": RecipeType.version,
            # The reference's example is `order=name&order=version`: a recipe's recipe type's.
            "name": RecipeType.name, "version": RecipeType.version},
    default_order=("-last_modified", "-id"),
    time_column=Recipe.last_modified,
)


def list_recipes_statement() -> Select:
    """Recipes joined to their recipe type (for `type_name` and `recipe_type__…` orders)."""
    return (select(Recipe).join(RecipeType, Recipe.recipe_type_id == RecipeType.id)
            .options(selectinload(Recipe.recipe_type), selectinload(Recipe.recipe_type_rev),
                     selectinload(Recipe.event)))


def get_recipe(session: Session, recipe_id: int) -> Recipe:
    """The recipe with this id, its jobs loaded; NotFound if there is none."""
    recipe = session.scalar(select(Recipe).where(Recipe.id == recipe_id)
                            .options(selectinload(Recipe.jobs).selectinload(RecipeJob.job)))
    if recipe is None:
        raise NotFound(f"recipe {recipe_id} does not exist")
    return recipe


def recipe_input_files(session: Session, recipe: Recipe) -> list[ScaleFile]:
    """The files the recipe data passes (the details' `input_files`), in document order."""
    ids = recipe_data.parse(recipe.data).file_ids()
    found = {f.id: f for f in session.scalars(select(ScaleFile).where(ScaleFile.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def queue_new_recipe(session: Session, command: NewRecipe) -> Recipe:
    """Create and start a recipe of `command.recipe_type_id` on its recipe data (a USER event).

    Raises ValidationError naming the field (`recipe_type_id`, `recipe_data.input_data[0].file_id`,
    `recipe_data.workspace_id`...) and writes nothing for an unknown or archived recipe type or
    recipe data that does not fit its definition, names missing files or an unknown workspace."""
    recipe_type = session.get(RecipeType, command.recipe_type_id)
    if recipe_type is None:
        raise ValidationError("recipe_type_id", f"there is no recipe type {command.recipe_type_id}")
    if not recipe_type.is_active:
        raise ValidationError("recipe_type_id", f"recipe type {recipe_type.name} {recipe_type.version} "
                                                "is archived")
    check_recipe_data(session, recipe_type, command.recipe_data)
    return create_recipe(session, recipe_type, command.recipe_data)


def check_recipe_data(session: Session, recipe_type: RecipeType, data: RecipeData, *,
                      field: str = "recipe_data") -> None:
    """Check `data` against the recipe type's definition, its job types, the files it names and
    its workspace; a ValidationError names the field under `field`."""
    definition = recipe_definition.parse(recipe_type.definition)
    interfaces = _interfaces(session, definition)
    try:
        recipe_data.validate_against(data, definition, lambda name, version: interfaces.get((name, version)))
        _check_files(session, data, definition, interfaces)
        _check_workspace(session, data)
    except ValidationError as error:
        raise error.within(field) from None


def create_recipe(session: Session, recipe_type: RecipeType, data: RecipeData,
                  event: TriggerEvent | None = None) -> Recipe:
    """Create a recipe of the type's current revision on validated `data`: one PENDING job per
    definition job, the jobs without dependencies queued (`scale.queue.transitions.queue_job`).
    Without `event`, a USER event is created. Flushes, never commits."""
    now = utcnow()
    revision = session.scalars(select(RecipeTypeRevision).where(
        RecipeTypeRevision.recipe_type_id == recipe_type.id,
        RecipeTypeRevision.revision_num == recipe_type.revision_num)).one()
    definition = recipe_definition.parse(revision.definition)
    if event is None:
        event = TriggerEvent(type=USER_EVENT, description={}, occurred=now)
        session.add(event)
    recipe = Recipe(recipe_type=recipe_type, recipe_type_rev=revision, event=event,
                    data=data.to_dict(), created=now, last_modified=now)
    session.add(recipe)
    job_types = job_types_by_key(session, {(j.job_type_name, j.job_type_version) for j in definition.jobs})
    revisions = _job_type_revisions(session, job_types.values())
    for recipe_job in definition.jobs:
        job_type = job_types[(recipe_job.job_type_name, recipe_job.job_type_version)]
        interface = job_interface.parse(job_type.interface)
        job = new_job(job_type, revisions[job_type.id], event, _job_data(recipe_job, interface, data, {}), now)
        recipe.jobs.append(RecipeJob(job_name=recipe_job.name, job=job, is_original=True))
    session.flush()
    advance_recipe(session, recipe.id)
    return recipe


def advance_recipe(session: Session, recipe_id: int) -> list[int]:
    """Move a recipe's jobs on; returns the ids of the jobs it queued. Idempotent.

    Locks the recipe row, so two advances of one recipe run one after the other. A PENDING job
    whose dependencies are all COMPLETED gets its job data and is queued; one with a broken
    dependency becomes BLOCKED; a BLOCKED job without one is PENDING again (and may be queued
    in the same call). Sets `completed` once every job is COMPLETED. NotFound for an unknown id."""
    recipe = session.scalar(select(Recipe).where(Recipe.id == recipe_id).with_for_update())
    if recipe is None:
        raise NotFound(f"recipe {recipe_id} does not exist")
    definition = recipe_definition.parse(recipe.recipe_type_rev.definition)
    # populate_existing: another transaction may have finished a job since this session loaded it.
    jobs: dict[str, Job] = {name: job for name, job in session.execute(
        select(RecipeJob.job_name, Job).join(Job, RecipeJob.job_id == Job.id)
        .where(RecipeJob.recipe_id == recipe_id).execution_options(populate_existing=True))}
    plan = _plan(definition, {name: JobStatus(job.status) for name, job in jobs.items()})
    now = utcnow()
    for name in plan.unblock:
        _move(session, jobs[name], JobStatus.BLOCKED, JobStatus.PENDING, now)
    for name in plan.block:
        _move(session, jobs[name], JobStatus.PENDING, JobStatus.BLOCKED, now)
    queued: list[int] = []
    if plan.queue:
        data = recipe_data.parse(recipe.data)
        results = {name: job.results or {} for name, job in jobs.items()}
        for name in plan.queue:
            job = transitions.lock_job(session, jobs[name].id)
            if job.status != JobStatus.PENDING:  # canceled since it was read
                continue
            definition_job = definition.get_job(name)
            assert definition_job is not None
            job.data = _job_data(definition_job, job_interface.parse(job.job_type_rev.interface), data,
                                 results).to_dict()
            transitions.queue_job(session, job)
            queued.append(job.id)
    if plan.complete and recipe.completed is None:
        recipe.completed = now
        recipe.last_modified = now
    session.flush()
    return queued


def recipe_ids_for_jobs(session: Session, job_ids: Iterable[int]) -> set[int]:
    """The recipes these jobs belong to (most jobs belong to none)."""
    ids = list(job_ids)
    if not ids:
        return set()
    return set(session.scalars(select(RecipeJob.recipe_id).where(RecipeJob.job_id.in_(ids))))


def recipes_needing_advance(session: Session, *, limit: int = 1000) -> list[int]:
    """Unfinished recipes that `advance_recipe` would change now: a PENDING job whose
    dependencies have all finished or failed, a BLOCKED job that could run again, or every job
    COMPLETED. For the clock's sweep, which re-sends advances lost in a crash."""
    def has_job(*statuses: JobStatus) -> Any:
        return (select(RecipeJob.id).join(Job, RecipeJob.job_id == Job.id)
                .where(RecipeJob.recipe_id == Recipe.id, Job.status.in_(statuses)).exists())

    # Only recipes with a job that may move, or with every job COMPLETED, are worth reading.
    unfinished = [s for s in JobStatus if s != JobStatus.COMPLETED]
    candidates = session.scalars(
        select(Recipe).where(Recipe.completed.is_(None),
                             or_(has_job(JobStatus.PENDING, JobStatus.BLOCKED), ~has_job(*unfinished)))
        .order_by(Recipe.id)
        .options(selectinload(Recipe.recipe_type_rev), selectinload(Recipe.jobs).selectinload(RecipeJob.job)))
    found: list[int] = []
    for recipe in candidates:
        statuses = {rj.job_name: JobStatus(rj.job.status) for rj in recipe.jobs}
        if _plan(recipe_definition.parse(recipe.recipe_type_rev.definition), statuses).changes:
            found.append(recipe.id)
            if len(found) >= limit:
                break
    return found


@dataclass
class _Plan:
    """What advancing a recipe does, by job name."""

    queue: list[str] = field(default_factory=list)
    block: list[str] = field(default_factory=list)
    unblock: list[str] = field(default_factory=list)
    complete: bool = False

    @property
    def changes(self) -> bool:
        return bool(self.queue or self.block or self.unblock or self.complete)


def _plan(definition: RecipeDefinition, statuses: Mapping[str, JobStatus]) -> _Plan:
    """Walk the jobs in dependency order, so each sees its dependencies' new states."""
    plan = _Plan()
    state = dict(statuses)
    for name in definition.topological_order():
        job = definition.get_job(name)
        assert job is not None
        needs = [state[d.name] for d in job.dependencies]
        broken = any(s in _BROKEN for s in needs)
        if state[name] == JobStatus.BLOCKED and not broken:
            state[name] = JobStatus.PENDING
            plan.unblock.append(name)
        if state[name] == JobStatus.PENDING:
            if broken:
                state[name] = JobStatus.BLOCKED
                plan.block.append(name)
            elif all(s == JobStatus.COMPLETED for s in needs):
                state[name] = JobStatus.QUEUED
                plan.queue.append(name)
    plan.complete = all(s == JobStatus.COMPLETED for s in state.values())
    return plan


def _move(session: Session, job: Job, old: JobStatus, new: JobStatus, now: Any) -> None:
    """PENDING <-> BLOCKED, guarded on the status: a job changed meanwhile (canceled) is left."""
    session.execute(update(Job).where(Job.id == job.id, Job.status == old)
                    .values(status=new, last_status_change=now, last_modified=now)
                    .execution_options(synchronize_session="fetch"))


def _job_data(job: recipe_definition.RecipeJob, interface: JobInterface, data: RecipeData,
              results: Mapping[str, Mapping[str, Any]]) -> JobData:
    """Job data for a recipe job: its recipe inputs, the outputs of the dependencies in
    `results` (their job results) that feed it, and every output to the recipe's workspace."""
    inputs: list[DataInput] = []
    for link in job.recipe_inputs:
        entry = data.get_input(link.recipe_input)
        if entry is not None:  # an optional recipe input may be absent
            inputs.append(replace(entry, name=link.job_input))
    for dependency in job.dependencies:
        produced = {o.get("name"): o for o in results.get(dependency.name, {}).get("output_data", [])}
        for connection in dependency.connections:
            output = produced.get(connection.output)
            if output is not None:  # an optional output may not have been produced
                file_ids = output.get("file_ids")
                inputs.append(DataInput(connection.input, file_id=output.get("file_id"),
                                        file_ids=None if file_ids is None else tuple(file_ids)))
    outputs = (tuple(DataOutput(o.name, data.workspace_id) for o in interface.outputs)
               if data.workspace_id is not None else ())
    return JobData(inputs=tuple(inputs), outputs=outputs)


def _interfaces(session: Session, definition: RecipeDefinition) -> dict[tuple[str, str], JobInterface]:
    keys = {(j.job_type_name, j.job_type_version) for j in definition.jobs}
    return {key: job_interface.parse(t.interface) for key, t in job_types_by_key(session, keys).items()}


def _job_type_revisions(session: Session, job_types: Iterable[JobType]) -> dict[int, JobTypeRevision]:
    """The current revision of each job type, by job type id."""
    wanted = {t.id: t.revision_num for t in job_types}
    rows = session.scalars(select(JobTypeRevision).where(JobTypeRevision.job_type_id.in_(wanted)))
    return {r.job_type_id: r for r in rows if wanted[r.job_type_id] == r.revision_num}


def _check_files(session: Session, data: RecipeData, definition: RecipeDefinition,
                 interfaces: Mapping[tuple[str, str], JobInterface]) -> None:
    # Ids beyond the column's range name nothing; PostgreSQL would raise on them.
    ids = [i for i in data.file_ids() if 0 < i <= INT_MAX]
    files = {f.id: f for f in session.scalars(select(ScaleFile).where(ScaleFile.id.in_(ids)))} if ids else {}
    for index, entry in enumerate(data.inputs):
        key = "file_id" if entry.file_id is not None else "file_ids"
        accepted = _accepted_media_types(entry.name, definition, interfaces)
        for file_id in entry.all_file_ids:
            scale_file = files.get(file_id)
            if scale_file is None or scale_file.is_deleted:
                raise ValidationError(f"input_data[{index}].{key}", f"file {file_id} does not exist")
            for media_types in accepted:
                if scale_file.media_type not in media_types:
                    raise ValidationError(f"input_data[{index}].{key}",
                                          f"file {file_id} has media type {scale_file.media_type!r}, "
                                          f"not one of {', '.join(media_types)}")


def _accepted_media_types(input_name: str, definition: RecipeDefinition,
                          interfaces: Mapping[tuple[str, str], JobInterface]) -> list[tuple[str, ...]]:
    """Each non-empty media type list a file given to recipe input `input_name` must satisfy:
    the recipe input's and those of the job inputs it feeds."""
    spec = definition.get_input(input_name)
    lists = [spec.media_types] if spec is not None and spec.media_types else []
    for job in definition.jobs:
        interface = interfaces.get((job.job_type_name, job.job_type_version))
        for link in job.recipe_inputs:
            target = interface.get_input(link.job_input) if interface is not None else None
            if link.recipe_input == input_name and target is not None and target.media_types:
                lists.append(target.media_types)
    return lists


def _check_workspace(session: Session, data: RecipeData) -> None:
    workspace_id = data.workspace_id
    if workspace_id is None:
        return
    workspace = session.get(Workspace, workspace_id) if 0 < workspace_id <= INT_MAX else None
    if workspace is None:
        raise ValidationError("workspace_id", f"there is no workspace {workspace_id}")
    if not workspace.is_active:
        raise ValidationError("workspace_id", f"workspace {workspace.name} is archived")
