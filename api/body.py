"""The request body: a JSON object or a clear 400. Every resource that takes a body reads it
here (the configuration upload reads its file through the same parser), so every body gets the
same refusals: see `scale.specs._schema.parse_json_text`. Its size is capped by the app's
MAX_CONTENT_LENGTH (`Settings.max_body_bytes`, 413)."""

from __future__ import annotations

from typing import Any

from flask import request

from scale.exceptions import ValidationError
from scale.specs._schema import parse_json_text


def json_object() -> dict[str, Any]:
    """The body as a JSON object; malformed JSON, another type, a non-finite number, a lone
    surrogate, a NUL character or nesting too deep is a ValidationError."""
    if not request.is_json:
        raise ValidationError("body", "must be a JSON object (Content-Type: application/json)")
    body = parse_json_text(request.get_data(cache=True))
    if not isinstance(body, dict):
        raise ValidationError("body", f"must be a JSON object, not {type(body).__name__}")
    return body
