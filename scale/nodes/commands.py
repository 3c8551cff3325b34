"""The node and scheduler edits the API sends, parsed from their JSON at the edge. Each
`from_json` validates the body's shape and raises ValidationError naming the field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scale.exceptions import ValidationError
from scale.specs._fields import BOOLEAN, body_schema
from scale.specs._schema import validate

# No whitespace or NUL: Python's `\s` and the ECMA `\s` of JSON Schema (what clients check
# against) differ on \x1c-\x1f, \x85 and \ufeff, so those are named; a newline is whitespace,
# so `$` ends it.
HOSTNAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 250,
                            "pattern": r"^[^\s\x00\x1c-\x1f\x85\ufeff]+$"}
NODE_FIELDS: dict[str, Any] = {
    "hostname": HOSTNAME,
    "port": {"type": "integer", "minimum": 0, "maximum": 65535},
    "pause_reason": {"type": ["string", "null"], "maxLength": 250},
    "is_paused": BOOLEAN,
}
NODE_REPLACE_SCHEMA = body_schema(NODE_FIELDS, required=tuple(NODE_FIELDS))
NODE_EDIT_SCHEMA = {**body_schema(NODE_FIELDS), "minProperties": 1}
SCHEDULER_EDIT_SCHEMA = {**body_schema({"is_paused": BOOLEAN}), "minProperties": 1}


@dataclass(frozen=True)
class NodeEdit:
    """A PUT (every field given) or PATCH of a node; `given` names the fields the body gave
    (`pause_reason: null` is a change)."""

    given: frozenset[str]
    hostname: str | None = None
    port: int | None = None
    pause_reason: str | None = None
    is_paused: bool | None = None

    @classmethod
    def from_json(cls, doc: object) -> NodeEdit:
        """A PATCH body: any fields of NODE_EDIT_SCHEMA, at least one."""
        if not doc:
            raise ValidationError("body", "no fields were given; send hostname, port, "
                                  "pause_reason or is_paused")
        return cls._parse(doc, NODE_EDIT_SCHEMA)

    @classmethod
    def replacement_from_json(cls, doc: object) -> NodeEdit:
        """A PUT body: every field of NODE_REPLACE_SCHEMA is required, no other is accepted."""
        return cls._parse(doc, NODE_REPLACE_SCHEMA)

    @classmethod
    def _parse(cls, doc: object, schema: dict[str, Any]) -> NodeEdit:
        validate(doc, schema)
        assert isinstance(doc, dict)
        return cls(given=frozenset(doc), hostname=doc.get("hostname"), port=doc.get("port"),
                   pause_reason=doc.get("pause_reason"), is_paused=doc.get("is_paused"))


@dataclass(frozen=True)
class SchedulerEdit:
    """PATCH /scheduler/: `is_paused`, the only editable field."""

    is_paused: bool

    @classmethod
    def from_json(cls, doc: object) -> SchedulerEdit:
        """An empty body is refused (field `body`)."""
        if not doc:
            raise ValidationError("body", "no fields were given; send is_paused")
        validate(doc, SCHEDULER_EDIT_SCHEMA)
        assert isinstance(doc, dict)
        return cls(is_paused=doc["is_paused"])
