"""The definition commands the API sends (errors, workspaces), parsed from their JSON at the
edge. Each `from_json` validates the body's shape and raises ValidationError naming the field;
an edit records which fields the body gave (`given`), since giving `null` is not leaving a
field alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scale.exceptions import ValidationError
from scale.models.errors import ErrorCategory
from scale.specs import workspace_configuration
from scale.specs._fields import BOOLEAN, JSON_OBJECT, SHORT_TEXT, STABLE_NAME, TEXT, body_schema
from scale.specs._schema import validate
from scale.specs.workspace_configuration import WorkspaceConfiguration

# Users create ALGORITHM and DATA errors; SYSTEM errors belong to Scale itself.
ERROR_CREATE_SCHEMA = body_schema({
    "name": STABLE_NAME,
    "title": SHORT_TEXT,
    "description": TEXT,
    "category": {"enum": [ErrorCategory.ALGORITHM, ErrorCategory.DATA]},
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
