"""Pieces shared by the definition services: a document parsed from a request body, the
validation warning they return and the name + version uniqueness check (the JSON Schema
fragments of request bodies: `scale.specs._fields`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from scale.exceptions import Conflict, ValidationError

T = TypeVar("T")


@dataclass(frozen=True)
class Document(Generic[T]):
    """A document of a request body (an interface, a definition, a trigger rule) parsed at the
    edge: its value, or the ValidationError that parsing it raised, naming the field. The error
    is raised where the service has always checked the document (`value()`), so what it checks
    first (an unknown id, a taken name, a system job type) is still what a client is told."""

    parsed: T | None = None
    error: ValidationError | None = None

    @classmethod
    def parse(cls, parse: Callable[[object], T], doc: object, *, field: str = "") -> Document[T]:
        """`parse(doc)`, its ValidationError fields placed under `field` (if given)."""
        try:
            return cls(parsed=parse(doc))
        except ValidationError as error:
            return cls(error=error.within(field))

    def value(self) -> T:
        """The parsed document; raises its ValidationError if it is invalid."""
        if self.error is not None:
            raise self.error
        assert self.parsed is not None
        return self.parsed


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
