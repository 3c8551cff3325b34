"""Import/Export: recipe types, job types and errors as one portable document
(Import/Export Specification 1.0).

Export leaves out built-in errors (every SYSTEM one) and system job types, which every Scale has. Import is all
or nothing: records are created or, when one with the same name (and version) exists, edited,
through the same services as the API; the first invalid record raises and the caller's
transaction is rolled back. Validation runs the very same import inside a savepoint that is
always rolled back, so it cannot disagree with a real import."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scale.definitions import errors, job_types, recipe_types, triggers
from scale.definitions.commands import (
    ConfigurationImport,
    ErrorCreate,
    ErrorEdit,
    JobTypeCreate,
    JobTypeEdit,
    RecipeTypeCreate,
    RecipeTypeEdit,
)
from scale.definitions.fields import ValidationWarning
from scale.exceptions import ValidationError
from scale.listing import QueryArgs, parse_int, parse_text
from scale.models.errors import Error, ErrorCategory
from scale.models.job_types import JobType
from scale.models.recipes import RecipeType
from scale.models.triggers import TriggerRule
from scale.specs import import_export

EXPORT_SECTIONS = ("recipe_types", "job_types", "errors")

JOB_TYPE_EXPORT_FIELDS = (
    "name", "version", "title", "description", "category", "author_name", "author_url",
    "is_system", "is_long_running", "is_operational", "icon_code", "uses_docker",
    "docker_privileged", "docker_image", "priority", "timeout", "max_scheduled", "max_tries",
    "cpus_required", "mem_required", "disk_out_const_required", "disk_out_mult_required",
    "interface", "error_mapping",
)
RECIPE_TYPE_EXPORT_FIELDS = ("name", "version", "title", "description", "definition")
ERROR_EXPORT_FIELDS = ("name", "title", "description", "category")


@dataclass(frozen=True)
class ExportSelection:
    """Which records to export: the `include` sections, each narrowed by its filters."""

    include: Sequence[str] = EXPORT_SECTIONS
    recipe_type_ids: Sequence[int] = ()
    recipe_type_names: Sequence[str] = ()
    job_type_ids: Sequence[int] = ()
    job_type_names: Sequence[str] = ()
    job_type_categories: Sequence[str] = ()
    error_ids: Sequence[int] = ()
    error_names: Sequence[str] = ()


def selection_from_args(args: QueryArgs) -> ExportSelection:
    """The export's query arguments (reference, Export): all repeatable."""
    def ints(name: str) -> tuple[int, ...]:
        return tuple(parse_int(v, field=name) for v in args.get(name) or ())

    def texts(name: str) -> tuple[str, ...]:
        return tuple(parse_text(v, field=name) for v in args.get(name) or ())

    return ExportSelection(
        include=texts("include") or EXPORT_SECTIONS,
        recipe_type_ids=ints("recipe_type_id"), recipe_type_names=texts("recipe_type_name"),
        job_type_ids=ints("job_type_id"), job_type_names=texts("job_type_name"),
        job_type_categories=texts("job_type_category"),
        error_ids=ints("error_id"), error_names=texts("error_name"),
    )


def _rule_record(rule: TriggerRule | None) -> dict[str, Any] | None:
    return None if rule is None or rule.archived is not None else triggers.rule_body(rule)


def _record(model, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(model, name) for name in names}


def export_configuration(session: Session, selection: ExportSelection) -> dict[str, Any]:
    """The configuration document for `selection`, records ordered by name and version."""
    for section in selection.include:
        if section not in EXPORT_SECTIONS:
            raise ValidationError("include", f"{section!r} is not one of {', '.join(EXPORT_SECTIONS)}")
    doc: dict[str, Any] = {"version": "1.0"}
    if "recipe_types" in selection.include:
        recipe_stmt = (select(RecipeType).where(RecipeType.archived.is_(None))
                       .options(selectinload(RecipeType.trigger_rule)))
        if selection.recipe_type_ids:
            recipe_stmt = recipe_stmt.where(RecipeType.id.in_(selection.recipe_type_ids))
        if selection.recipe_type_names:
            recipe_stmt = recipe_stmt.where(RecipeType.name.in_(selection.recipe_type_names))
        doc["recipe_types"] = [
            {**_record(rt, RECIPE_TYPE_EXPORT_FIELDS), "trigger_rule": _rule_record(rt.trigger_rule)}
            for rt in session.scalars(recipe_stmt.order_by(RecipeType.name, RecipeType.version))]
    if "job_types" in selection.include:
        job_stmt = (select(JobType).where(JobType.is_system.is_(False), JobType.archived.is_(None))
                    .options(selectinload(JobType.trigger_rule)))
        if selection.job_type_ids:
            job_stmt = job_stmt.where(JobType.id.in_(selection.job_type_ids))
        if selection.job_type_names:
            job_stmt = job_stmt.where(JobType.name.in_(selection.job_type_names))
        if selection.job_type_categories:
            job_stmt = job_stmt.where(JobType.category.in_(selection.job_type_categories))
        doc["job_types"] = [
            {**_record(jt, JOB_TYPE_EXPORT_FIELDS), "trigger_rule": _rule_record(jt.trigger_rule)}
            for jt in session.scalars(job_stmt.order_by(JobType.name, JobType.version))]
    if "errors" in selection.include:
        error_stmt = select(Error).where(Error.is_builtin.is_(False))
        if selection.error_ids:
            error_stmt = error_stmt.where(Error.id.in_(selection.error_ids))
        if selection.error_names:
            error_stmt = error_stmt.where(Error.name.in_(selection.error_names))
        doc["errors"] = [_record(e, ERROR_EXPORT_FIELDS)
                         for e in session.scalars(error_stmt.order_by(Error.name))]
    return doc


def import_configuration(session: Session, command: ConfigurationImport) -> list[ValidationWarning]:
    """Import the configuration: errors, then job types, then recipe types (which may use the
    job types just imported). Each record is created, or edited when its name (and version)
    exists. Returns the warnings; raises ValidationError naming `import.<record>.<field>` for the
    first invalid record. Flushes, never commits: the caller's rollback undoes a partial import."""
    config = command.configuration
    try:
        warnings: list[ValidationWarning] = []
        for index, error_record in enumerate(config.errors):
            _import_record(f"errors[{index}]", _import_error, session, error_record, warnings)
        for index, job_type_record in enumerate(config.job_types):
            _import_record(f"job_types[{index}]", _import_job_type, session, job_type_record, warnings)
        for index, recipe_type_record in enumerate(config.recipe_types):
            _import_record(f"recipe_types[{index}]", _import_recipe_type, session, recipe_type_record,
                           warnings)
    except ValidationError as error:
        raise error.within("import") from None
    return warnings


def validate_configuration(session: Session, command: ConfigurationImport) -> list[ValidationWarning]:
    """The import, inside a savepoint that is always rolled back: same checks, same warnings,
    nothing written."""
    savepoint = session.begin_nested()
    try:
        return import_configuration(session, command)
    finally:
        savepoint.rollback()


def _import_record(where: str, importer: Callable[[Session, Any, list[ValidationWarning]], None],
                   session: Session, record: Any, warnings: list[ValidationWarning]) -> None:
    try:
        importer(session, record, warnings)
    except ValidationError as error:
        raise error.within(where) from None


def _import_error(session: Session, record: import_export.ErrorRecord,
                  warnings: list[ValidationWarning]) -> None:
    existing = errors.errors_by_name(session, {record.name}).get(record.name)
    attributes = dict(record.attributes)
    if attributes.get("category") == ErrorCategory.SYSTEM or (existing is not None and existing.is_builtin):
        warnings.append(ValidationWarning(
            "system_error", f"Error {record.name} is built in and was not imported"))
        return
    if existing is None:
        errors.create_error(session, ErrorCreate.from_json(record.to_dict()))
    else:
        errors.edit_error(session, existing.id, ErrorEdit.from_json(attributes))


def _import_job_type(session: Session, record: import_export.JobTypeRecord,
                     warnings: list[ValidationWarning]) -> None:
    body = {k: v for k, v in record.to_dict().items() if v is not None or k == "trigger_rule"}
    stmt = select(JobType).where(JobType.name == record.name, JobType.version == record.version)
    existing = session.scalar(stmt)
    if existing is None:
        if body["trigger_rule"] is None:
            del body["trigger_rule"]
        command = JobTypeCreate.from_json(body)
        warnings.extend(job_types.validate_job_type(session, command))
        job_types.create_job_type(session, command)
    elif existing.is_system:
        raise ValidationError("name", f"{record.name} {record.version} is a system job type")
    else:
        del body["name"], body["version"]
        job_types.edit_job_type(session, existing.id, JobTypeEdit.from_json(body))


def _import_recipe_type(session: Session, record: import_export.RecipeTypeRecord,
                        warnings: list[ValidationWarning]) -> None:
    body = {k: v for k, v in record.to_dict().items() if v is not None or k == "trigger_rule"}
    stmt = select(RecipeType).where(RecipeType.name == record.name,
                                    RecipeType.version == record.version)
    existing = session.scalar(stmt)
    if existing is None:
        if body["trigger_rule"] is None:
            del body["trigger_rule"]
        command = RecipeTypeCreate.from_json(body)
        warnings.extend(recipe_types.validate_recipe_type(session, command))
        recipe_types.create_recipe_type(session, command)
    else:
        del body["name"], body["version"]
        recipe_types.edit_recipe_type(session, existing.id, RecipeTypeEdit.from_json(body))
