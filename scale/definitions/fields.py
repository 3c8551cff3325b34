"""Pieces shared by the definition services: the validation warning they return and the name +
version uniqueness check (the JSON Schema fragments of request bodies: `scale.specs._fields`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scale.exceptions import Conflict


@dataclass(frozen=True)
class ValidationWarning:
    """Something valid but probably wrong, which validation reports and create accepts
    (reference validation responses: `{"id", "details"}`)."""

    id: str
    details: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "details": self.details}


def check_name_free(session: Session, model: Any, noun: str, name: str, version: str) -> None:
    """Conflict (`name_taken`) when a `model` row (JobType, RecipeType) has this name + version."""
    taken = select(model.id).where(model.name == name, model.version == version)
    if session.scalar(taken) is not None:
        raise name_taken(noun, name, version)


def name_taken(noun: str, name: str, version: str) -> Conflict:
    """The Conflict, naming the field `name`, for a `noun` ("job type") whose name + version exists."""
    return Conflict("name", f"a {noun} called {name!r} with version {version!r} already exists")
