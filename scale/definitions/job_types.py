"""Job types: versioned algorithms with a job interface, an error mapping and an optional
trigger rule (reference "Job Type Services").

Decisions where the reference is silent (see also the namespace docstring):

* Omitted settings take the defaults of the issue: priority 100, timeout 1800 s, max_tries 3,
  1 cpu, 64 MiB mem, 64 MiB constant output disk, no output multiplier.
* `uses_docker` is derived: true exactly when `docker_image` is set ("" counts as unset).
* A changed interface is a new revision (`revision_num` + 1 and a `JobTypeRevision` row);
  editing anything else keeps the revision, so jobs keep the interface they were made with.
* Only INGEST and PARSE rules create jobs; a rule must feed a `file`/`files` input of the
  interface and name an existing workspace. A rule whose media type the input does not accept
  is allowed, with a `media_type` warning from validation.
* System job types are made by Scale itself: the API cannot create them, and can only pause or
  resume them.

Job counts, running and failing job types are in `scale.definitions.job_type_stats`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scale.definitions import triggers
from scale.definitions.commands import JobTypeCreate, JobTypeEdit
from scale.definitions.errors import errors_by_name
from scale.definitions.fields import Document, ValidationWarning, check_name_free, name_taken
from scale.definitions.workspaces import workspaces_by_name
from scale.exceptions import NotFound, ValidationError
from scale.listing import Filter, ListSpec, parse_bool
from scale.models.errors import Error
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.triggers import TriggerRuleType
from scale.specs import clock_trigger, error_interface, job_interface
from scale.specs.error_interface import ErrorInterface
from scale.specs.job_interface import JobInterface
from scale.timeutil import utcnow

_NOUN = "job type"  # in the Conflict for a taken name + version
_SYSTEM_EDITABLE = frozenset({"is_paused"})



@dataclass(frozen=True)
class _Checked:
    """A command's documents, checked against the database; nothing written yet."""

    interface: JobInterface | None = None
    error_mapping: ErrorInterface | None = None
    rule: dict[str, Any] | None = None
    warnings: list[ValidationWarning] = field(default_factory=list)


JOB_TYPE_LIST = ListSpec(
    filters={
        "name": Filter(JobType.name), "category": Filter(JobType.category),
        "is_active": Filter(JobType.is_active, parse_bool),
        "is_operational": Filter(JobType.is_operational, parse_bool),
        "is_system": Filter(JobType.is_system, parse_bool),
        "is_paused": Filter(JobType.is_paused, parse_bool),
    },
    orders={name: getattr(JobType, name) for name in (
        "id", "name", "version", "title", "category", "author_name", "is_system",
        "is_long_running", "is_active", "is_operational", "is_paused", "revision_num", "priority",
        "timeout", "max_tries", "cpus_required", "mem_required", "created", "archived", "paused",
        "last_modified")},
    default_order=("name", "version"),
    time_column=JobType.last_modified,
)


def list_job_types_statement() -> Select:
    return select(JobType)


def get_job_type(session: Session, job_type_id: int, *, lock: bool = False) -> JobType:
    """The job type with this id (its row locked when `lock`); NotFound otherwise. The id
    must fit the INTEGER column: the API's `int` URL converter 404s larger ones."""
    job_type = session.get(JobType, job_type_id, with_for_update=lock)
    if job_type is None:
        raise NotFound(f"job type {job_type_id} does not exist")
    return job_type


def mapped_errors(session: Session, job_type: JobType) -> list[Error]:
    """The Error records the job type's error mapping names, by name."""
    names = set((job_type.error_mapping or {}).get("exit_codes", {}).values())
    return sorted(errors_by_name(session, names).values(), key=lambda error: error.name)


def validate_job_type(session: Session, command: JobTypeCreate) -> list[ValidationWarning]:
    """Run every check that creating the job type would, writing nothing; return the warnings.

    A command that would fail to create (including a taken name + version) raises the same
    ValidationError as the create, so a clean validation means the create will succeed."""
    check_name_free(session, JobType, _NOUN, command.name, command.version)
    return _check_documents(session, command.interface, command.error_mapping, command.trigger_rule).warnings


def create_job_type(session: Session, command: JobTypeCreate) -> JobType:
    """Create a job type at revision 1 (with its `JobTypeRevision`) and its trigger rule.

    A taken name + version is a Conflict naming `name`; an error mapping naming an unknown error
    or a rule that does not fit the interface a ValidationError naming the field. Flushes, never
    commits."""
    check_name_free(session, JobType, _NOUN, command.name, command.version)
    checked = _check_documents(session, command.interface, command.error_mapping, command.trigger_rule)
    assert checked.interface is not None  # a create always has one
    now = utcnow()
    job_type = JobType(**command.settings(), interface=checked.interface.to_dict(),
                       error_mapping=(checked.error_mapping or error_interface.ErrorInterface()).to_dict(),
                       is_system=False, is_active=True, revision_num=1, created=now,
                       last_modified=now, paused=now if command.is_paused else None)
    job_type.uses_docker = job_type.docker_image is not None
    try:
        # A concurrent create of the same name + version gets past the check above; the
        # unique constraint catches it, and the savepoint keeps the session usable.
        with session.begin_nested():
            if checked.rule is not None:
                job_type.trigger_rule = triggers.create_rule(
                    session, checked.rule, default_name=_default_rule_name(job_type))
            session.add(job_type)
            session.flush()
    except IntegrityError:
        raise name_taken(_NOUN, command.name, command.version) from None
    session.add(JobTypeRevision(job_type_id=job_type.id, revision_num=1,
                                interface=job_type.interface, created=now))
    session.flush()
    return job_type


def edit_job_type(session: Session, job_type_id: int, edit: JobTypeEdit) -> JobType:
    """Apply a partial edit; every field is checked before anything changes.

    A changed interface bumps `revision_num` and adds a `JobTypeRevision`; `trigger_rule: null`
    archives the rule and a different rule replaces it (the old one archived). `is_paused` sets
    or clears `paused`, `is_active` clears or sets `archived`. A system job type only accepts
    `is_paused`. Locks the row, so concurrent edits cannot both claim the next revision."""
    job_type = get_job_type(session, job_type_id, lock=True)
    if job_type.is_system:
        for name in edit.given:
            if name not in _SYSTEM_EDITABLE:
                raise ValidationError(name, "a system job type can only be paused or resumed")
    checked = _check_documents(session, edit.interface, edit.error_mapping, edit.trigger_rule, job_type=job_type,
                               rule_given="trigger_rule" in edit.given)

    now = utcnow()
    for name, value in edit.settings().items():
        if name == "is_paused" and value != job_type.is_paused:
            job_type.paused = now if value else None
        elif name == "is_active" and value != job_type.is_active:
            job_type.archived = None if value else now
        setattr(job_type, name, value)
    job_type.uses_docker = job_type.docker_image is not None
    interface = checked.interface.to_dict() if checked.interface is not None else None
    if interface is not None and interface != job_type.interface:
        job_type.interface = interface
        job_type.revision_num += 1
        session.add(JobTypeRevision(job_type_id=job_type.id, revision_num=job_type.revision_num,
                                    interface=interface, created=now))
    if checked.error_mapping is not None:
        job_type.error_mapping = checked.error_mapping.to_dict()
    if "trigger_rule" in edit.given:
        _replace_rule(session, job_type, checked.rule)
    job_type.last_modified = now
    session.flush()
    return job_type


def _check_documents(session: Session, interface: Document[JobInterface] | None,
                     error_mapping: Document[ErrorInterface] | None, rule: Document[dict[str, Any]] | None, *,
                     job_type: JobType | None = None, rule_given: bool = False) -> _Checked:
    """The documents given, each raising its parse error in turn, checked against the database:
    the errors the mapping names exist, and the rule fits the interface the job type will have
    after the edit (the warnings); when only the interface changes, the current rule must still
    fit it (else a 400 naming `interface`)."""
    parsed = interface.value() if interface is not None else None
    mapping = error_mapping.value() if error_mapping is not None else None
    if mapping is not None:
        _check_error_mapping(session, mapping)
    checked = _Checked(parsed, mapping, rule.value() if rule is not None else None)
    current_rule = job_type.trigger_rule if job_type is not None else None
    if checked.rule is not None:
        if parsed is None:
            assert job_type is not None  # a create always has an interface
            parsed = job_interface.parse(job_type.interface)
        checked.warnings.extend(_check_rule(session, checked.rule, parsed, "trigger_rule"))
    elif not rule_given and parsed is not None and current_rule is not None:
        _check_rule(session, triggers.rule_body(current_rule), parsed, "interface")
    return checked


def _check_error_mapping(session: Session, mapping: ErrorInterface) -> None:
    """Every error the mapping names must exist."""
    known = errors_by_name(session, set(mapping.error_names()))
    for code, name in sorted(mapping.exit_codes.items()):
        if name not in known:
            raise ValidationError(f"error_mapping.exit_codes.{code}", f"there is no error named {name!r}")


def _check_rule(session: Session, rule: dict[str, Any], interface: job_interface.JobInterface,
                prefix: str) -> list[ValidationWarning]:
    """Whether `rule` can create jobs of a type with `interface`, or, for a CLOCK rule, whether
    its name selects a clock processor. Errors are named under
    `prefix` (`trigger_rule`), or just `prefix` when the rule is not in the body."""

    def problem(path: str, text: str) -> ValidationError:
        return ValidationError(f"trigger_rule.{path}" if prefix == "trigger_rule" else prefix, text)

    if rule["type"] == TriggerRuleType.CLOCK:
        # A clock rule runs the processor its name selects (reference: Clock Triggers).
        try:
            clock_trigger.check_processor_name(rule.get("name"))
        except ValidationError as error:
            raise problem("name", error.problem) from None
        return []
    input_name = triggers.rule_input_name(rule)
    spec = interface.get_input(input_name) if input_name else None
    if spec is None:
        raise problem("configuration.data.input_data_name",
                      f"the interface has no input named {input_name!r}")
    if spec.type == "property":
        raise problem("configuration.data.input_data_name",
                      f"input {input_name!r} is a property; a triggering file needs a file input")
    workspace_name = triggers.rule_workspace_name(rule)
    if not workspaces_by_name(session, {workspace_name} if workspace_name else set()):
        raise problem("configuration.data.workspace_name",
                      f"there is no workspace named {workspace_name!r}")
    media_type = triggers.rule_media_type(rule)
    if spec.media_types and media_type not in spec.media_types:
        shown = media_type or "any media type"
        return [ValidationWarning("media_type", f"Invalid media type for data input: {spec.name} -> {shown}")]
    return []


def _replace_rule(session: Session, job_type: JobType, rule: dict[str, Any] | None) -> None:
    """Link `rule` (None: no rule). Resending the current rule keeps it, toggling `is_active`
    in place; a different rule replaces it, and the old one is archived."""
    current = job_type.trigger_rule
    if current is not None and rule is not None and rule["type"] == current.type \
            and rule["configuration"] == current.configuration \
            and rule.get("name") in (None, current.name):
        current.is_active = rule.get("is_active", True)
        current.last_modified = utcnow()
        return
    if current is not None:
        triggers.archive_rule(current)
    job_type.trigger_rule = None if rule is None else triggers.create_rule(
        session, rule, default_name=_default_rule_name(job_type))


def _default_rule_name(job_type: JobType) -> str:
    """Named for the job type, like recipe types' `<name>-<version>-recipe` rules."""
    return f"{job_type.name}-job"
