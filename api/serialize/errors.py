from __future__ import annotations

from typing import Any

from scale.models.errors import Error
from scale.timeutil import to_iso


def error_detail(error: Error) -> dict[str, Any]:
    return {
        "id": error.id, "name": error.name, "title": error.title,
        "description": error.description, "category": error.category,
        "created": to_iso(error.created), "last_modified": to_iso(error.last_modified),
    }
