"""API tokens: who may change things. Only a digest is stored; the token is shown once."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from scale.exceptions import Conflict, ValidationError
from scale.models.tokens import ApiToken
from scale.timeutil import utcnow


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, name: str) -> str:
    """Make a token called `name` and return it; it cannot be read back later."""
    name = name.strip()
    if not name or len(name) > 255:
        raise ValidationError("name", "must be 1 to 255 characters")
    if find_token_by_name(session, name) is not None:
        raise Conflict("name", f"a token called {name!r} already exists")
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, digest=digest(token), created=utcnow()))
    session.flush()
    return token


def find_token(session: Session, token: str) -> ApiToken | None:
    """The token record for `token`, or None for an unknown one."""
    if not token:
        return None
    return session.scalar(select(ApiToken).where(ApiToken.digest == digest(token)))


def find_token_by_name(session: Session, name: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.name == name))
