"""Recipe types: versioned DAGs of job types (reference, Recipe Type Services), the revisions
of their definitions and the trigger rules that start them.

Decisions where the reference is silent:

* The stored `definition` is the normalized document (`recipe_definition.parse(...).to_dict()`,
  with `version` and every default filled in), as the reference's responses show `"version":
  "1.0"` for a request without one. A PATCH makes a new revision only when that normalized
  document differs from the current one.
* `is_active` may be PATCHed (not in the reference's field list): `false` archives the recipe
  type, `true` restores it. Archiving leaves the trigger rule as it is.
* A trigger rule must fit the definition: it is an INGEST or PARSE rule (a CLOCK event has no
  file to feed a recipe), its `data.input_data_name` names a file or files recipe input and
  its `data.workspace_name` an existing workspace. When a PATCH changes only the definition,
  the linked rule must still fit it, else the error names `definition`. A rule without a
  `name` is called `<name>-<version>-recipe`.
* A PATCHed `trigger_rule` with the same `type` and `configuration` as the linked one updates
  that rule's `is_active` (and `name`, if given) in place, so pausing keeps the rule's id; any
  other rule replaces the linked one, which is archived. `null` archives and unlinks it.
* Validation reports what create would refuse as the same 400, and a duplicate name+version
  too; `warnings` are for what create accepts but will not work as expected (see
  `validate_recipe_type`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scale.definitions import triggers
from scale.definitions.commands import RecipeTypeCreate, RecipeTypeEdit
from scale.definitions.fields import ValidationWarning, check_name_free, name_taken
from scale.definitions.workspaces import workspaces_by_name
from scale.exceptions import NotFound, ValidationError
from scale.listing import Filter, ListSpec, parse_bool
from scale.models.job_types import JobType
from scale.models.recipes import RecipeType, RecipeTypeRevision
from scale.specs import job_interface, recipe_definition
from scale.specs.job_interface import JobInterface
from scale.specs.recipe_definition import RecipeDefinition
from scale.timeutil import utcnow

_NOUN = "recipe type"  # in the Conflict for a taken name + version

RECIPE_TYPE_LIST = ListSpec(
    filters={"name": Filter(RecipeType.name),
             "is_active": Filter(RecipeType.is_active, parse_bool)},
    orders={"id": RecipeType.id, "name": RecipeType.name, "version": RecipeType.version,
            "title": RecipeType.title, "is_active": RecipeType.is_active,
            "revision_num": RecipeType.revision_num, "created": RecipeType.created,
            "last_modified": RecipeType.last_modified, "archived": RecipeType.archived},
    default_order=("name", "version"),
    time_column=RecipeType.last_modified,
)

REVISION_LIST = ListSpec(
    orders={"revision_num": RecipeTypeRevision.revision_num,
            "created": RecipeTypeRevision.created},
    default_order=("revision_num",),
    time_column=RecipeTypeRevision.created,
)


def list_recipe_types_statement() -> Select:
    return select(RecipeType)


def get_recipe_type(session: Session, recipe_type_id: int) -> RecipeType:
    """The recipe type with this id; NotFound if there is none."""
    recipe_type = session.get(RecipeType, recipe_type_id)
    if recipe_type is None:
        raise NotFound(f"recipe type {recipe_type_id} does not exist")
    return recipe_type


def list_revisions_statement(session: Session, recipe_type_id: int) -> Select:
    """The revisions of one recipe type; NotFound for an unknown recipe type (not an empty list)."""
    get_recipe_type(session, recipe_type_id)
    return select(RecipeTypeRevision).where(RecipeTypeRevision.recipe_type_id == recipe_type_id)


def get_revision(session: Session, recipe_type_id: int, revision_num: int) -> RecipeTypeRevision:
    """One revision of a recipe type; NotFound for an unknown recipe type or revision."""
    get_recipe_type(session, recipe_type_id)
    revision = session.scalar(select(RecipeTypeRevision).where(
        RecipeTypeRevision.recipe_type_id == recipe_type_id,
        RecipeTypeRevision.revision_num == revision_num))
    if revision is None:
        raise NotFound(f"recipe type {recipe_type_id} has no revision {revision_num}")
    return revision


def job_types_by_key(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], JobType]:
    """The job types with these (name, version) pairs, in one query; unknown pairs are absent."""
    wanted = set(keys)
    if not wanted:
        return {}
    stmt = select(JobType).where(or_(*(and_(JobType.name == name, JobType.version == version)
                                       for name, version in wanted)))
    return {(j.name, j.version): j for j in session.scalars(stmt)}


def _definition_keys(definition: RecipeDefinition) -> list[tuple[str, str]]:
    """The (name, version) of each job type the definition uses, first use first, once each."""
    return list(dict.fromkeys((job.job_type_name, job.job_type_version) for job in definition.jobs))


def referenced_job_types(session: Session, recipe_type: RecipeType) -> list[JobType]:
    """The job types the recipe type's definition uses (its details' `job_types`), in the order
    the definition first names them."""
    keys = _definition_keys(recipe_definition.parse(recipe_type.definition))
    found = job_types_by_key(session, keys)
    return [found[key] for key in keys if key in found]


def _check_definition(session: Session, definition: RecipeDefinition) -> None:
    """The definition checked against the job types it names; a ValidationError names the field
    under `definition` (`definition.jobs[1].job_type`)."""
    try:
        interfaces = _interfaces(session, definition)
        recipe_definition.check_job_types(definition, lambda name, version: interfaces.get((name, version)))
    except ValidationError as error:
        raise error.within("definition") from None


def _interfaces(session: Session, definition: RecipeDefinition) -> dict[tuple[str, str], JobInterface]:
    """The parsed interface of each known job type the definition uses, by (name, version)."""
    found = job_types_by_key(session, _definition_keys(definition))
    return {key: job_interface.parse(job_type.interface) for key, job_type in found.items()}


def _check_rule_input(rule: dict[str, Any], definition: RecipeDefinition, *, field: str) -> None:
    """The triggering file is fed to `data.input_data_name`: a file or files recipe input."""
    name = triggers.rule_input_name(rule)
    spec = definition.get_input(name) if name is not None else None
    if spec is None:
        raise ValidationError(field, f"the trigger rule feeds {name!r}, which is not an input of "
                                     "the recipe definition")
    if spec.type == "property":
        raise ValidationError(field, f"the trigger rule feeds {name!r}, a property input; a "
                                     "triggering file needs a file or files input")


def _check_recipe_rule(session: Session, rule: dict[str, Any], definition: RecipeDefinition) -> None:
    """A parsed `trigger_rule` checked against the recipe definition and the workspaces; errors
    name `trigger_rule.…`."""
    _check_rule_input(rule, definition, field="trigger_rule.configuration.data.input_data_name")
    workspace = triggers.rule_workspace_name(rule)
    if workspace is not None and not workspaces_by_name(session, {workspace}):
        raise ValidationError("trigger_rule.configuration.data.workspace_name",
                              f"there is no workspace {workspace!r}")


def _check_create(session: Session, command: RecipeTypeCreate) -> tuple[RecipeDefinition, dict[str, Any] | None]:
    """Everything create checks, shared with validation: the definition and the rule (each
    raising its parse error in turn), then the name; writes nothing."""
    definition = command.definition.value()
    _check_definition(session, definition)
    rule = command.trigger_rule.value() if command.trigger_rule is not None else None
    if rule is not None:
        _check_recipe_rule(session, rule, definition)
    check_name_free(session, RecipeType, _NOUN, command.name, command.version)
    return definition, rule


def validate_recipe_type(session: Session, command: RecipeTypeCreate) -> list[ValidationWarning]:
    """Check a create without writing anything. Raises what create would raise; returns
    warnings about what create accepts but will not work as expected:

    * `media_type`: the trigger rule's `condition.media_type` is not accepted by the recipe input
      it feeds, or by a job input that recipe input feeds, so every triggered recipe would fail.
    * `job_type_archived` / `job_type_paused`: a job type the definition uses cannot run now."""
    definition, rule = _check_create(session, command)
    found = job_types_by_key(session, _definition_keys(definition))
    warnings: list[ValidationWarning] = []
    if rule is not None:
        interfaces = {key: job_interface.parse(job_type.interface) for key, job_type in found.items()}
        warnings.extend(_rule_media_type_warnings(rule, definition, interfaces))
    for (name, version), job_type in found.items():
        if not job_type.is_active:
            warnings.append(ValidationWarning("job_type_archived", f"Job type {name} {version} is archived"))
        elif job_type.is_paused:
            warnings.append(ValidationWarning("job_type_paused", f"Job type {name} {version} is paused"))
    return warnings


def _rule_media_type_warnings(rule: dict[str, Any], definition: RecipeDefinition,
                              interfaces: dict[tuple[str, str], JobInterface]) -> list[ValidationWarning]:
    """An empty `condition.media_type` matches every file, so any restriction may refuse some."""
    media_type = triggers.rule_media_type(rule)
    shown = media_type or "any media type"
    input_name = triggers.rule_input_name(rule)
    recipe_input = definition.get_input(input_name) if input_name else None
    assert recipe_input is not None  # _check_recipe_rule checked it
    if recipe_input.media_types and media_type not in recipe_input.media_types:
        return [ValidationWarning("media_type", f"Invalid media type for data input: {input_name} -> {shown}")]
    # A recipe input that accepts every media type may still feed job inputs that do not.
    warnings = []
    for job in definition.jobs:
        interface = interfaces[(job.job_type_name, job.job_type_version)]
        for link in job.recipe_inputs:
            target = interface.get_input(link.job_input)
            if (link.recipe_input == input_name and target is not None and target.media_types
                    and media_type not in target.media_types):
                warnings.append(ValidationWarning(
                    "media_type", f"Invalid media type for job {job.name} input {link.job_input}: {shown}"))
    return warnings


def create_recipe_type(session: Session, command: RecipeTypeCreate) -> RecipeType:
    """Create a recipe type at revision 1 (with its RecipeTypeRevision) and its trigger rule.

    Raises ValidationError naming the field for a definition or rule that does not fit the job
    types or workspaces, and Conflict (field `name`) for a name+version that exists; nothing is
    written then."""
    definition, rule = _check_create(session, command)
    now = utcnow()
    recipe_type = RecipeType(name=command.name, version=command.version, title=command.title,
                             description=command.description, is_active=True,
                             definition=definition.to_dict(), revision_num=1,
                             created=now, last_modified=now)
    if rule is not None:
        recipe_type.trigger_rule = triggers.create_rule(session, rule, default_name=_rule_name(recipe_type))
    try:
        # A concurrent create of the same name + version gets past the check in _check_create;
        # the unique constraint catches it, and the savepoint keeps the session usable.
        with session.begin_nested():
            session.add(recipe_type)
            session.flush()
    except IntegrityError:
        raise name_taken(_NOUN, recipe_type.name, recipe_type.version) from None
    _add_revision(session, recipe_type)
    session.flush()
    return recipe_type


def edit_recipe_type(session: Session, recipe_type_id: int, edit: RecipeTypeEdit) -> RecipeType:
    """Edit title, description, is_active, definition (a change makes a new revision) and
    trigger_rule (`null` removes it). NotFound for an unknown id; ValidationError naming the
    field for a definition or rule that does not fit, and then nothing is written. Locks the row,
    so that two concurrent edits cannot both claim the next revision number."""
    recipe_type = session.scalar(select(RecipeType).where(RecipeType.id == recipe_type_id)
                                 .with_for_update())
    if recipe_type is None:
        raise NotFound(f"recipe type {recipe_type_id} does not exist")
    if edit.definition is not None:
        definition = edit.definition.value()
        _check_definition(session, definition)
    else:
        definition = recipe_definition.parse(recipe_type.definition)
    rule = edit.trigger_rule.value() if edit.trigger_rule is not None else None
    if rule is not None:
        _check_recipe_rule(session, rule, definition)
    linked = recipe_type.trigger_rule
    if edit.definition is not None and "trigger_rule" not in edit.given and linked is not None:
        _check_rule_input({"configuration": linked.configuration}, definition, field="definition")

    now = utcnow()
    if "title" in edit.given:
        recipe_type.title = edit.title
    if "description" in edit.given:
        recipe_type.description = edit.description
    if edit.is_active is not None and edit.is_active != recipe_type.is_active:
        recipe_type.is_active = edit.is_active
        recipe_type.archived = None if edit.is_active else now
    if edit.definition is not None and definition.to_dict() != recipe_type.definition:
        recipe_type.definition = definition.to_dict()
        recipe_type.revision_num += 1
        _add_revision(session, recipe_type)
    if "trigger_rule" in edit.given:
        _replace_rule(session, recipe_type, rule)
    recipe_type.last_modified = now
    session.flush()
    return recipe_type


def _replace_rule(session: Session, recipe_type: RecipeType, rule: dict[str, Any] | None) -> None:
    linked = recipe_type.trigger_rule
    if linked is not None and rule is not None and (linked.type, linked.configuration) == (
            rule["type"], rule["configuration"]):
        linked.is_active = rule.get("is_active", True)
        linked.name = rule.get("name") or linked.name
        linked.last_modified = utcnow()
        return
    if linked is not None:
        triggers.archive_rule(linked)
    recipe_type.trigger_rule = (
        None if rule is None
        else triggers.create_rule(session, rule, default_name=_rule_name(recipe_type)))


def _add_revision(session: Session, recipe_type: RecipeType) -> None:
    session.add(RecipeTypeRevision(recipe_type_id=recipe_type.id, revision_num=recipe_type.revision_num,
                                   definition=recipe_type.definition, created=utcnow()))


def _rule_name(recipe_type: RecipeType) -> str:
    """A rule's default name, ending `-recipe` as in the reference's example."""
    return f"{recipe_type.name}-{recipe_type.version}-recipe"
