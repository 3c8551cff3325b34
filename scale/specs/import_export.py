"""Import/Export Configuration Specification 1.0: errors, job types and recipe types to import.

Structural parse only: each record's shape, and its embedded documents through their own spec
modules (interface, error_mapping, definition, trigger_rule), with field paths such as
`job_types[1].interface.command_arguments`. Whether names exist, versions conflict or recipes
fit their job types is checked by the import service against the database.

An export carries read-only fields (`id`, `is_system`, `uses_docker`, `revision_num`, times,
...); they are accepted and ignored, so an export can be imported as is. Only the editable
fields of the reference's Job Type / Recipe Type / Error details are kept. An `error_mapping`
or `trigger_rule` of null means none. The same name (and version) twice is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from scale.exceptions import ValidationError
from scale.specs import error_interface, job_interface, recipe_definition
from scale.specs._fields import STABLE_NAME, VERSION
from scale.specs._schema import validate_document
from scale.specs.trigger_rule import TriggerRule, parse_rule

CURRENT_VERSION = "1.0"

_STRING: dict[str, Any] = {"type": "string", "minLength": 1}
_TEXT: dict[str, Any] = {"type": ["string", "null"]}
_NUMBER: dict[str, Any] = {"type": ["number", "null"], "minimum": 0}
_INTEGER: dict[str, Any] = {"type": ["integer", "null"], "minimum": 0}
_BOOLEAN: dict[str, Any] = {"type": "boolean"}
_DOCUMENT: dict[str, Any] = {"type": "object"}
_OPTIONAL_DOCUMENT: dict[str, Any] = {"type": ["object", "null"]}

ERROR_FIELDS: dict[str, Any] = {
    "name": STABLE_NAME,
    "title": _TEXT,
    "description": _TEXT,
    "category": {"enum": ["SYSTEM", "ALGORITHM", "DATA"]},
}
JOB_TYPE_FIELDS: dict[str, Any] = {
    "name": STABLE_NAME,
    "version": VERSION,
    "title": _TEXT,
    "description": _TEXT,
    "category": _TEXT,
    "author_name": _TEXT,
    "author_url": _TEXT,
    "is_long_running": _BOOLEAN,
    "is_operational": _BOOLEAN,
    "is_paused": _BOOLEAN,
    "icon_code": _TEXT,
    "docker_privileged": _BOOLEAN,
    "docker_image": _TEXT,
    "priority": _INTEGER,
    "timeout": _INTEGER,
    "max_scheduled": _INTEGER,
    "max_tries": _INTEGER,
    "cpus_required": _NUMBER,
    "mem_required": _NUMBER,
    "disk_out_const_required": _NUMBER,
    "disk_out_mult_required": _NUMBER,
    "interface": _DOCUMENT,
    "error_mapping": _OPTIONAL_DOCUMENT,
    "trigger_rule": _OPTIONAL_DOCUMENT,
}
RECIPE_TYPE_FIELDS: dict[str, Any] = {
    "name": STABLE_NAME,
    "version": VERSION,
    "title": _TEXT,
    "description": _TEXT,
    "definition": _DOCUMENT,
    "trigger_rule": _OPTIONAL_DOCUMENT,
}
# Sub-documents parsed by their own modules, so not kept among the plain attributes.
_DOCUMENTS = {"interface", "error_mapping", "trigger_rule", "definition"}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": ERROR_FIELDS}},
        "job_types": {
            "type": "array",
            "items": {"type": "object", "required": ["name", "version", "interface"], "properties": JOB_TYPE_FIELDS},
        },
        "recipe_types": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "version", "definition"],
                "properties": RECIPE_TYPE_FIELDS,
            },
        },
    },
}

T = TypeVar("T")


@dataclass(frozen=True)
class ErrorRecord:
    """An error; `attributes` holds its editable fields (title, description, category) as given."""

    name: str
    attributes: tuple[tuple[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **dict(self.attributes)}


@dataclass(frozen=True)
class JobTypeRecord:
    """A job type; `attributes` holds its other editable fields (title, priority, ...) as given."""

    name: str
    version: str
    interface: job_interface.JobInterface
    error_mapping: error_interface.ErrorInterface | None = None
    trigger_rule: TriggerRule | None = None
    attributes: tuple[tuple[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            **dict(self.attributes),
            "interface": self.interface.to_dict(),
            "error_mapping": self.error_mapping.to_dict() if self.error_mapping else None,
            "trigger_rule": self.trigger_rule.to_dict() if self.trigger_rule else None,
        }


@dataclass(frozen=True)
class RecipeTypeRecord:
    name: str
    version: str
    definition: recipe_definition.RecipeDefinition
    trigger_rule: TriggerRule | None = None
    attributes: tuple[tuple[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            **dict(self.attributes),
            "definition": self.definition.to_dict(),
            "trigger_rule": self.trigger_rule.to_dict() if self.trigger_rule else None,
        }


@dataclass(frozen=True)
class ImportConfiguration:
    errors: tuple[ErrorRecord, ...] = ()
    job_types: tuple[JobTypeRecord, ...] = ()
    recipe_types: tuple[RecipeTypeRecord, ...] = ()
    version: str = CURRENT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "errors": [record.to_dict() for record in self.errors],
            "job_types": [record.to_dict() for record in self.job_types],
            "recipe_types": [record.to_dict() for record in self.recipe_types],
        }


def parse(doc: object) -> ImportConfiguration:
    """Validate an import/export configuration document; raises ValidationError naming the field."""
    version = validate_document(doc, {CURRENT_VERSION: SCHEMA}, CURRENT_VERSION)
    assert isinstance(doc, dict)
    errors = tuple(ErrorRecord(item["name"], _attributes(item, ERROR_FIELDS)) for item in doc.get("errors", []))
    job_types = tuple(_job_type(item, f"job_types[{i}]") for i, item in enumerate(doc.get("job_types", [])))
    recipe_types = tuple(_recipe_type(item, f"recipe_types[{i}]") for i, item in enumerate(doc.get("recipe_types", [])))
    _check_unique("errors", [record.name for record in errors])
    _check_unique("job_types", [(record.name, record.version) for record in job_types])
    _check_unique("recipe_types", [(record.name, record.version) for record in recipe_types])
    return ImportConfiguration(errors, job_types, recipe_types, version)


def _job_type(item: Mapping[str, Any], field: str) -> JobTypeRecord:
    mapping = item.get("error_mapping")
    rule = item.get("trigger_rule")
    return JobTypeRecord(
        name=item["name"],
        version=item["version"],
        interface=_within(f"{field}.interface", job_interface.parse, item["interface"]),
        error_mapping=_within(f"{field}.error_mapping", error_interface.parse, mapping)
        if mapping is not None
        else None,
        trigger_rule=_within(f"{field}.trigger_rule", parse_rule, rule) if rule is not None else None,
        attributes=_attributes(item, JOB_TYPE_FIELDS),
    )


def _recipe_type(item: Mapping[str, Any], field: str) -> RecipeTypeRecord:
    rule = item.get("trigger_rule")
    return RecipeTypeRecord(
        name=item["name"],
        version=item["version"],
        definition=_within(f"{field}.definition", recipe_definition.parse, item["definition"]),
        trigger_rule=_within(f"{field}.trigger_rule", parse_rule, rule) if rule is not None else None,
        attributes=_attributes(item, RECIPE_TYPE_FIELDS),
    )


def _within(field: str, parse_document: Callable[[Any], T], doc: Any) -> T:
    try:
        return parse_document(doc)
    except ValidationError as error:
        raise error.within(field) from None


def _attributes(item: Mapping[str, Any], fields: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The record's editable plain fields, in schema order; read-only export fields dropped."""
    return tuple(
        (key, item[key]) for key in fields if key in item and key not in _DOCUMENTS and key not in ("name", "version")
    )


def _check_unique(field: str, keys: list[Any]) -> None:
    for index, key in enumerate(keys):
        if key in keys[:index]:
            raise ValidationError(f"{field}[{index}]", f"{key!r} is listed twice")
