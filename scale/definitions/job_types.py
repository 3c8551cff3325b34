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
from scale.definitions.errors import errors_by_name
from scale.definitions.fields import ValidationWarning, check_name_free, name_taken
from scale.definitions.workspaces import workspaces_by_name
from scale.exceptions import NotFound, ValidationError
from scale.listing import Filter, ListSpec, parse_bool
from scale.models.errors import Error
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.triggers import TriggerRuleType
from scale.specs import clock_trigger, error_interface, job_interface
from scale.specs._fields import BOOLEAN, JSON_OBJECT, STABLE_NAME, TEXT, VERSION, body_schema
from scale.specs._schema import validate
from scale.timeutil import utcnow

# Column limits: a longer value must be a 400 naming the field, not a database error.
_MAX_INT = 2**31 - 1
_NOUN = "job type"  # in the Conflict for a taken name + version


def _text(length: int) -> dict[str, Any]:
    return {"type": ["string", "null"], "maxLength": length}


def _integer(minimum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": _MAX_INT}


# `is_operational` and `docker_privileged` are not in the reference's field tables, but its
# create and edit examples send them, so they are accepted.
_FIELDS: dict[str, Any] = {
    "title": _text(50),
    "description": TEXT,
    "category": _text(50),
    "author_name": _text(50),
    "author_url": _text(500),
    "is_long_running": BOOLEAN,
    "is_operational": BOOLEAN,
    "is_paused": BOOLEAN,
    "icon_code": _text(20),
    "docker_privileged": BOOLEAN,
    "docker_image": _text(500),
    "priority": _integer(0),
    # 0 means no timeout (system types, as in the reference's examples).
    "timeout": _integer(0),
    "max_scheduled": {"type": ["integer", "null"], "minimum": 1, "maximum": _MAX_INT},
    "max_tries": _integer(0),
    # Mesos will not offer less than 0.01 cpus or a fraction of a MiB; no schedulable job asks for it.
    "cpus_required": {"type": "number", "minimum": 0.01},
    "mem_required": {"type": "number", "minimum": 1},
    "disk_out_const_required": {"type": "number", "minimum": 0},
    "disk_out_mult_required": {"type": "number", "minimum": 0},
    "interface": JSON_OBJECT,
    "error_mapping": JSON_OBJECT,
    "trigger_rule": {"type": ["object", "null"]},
}
CREATE_SCHEMA = body_schema({"name": STABLE_NAME, "version": VERSION, **_FIELDS},
                            required=("name", "version", "interface"))
# `is_active: false` archives a job type and `true` restores it (the issue; not in the reference).
EDIT_SCHEMA = body_schema({**_FIELDS, "is_active": BOOLEAN})

DEFAULTS: dict[str, Any] = {
    "priority": 100, "timeout": 1800, "max_tries": 3, "cpus_required": 1.0, "mem_required": 64.0,
    "disk_out_const_required": 64.0, "disk_out_mult_required": 0.0,
}
_INTEGER_FIELDS = ("priority", "timeout", "max_scheduled", "max_tries")
_FLOAT_FIELDS = ("cpus_required", "mem_required", "disk_out_const_required", "disk_out_mult_required")
# Fields handled by their own rules rather than copied onto the row.
_DOCUMENTS = ("interface", "error_mapping", "trigger_rule")
_SYSTEM_EDITABLE = frozenset({"is_paused"})

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


@dataclass
class _Checked:
    """A body's documents, parsed and checked against the database; nothing written yet."""

    interface: dict[str, Any] | None = None
    error_mapping: dict[str, Any] | None = None
    rule: dict[str, Any] | None = None
    warnings: list[ValidationWarning] = field(default_factory=list)


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


def validate_job_type(session: Session, body: dict[str, Any]) -> list[ValidationWarning]:
    """Run every check that creating `body` would, writing nothing; return the warnings.

    A body that would fail to create (including a taken name + version) raises the same
    ValidationError as the create, so a clean validation means the create will succeed."""
    validate(body, CREATE_SCHEMA)
    check_name_free(session, JobType, _NOUN, body["name"], body["version"])
    return _check_documents(session, body).warnings


def create_job_type(session: Session, body: dict[str, Any]) -> JobType:
    """Create a job type at revision 1 (with its `JobTypeRevision`) and its trigger rule.

    A taken name + version is a Conflict naming `name`; any other bad field a ValidationError
    naming it. Flushes, never commits."""
    validate(body, CREATE_SCHEMA)
    check_name_free(session, JobType, _NOUN, body["name"], body["version"])
    checked = _check_documents(session, body)
    now = utcnow()
    values = {**DEFAULTS, **{k: v for k, v in body.items() if k not in _DOCUMENTS}}
    job_type = JobType(**_coerce(values), interface=checked.interface,
                       error_mapping=checked.error_mapping or error_interface.ErrorInterface().to_dict(),
                       is_system=False, is_active=True, revision_num=1, created=now,
                       last_modified=now, paused=now if body.get("is_paused") else None)
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
        raise name_taken(_NOUN, body["name"], body["version"]) from None
    session.add(JobTypeRevision(job_type_id=job_type.id, revision_num=1,
                                interface=job_type.interface, created=now))
    session.flush()
    return job_type


def edit_job_type(session: Session, job_type_id: int, body: dict[str, Any]) -> JobType:
    """Apply a partial edit; every field is checked before anything changes.

    A changed interface bumps `revision_num` and adds a `JobTypeRevision`; `trigger_rule: null`
    archives the rule and a different rule replaces it (the old one archived). `is_paused` sets
    or clears `paused`, `is_active` clears or sets `archived`. A system job type only accepts
    `is_paused`. Locks the row, so concurrent edits cannot both claim the next revision."""
    validate(body, EDIT_SCHEMA)
    job_type = get_job_type(session, job_type_id, lock=True)
    if job_type.is_system:
        for name in body:
            if name not in _SYSTEM_EDITABLE:
                raise ValidationError(name, "a system job type can only be paused or resumed")
    checked = _check_documents(session, body, job_type)

    now = utcnow()
    for name, value in _coerce({k: v for k, v in body.items() if k not in _DOCUMENTS}).items():
        if name == "is_paused" and value != job_type.is_paused:
            job_type.paused = now if value else None
        elif name == "is_active" and value != job_type.is_active:
            job_type.archived = None if value else now
        setattr(job_type, name, value)
    job_type.uses_docker = job_type.docker_image is not None
    if checked.interface is not None and checked.interface != job_type.interface:
        job_type.interface = checked.interface
        job_type.revision_num += 1
        session.add(JobTypeRevision(job_type_id=job_type.id, revision_num=job_type.revision_num,
                                    interface=checked.interface, created=now))
    if checked.error_mapping is not None:
        job_type.error_mapping = checked.error_mapping
    if "trigger_rule" in body:
        _replace_rule(session, job_type, checked.rule)
    job_type.last_modified = now
    session.flush()
    return job_type


def _coerce(values: dict[str, Any]) -> dict[str, Any]:
    """JSON numbers as the columns' types (`5.0` is a valid integer in JSON Schema), and an
    empty `docker_image` as none."""
    out = dict(values)
    for name in _INTEGER_FIELDS:
        if out.get(name) is not None:
            out[name] = int(out[name])
    for name in _FLOAT_FIELDS:
        if name in out:
            out[name] = float(out[name])
    if "docker_image" in out and not out["docker_image"]:
        out["docker_image"] = None
    return out


def _check_documents(session: Session, body: dict[str, Any],
                     job_type: JobType | None = None) -> _Checked:
    """Parse and check the body's interface, error mapping and trigger rule.

    The rule is checked against the interface the job type will have after the edit; when only
    the interface changes, the current rule must still fit it (else a 400 naming `interface`)."""
    checked = _Checked()
    parsed = _parse_interface(body["interface"]) if "interface" in body else None
    if parsed is not None:
        checked.interface = parsed.to_dict()
    if "error_mapping" in body:
        checked.error_mapping = _parse_error_mapping(session, body["error_mapping"])
    current_rule = job_type.trigger_rule if job_type is not None else None
    if body.get("trigger_rule") is not None:
        checked.rule = triggers.parse_rule(body["trigger_rule"])
        if parsed is None:
            assert job_type is not None  # a create always has an interface (CREATE_SCHEMA)
            parsed = job_interface.parse(job_type.interface)
        checked.warnings = _check_rule(session, checked.rule, parsed, "trigger_rule")
    elif "trigger_rule" not in body and parsed is not None and current_rule is not None:
        _check_rule(session, triggers.rule_body(current_rule), parsed, "interface")
    return checked


def _parse_interface(doc: Any) -> job_interface.JobInterface:
    try:
        return job_interface.parse(doc)
    except ValidationError as error:
        raise error.within("interface") from None


def _parse_error_mapping(session: Session, doc: Any) -> dict[str, Any]:
    """The normalized error mapping; every error it names must exist."""
    try:
        mapping = error_interface.parse(doc)
    except ValidationError as error:
        raise error.within("error_mapping") from None
    known = errors_by_name(session, set(mapping.error_names()))
    for code, name in sorted(mapping.exit_codes.items()):
        if name not in known:
            raise ValidationError(f"error_mapping.exit_codes.{code}", f"there is no error named {name!r}")
    return mapping.to_dict()


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
