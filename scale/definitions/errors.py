"""Errors: the named failures that exit codes map to (`error_mapping`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scale.definitions.fields import SHORT_TEXT, STABLE_NAME, TEXT, body_schema
from scale.errors import Conflict, NotFound, ValidationError
from scale.listing import Filter, ListSpec
from scale.models.errors import Error, ErrorCategory
from scale.specs._schema import validate
from scale.timeutil import utcnow

# Users create ALGORITHM and DATA errors; SYSTEM errors belong to Scale itself.
CREATE_SCHEMA = body_schema({
    "name": STABLE_NAME,
    "title": SHORT_TEXT,
    "description": TEXT,
    "category": {"enum": [ErrorCategory.ALGORITHM, ErrorCategory.DATA]},
}, required=("name", "category"))
EDIT_SCHEMA = body_schema({
    "title": SHORT_TEXT,
    "description": TEXT,
    "category": {"enum": [c.value for c in ErrorCategory]},
})

ERROR_LIST = ListSpec(
    filters={"name": Filter(Error.name), "category": Filter(Error.category,
                                                          choices=tuple(ErrorCategory))},
    orders={"id": Error.id, "name": Error.name, "title": Error.title, "category": Error.category,
            "created": Error.created, "last_modified": Error.last_modified},
    default_order=("name",),
    time_column=Error.last_modified,
)


def list_errors_statement():
    return select(Error)


def get_error(session: Session, error_id: int) -> Error:
    error = session.get(Error, error_id)
    if error is None:
        raise NotFound(f"error {error_id} does not exist")
    return error


def create_error(session: Session, body: dict[str, Any]) -> Error:
    """Create an ALGORITHM or DATA error. A taken name is a Conflict naming `name`."""
    validate(body, CREATE_SCHEMA)
    if session.scalar(select(Error.id).where(Error.name == body["name"])) is not None:
        raise Conflict("name", f"an error called {body['name']!r} already exists")
    now = utcnow()
    error = Error(name=body["name"], title=body.get("title"), description=body.get("description"),
                  category=body["category"], created=now, last_modified=now)
    session.add(error)
    session.flush()
    return error


def edit_error(session: Session, error_id: int, body: dict[str, Any]) -> Error:
    """Edit a user's error. Built-in errors are refused: Scale assigns them itself and relies
    on their categories (SYSTEM failures are retried, ALGORITHM ones are final)."""
    validate(body, EDIT_SCHEMA)
    error = get_error(session, error_id)
    if error.is_builtin:
        raise ValidationError("name", f"{error.name!r} is a built-in error and cannot be edited")
    for name, value in body.items():
        setattr(error, name, value)
    error.last_modified = utcnow()
    session.flush()
    return error


def errors_by_name(session: Session, names: set[str]) -> dict[str, Error]:
    if not names:
        return {}
    return {e.name: e for e in session.scalars(select(Error).where(Error.name.in_(names)))}
