"""Errors: the named failures that exit codes map to (`error_mapping`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scale.definitions.commands import ErrorCreate, ErrorEdit
from scale.exceptions import Conflict, NotFound, ValidationError
from scale.listing import Filter, ListSpec
from scale.models.errors import Error, ErrorCategory
from scale.timeutil import utcnow

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


def create_error(session: Session, command: ErrorCreate) -> Error:
    """Create an ALGORITHM or DATA error. A taken name is a Conflict naming `name`."""
    if session.scalar(select(Error.id).where(Error.name == command.name)) is not None:
        raise Conflict("name", f"an error called {command.name!r} already exists")
    now = utcnow()
    error = Error(name=command.name, title=command.title, description=command.description,
                  category=command.category, created=now, last_modified=now)
    session.add(error)
    session.flush()
    return error


def edit_error(session: Session, error_id: int, edit: ErrorEdit) -> Error:
    """Edit a user's error. Built-in errors are refused: Scale assigns them itself and relies
    on their categories (SYSTEM failures are retried, ALGORITHM ones are final)."""
    error = get_error(session, error_id)
    if error.is_builtin:
        raise ValidationError("name", f"{error.name!r} is a built-in error and cannot be edited")
    for name in edit.given:
        setattr(error, name, getattr(edit, name))
    error.last_modified = utcnow()
    session.flush()
    return error


def errors_by_name(session: Session, names: set[str]) -> dict[str, Error]:
    if not names:
        return {}
    return {e.name: e for e in session.scalars(select(Error).where(Error.name.in_(names)))}
