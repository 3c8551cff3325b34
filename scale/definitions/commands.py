"""The definition commands the API sends (errors, workspaces, job types, recipe types and a
configuration import), parsed from their JSON at the edge. Each `from_json` validates the body's
shape, raising ValidationError naming the field, and parses the documents in it (interface,
error mapping, definition, trigger rule) into `Document`s, whose errors the services raise in
the order they have always checked them. An edit records which fields the body gave (`given`),
since giving `null` is not leaving a field alone. What needs the database (taken names, the
errors, job types and workspaces a document names) is the services' question."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from scale.definitions import triggers
from scale.definitions.fields import Document
from scale.exceptions import ValidationError
from scale.models.errors import ErrorCategory
from scale.specs import error_interface, import_export, job_interface, recipe_definition, workspace_configuration
from scale.specs._fields import BOOLEAN, JSON_OBJECT, SHORT_TEXT, STABLE_NAME, TEXT, VERSION, body_schema
from scale.specs._schema import parse_json_text, validate
from scale.specs.error_interface import ErrorInterface
from scale.specs.import_export import ImportConfiguration
from scale.specs.job_interface import JobInterface
from scale.specs.recipe_definition import RecipeDefinition
from scale.specs.workspace_configuration import WorkspaceConfiguration

# Users create ALGORITHM and DATA errors; SYSTEM errors belong to Scale itself.
ERROR_CREATE_SCHEMA = body_schema({
    "name": STABLE_NAME,
    "title": SHORT_TEXT,
    "description": TEXT,
    "category": {"enum": [ErrorCategory.ALGORITHM.value, ErrorCategory.DATA.value]},
}, required=("name", "category"))
ERROR_EDIT_SCHEMA = body_schema({
    "title": SHORT_TEXT,
    "description": TEXT,
    "category": {"enum": [c.value for c in ErrorCategory]},
})

_WORKSPACE_FIELDS = {
    "title": SHORT_TEXT,
    "description": TEXT,
    "base_url": {"type": ["string", "null"], "maxLength": 1000},
    "is_active": BOOLEAN,
    "is_public": BOOLEAN,
    "json_config": JSON_OBJECT,
}
WORKSPACE_CREATE_SCHEMA = body_schema({"name": STABLE_NAME, **_WORKSPACE_FIELDS}, required=("name", "json_config"))
WORKSPACE_EDIT_SCHEMA = body_schema(_WORKSPACE_FIELDS)


def _object(doc: object, schema: dict[str, Any]) -> dict[str, Any]:
    validate(doc, schema)
    assert isinstance(doc, dict)
    return doc


@dataclass(frozen=True)
class ErrorCreate:
    name: str
    category: ErrorCategory
    title: str | None = None
    description: str | None = None

    @classmethod
    def from_json(cls, doc: object) -> ErrorCreate:
        body = _object(doc, ERROR_CREATE_SCHEMA)
        return cls(name=body["name"], category=ErrorCategory(body["category"]), title=body.get("title"),
                   description=body.get("description"))


@dataclass(frozen=True)
class ErrorEdit:
    given: frozenset[str]
    title: str | None = None
    description: str | None = None
    category: ErrorCategory | None = None

    @classmethod
    def from_json(cls, doc: object) -> ErrorEdit:
        body = _object(doc, ERROR_EDIT_SCHEMA)
        category = body.get("category")
        return cls(given=frozenset(body), title=body.get("title"), description=body.get("description"),
                   category=None if category is None else ErrorCategory(category))


def parse_json_config(doc: Any, *, home: Path) -> WorkspaceConfiguration:
    """The workspace configuration, validated against Scale's `home` too; fields start with `json_config`."""
    try:
        return workspace_configuration.parse(doc, home=home)
    except ValidationError as error:
        raise error.within("json_config") from None


@dataclass(frozen=True)
class WorkspaceCreate:
    name: str
    json_config: WorkspaceConfiguration
    title: str | None = None
    description: str | None = None
    base_url: str | None = None
    is_active: bool = True
    is_public: bool = False

    @classmethod
    def from_json(cls, doc: object, *, home: Path) -> WorkspaceCreate:
        """`home` is Scale's home, which no workspace may hold."""
        body = _object(doc, WORKSPACE_CREATE_SCHEMA)
        return cls(name=body["name"], json_config=parse_json_config(body["json_config"], home=home),
                   title=body.get("title"), description=body.get("description"), base_url=body.get("base_url"),
                   is_active=body.get("is_active", True), is_public=body.get("is_public", False))


@dataclass(frozen=True)
class WorkspaceEdit:
    given: frozenset[str]
    title: str | None = None
    description: str | None = None
    base_url: str | None = None
    is_active: bool | None = None
    is_public: bool | None = None
    json_config: WorkspaceConfiguration | None = None

    @classmethod
    def from_json(cls, doc: object, *, home: Path) -> WorkspaceEdit:
        body = _object(doc, WORKSPACE_EDIT_SCHEMA)
        json_config = parse_json_config(body["json_config"], home=home) if "json_config" in body else None
        return cls(given=frozenset(body), title=body.get("title"), description=body.get("description"),
                   base_url=body.get("base_url"), is_active=body.get("is_active"), is_public=body.get("is_public"),
                   json_config=json_config)


# ---- job types ---------------------------------------------------------------------------------

# Column limits: a longer value must be a 400 naming the field, not a database error.
_MAX_INT = 2**31 - 1


def _text(length: int) -> dict[str, Any]:
    return {"type": ["string", "null"], "maxLength": length}


def _integer(minimum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": _MAX_INT}


# `is_operational` and `docker_privileged` are not in the reference's field tables, but its
# create and edit examples send them, so they are accepted.
_JOB_TYPE_FIELDS: dict[str, Any] = {
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
JOB_TYPE_CREATE_SCHEMA = body_schema({"name": STABLE_NAME, "version": VERSION, **_JOB_TYPE_FIELDS},
                                     required=("name", "version", "interface"))
# `is_active: false` archives a job type and `true` restores it (the issue; not in the reference).
JOB_TYPE_EDIT_SCHEMA = body_schema({**_JOB_TYPE_FIELDS, "is_active": BOOLEAN})

_INTEGER_FIELDS = ("priority", "timeout", "max_scheduled", "max_tries")
_FLOAT_FIELDS = ("cpus_required", "mem_required", "disk_out_const_required", "disk_out_mult_required")
# The documents, parsed into their own values rather than copied onto the row.
JOB_TYPE_DOCUMENTS = ("interface", "error_mapping", "trigger_rule")


def _job_type_settings(body: dict[str, Any]) -> dict[str, Any]:
    """The body's other fields as the columns' types (`5.0` is a valid integer in JSON Schema),
    an empty `docker_image` as none; in the body's order."""
    out = {name: value for name, value in body.items() if name not in JOB_TYPE_DOCUMENTS}
    for name in _INTEGER_FIELDS:
        if out.get(name) is not None:
            out[name] = int(out[name])
    for name in _FLOAT_FIELDS:
        if name in out:
            out[name] = float(out[name])
    if "docker_image" in out and not out["docker_image"]:
        out["docker_image"] = None
    return out


def _job_type_documents(body: dict[str, Any]) -> dict[str, Any]:
    """The body's interface, error mapping and trigger rule, each parsed when given."""
    rule = body.get("trigger_rule")
    return {
        "interface": (Document.parse(job_interface.parse, body["interface"], field="interface")
                      if "interface" in body else None),
        "error_mapping": (Document.parse(error_interface.parse, body["error_mapping"], field="error_mapping")
                          if "error_mapping" in body else None),
        "trigger_rule": Document.parse(triggers.parse_rule, rule) if rule is not None else None,
    }


@dataclass(frozen=True)
class JobTypeCreate:
    """A new job type. The defaults are the issue's (priority 100, timeout 1800 s, max_tries 3,
    1 cpu, 64 MiB mem, 64 MiB constant output disk, no output multiplier) and the columns'.
    `trigger_rule` is the rule as `triggers.parse_rule` returns it."""

    name: str
    version: str
    interface: Document[JobInterface]
    error_mapping: Document[ErrorInterface] | None = None
    trigger_rule: Document[dict[str, Any]] | None = None
    title: str | None = None
    description: str | None = None
    category: str | None = None
    author_name: str | None = None
    author_url: str | None = None
    is_long_running: bool = False
    is_operational: bool = True
    is_paused: bool = False
    icon_code: str | None = None
    docker_privileged: bool = False
    docker_image: str | None = None
    priority: int = 100
    timeout: int = 1800
    max_scheduled: int | None = None
    max_tries: int = 3
    cpus_required: float = 1.0
    mem_required: float = 64.0
    disk_out_const_required: float = 64.0
    disk_out_mult_required: float = 0.0

    @classmethod
    def from_json(cls, doc: object) -> JobTypeCreate:
        body = _object(doc, JOB_TYPE_CREATE_SCHEMA)
        return cls(**_job_type_documents(body), **_job_type_settings(body))

    def settings(self) -> dict[str, Any]:
        """The fields copied onto the row: all but the documents."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in JOB_TYPE_DOCUMENTS}


@dataclass(frozen=True)
class JobTypeEdit:
    """A partial edit of a job type. `given` names the fields the body gave, in its order (the
    error for a system job type names the first it may not take); `trigger_rule: null` is given
    and None."""

    given: tuple[str, ...]
    interface: Document[JobInterface] | None = None
    error_mapping: Document[ErrorInterface] | None = None
    trigger_rule: Document[dict[str, Any]] | None = None
    title: str | None = None
    description: str | None = None
    category: str | None = None
    author_name: str | None = None
    author_url: str | None = None
    is_long_running: bool | None = None
    is_operational: bool | None = None
    is_paused: bool | None = None
    is_active: bool | None = None
    icon_code: str | None = None
    docker_privileged: bool | None = None
    docker_image: str | None = None
    priority: int | None = None
    timeout: int | None = None
    max_scheduled: int | None = None
    max_tries: int | None = None
    cpus_required: float | None = None
    mem_required: float | None = None
    disk_out_const_required: float | None = None
    disk_out_mult_required: float | None = None

    @classmethod
    def from_json(cls, doc: object) -> JobTypeEdit:
        body = _object(doc, JOB_TYPE_EDIT_SCHEMA)
        return cls(given=tuple(body), **_job_type_documents(body), **_job_type_settings(body))

    def settings(self) -> dict[str, Any]:
        """The given fields copied onto the row, in the body's order."""
        return {name: getattr(self, name) for name in self.given if name not in JOB_TYPE_DOCUMENTS}


# ---- recipe types ------------------------------------------------------------------------------

_RECIPE_TYPE_FIELDS: dict[str, Any] = {
    "title": _text(50),
    "description": TEXT,
    "definition": JSON_OBJECT,
    "trigger_rule": {"type": ["object", "null"]},
}
RECIPE_TYPE_CREATE_SCHEMA = body_schema({"name": STABLE_NAME, "version": VERSION, **_RECIPE_TYPE_FIELDS},
                                        required=("name", "version", "definition"))
RECIPE_TYPE_EDIT_SCHEMA = body_schema({**_RECIPE_TYPE_FIELDS, "is_active": BOOLEAN})


def _recipe_rule(doc: object) -> Document[dict[str, Any]]:
    """A recipe type's trigger rule (`triggers.parse_rule`). Only INGEST and PARSE rules start
    recipes: a CLOCK event carries no file to feed them."""

    def parse(doc: object) -> dict[str, Any]:
        rule = triggers.parse_rule(doc)
        if rule["type"] not in triggers.FILE_RULE_TYPES:
            raise ValidationError("trigger_rule.type",
                                  f"a {rule['type']} rule cannot create recipes; use INGEST or PARSE")
        return rule

    return Document.parse(parse, doc)


@dataclass(frozen=True)
class RecipeTypeCreate:
    """A new recipe type; `trigger_rule` is the rule as `triggers.parse_rule` returns it."""

    name: str
    version: str
    definition: Document[RecipeDefinition]
    trigger_rule: Document[dict[str, Any]] | None = None
    title: str | None = None
    description: str | None = None

    @classmethod
    def from_json(cls, doc: object) -> RecipeTypeCreate:
        body = _object(doc, RECIPE_TYPE_CREATE_SCHEMA)
        definition = Document.parse(recipe_definition.parse, body["definition"], field="definition")
        rule = body.get("trigger_rule")
        return cls(name=body["name"], version=body["version"], definition=definition,
                   trigger_rule=_recipe_rule(rule) if rule is not None else None, title=body.get("title"),
                   description=body.get("description"))


@dataclass(frozen=True)
class RecipeTypeEdit:
    """A partial edit of a recipe type; `given` names the fields the body gave (`trigger_rule:
    null` is given and None)."""

    given: frozenset[str]
    definition: Document[RecipeDefinition] | None = None
    trigger_rule: Document[dict[str, Any]] | None = None
    title: str | None = None
    description: str | None = None
    is_active: bool | None = None

    @classmethod
    def from_json(cls, doc: object) -> RecipeTypeEdit:
        body = _object(doc, RECIPE_TYPE_EDIT_SCHEMA)
        definition = (Document.parse(recipe_definition.parse, body["definition"], field="definition")
                      if "definition" in body else None)
        rule = body.get("trigger_rule")
        return cls(given=frozenset(body), definition=definition,
                   trigger_rule=_recipe_rule(rule) if rule is not None else None, title=body.get("title"),
                   description=body.get("description"), is_active=body.get("is_active"))


# ---- a configuration import --------------------------------------------------------------------

IMPORT_SCHEMA = body_schema({"import": {"type": "object"}}, required=("import",))


@dataclass(frozen=True)
class ConfigurationImport:
    """An import (Import/Export Specification 1.0); ValidationError fields start with `import`."""

    configuration: ImportConfiguration

    @classmethod
    def from_json(cls, doc: object) -> ConfigurationImport:
        """The body `{"import": {...}}`."""
        body = _object(doc, IMPORT_SCHEMA)
        try:
            return cls(import_export.parse(body["import"]))
        except ValidationError as error:
            raise error.within("import") from None

    @classmethod
    def from_upload(cls, raw: bytes) -> ConfigurationImport:
        """An uploaded export file (the bytes of a configuration document)."""
        return cls.from_json({"import": parse_json_text(raw, field="import")})
