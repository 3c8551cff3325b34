"""JSON Schema fragments shared by the specs and the commands parsed at the API's edge."""

from __future__ import annotations

from typing import Any

TEXT: dict[str, Any] = {"type": ["string", "null"], "maxLength": 2000}
SHORT_TEXT: dict[str, Any] = {"type": ["string", "null"], "maxLength": 255}
# Stable names used in queries, URLs and as a directory name (a workspace's or a Strike's mount
# point): no spaces or slashes, and never only dots, so that no name is `.` or `..`. `\Z`, since
# `$` would also match before a trailing newline.
STABLE_NAME: dict[str, Any] = {
    "type": "string", "minLength": 1, "maxLength": 50, "pattern": r"^[a-zA-Z0-9._\-]*[a-zA-Z0-9_\-][a-zA-Z0-9._\-]*\Z",
    "x-message": "must be 1 to 50 letters, digits, '.', '_' or '-', and not only dots",
}
VERSION: dict[str, Any] = {"type": "string", "pattern": r"^[a-zA-Z0-9._\-]{1,50}$"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
JSON_OBJECT: dict[str, Any] = {"type": "object"}


def body_schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object schema that refuses unknown fields."""
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}
