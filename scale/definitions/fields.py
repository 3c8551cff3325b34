"""JSON Schema fragments for request bodies, shared by the definition services."""

from __future__ import annotations

from typing import Any

TEXT: dict[str, Any] = {"type": ["string", "null"], "maxLength": 2000}
SHORT_TEXT: dict[str, Any] = {"type": ["string", "null"], "maxLength": 255}
# Stable names used in queries and URLs: no spaces or slashes.
STABLE_NAME: dict[str, Any] = {"type": "string", "pattern": r"^[a-zA-Z0-9._\-]{1,50}$"}
VERSION: dict[str, Any] = {"type": "string", "pattern": r"^[a-zA-Z0-9._\-]{1,50}$"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
JSON_OBJECT: dict[str, Any] = {"type": "object"}


def body_schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object schema that refuses unknown fields."""
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}
