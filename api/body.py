"""The request body: a JSON object or a clear 400."""

from __future__ import annotations

from typing import Any

from flask import request

from scale.errors import ValidationError
from scale.specs._schema import refuse_nul


def json_object() -> dict[str, Any]:
    """The body as a JSON object; malformed JSON, another type or a NUL character in any
    string is a ValidationError."""
    body = request.get_json(silent=True)
    if body is None:
        raise ValidationError("body", "must be a JSON object (Content-Type: application/json)")
    if not isinstance(body, dict):
        raise ValidationError("body", f"must be a JSON object, not {type(body).__name__}")
    refuse_nul(body)
    return body
