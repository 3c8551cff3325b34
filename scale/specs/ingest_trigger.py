"""Ingest Trigger Configuration Specification 1.0: which ingested files trigger a rule.

The parse trigger configuration has the identical shape, so both live here; `parse_trigger`
re-exports it under its own name. Whether `workspace_name` and `input_data_name` exist is a
database question, left to the services."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scale.specs._schema import STRING_LIST_SCHEMA, validate_document

CURRENT_VERSION = "1.0"

_STRING: dict[str, Any] = {"type": "string", "minLength": 1}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["data"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "condition": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"media_type": {"type": "string"}, "data_types": STRING_LIST_SCHEMA},
        },
        "data": {
            "type": "object",
            "required": ["input_data_name", "workspace_name"],
            "additionalProperties": False,
            "properties": {"input_data_name": _STRING, "workspace_name": _STRING},
        },
    },
}


@dataclass(frozen=True)
class FileTriggerConfiguration:
    """A file event rule. `media_type` "" accepts every media type; every one of `data_types`
    must be tagged on the file."""

    input_data_name: str
    workspace_name: str
    media_type: str = ""
    data_types: tuple[str, ...] = ()
    version: str = CURRENT_VERSION

    def matches(self, media_type: str, data_types: Iterable[str]) -> bool:
        """Whether a file with this media type and these data type tags triggers the rule."""
        if self.media_type and media_type != self.media_type:
            return False
        return set(self.data_types) <= set(data_types)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "condition": {"media_type": self.media_type, "data_types": list(self.data_types)},
            "data": {"input_data_name": self.input_data_name, "workspace_name": self.workspace_name},
        }


IngestTriggerConfiguration = FileTriggerConfiguration


def parse(doc: object) -> FileTriggerConfiguration:
    """Validate an ingest trigger configuration; raises ValidationError naming the field."""
    version = validate_document(doc, {CURRENT_VERSION: SCHEMA}, CURRENT_VERSION)
    assert isinstance(doc, dict)
    condition = doc.get("condition", {})
    return FileTriggerConfiguration(
        input_data_name=doc["data"]["input_data_name"],
        workspace_name=doc["data"]["workspace_name"],
        media_type=condition.get("media_type", ""),
        data_types=tuple(condition.get("data_types", ())),
        version=version,
    )
