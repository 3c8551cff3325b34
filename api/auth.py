"""Who may change things: every write carries `Authorization: Token <token>`."""

from __future__ import annotations

from flask import current_app, request

from api.context import db_session
from scale import tokens
from scale.exceptions import Unauthorized
from scale.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The API's own documentation stays readable without a token.
OPEN_PATHS = ("/api/docs", "/api/swagger.json", "/api/swaggerui/")


def presented_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in ("token", "bearer") or not value.strip():
        return ""
    return value.strip()


def check_token() -> None:
    """`before_request` hook: refuse a write (or, if configured, a read) without a valid token."""
    settings: Settings = current_app.extensions["scale.settings"]
    if request.method in SAFE_METHODS and not settings.reads_require_token:
        return
    if request.path.startswith(OPEN_PATHS):
        return
    require_token("to change anything")


def require_token(purpose: str) -> None:
    """Unauthorized unless the request carries a valid token; `purpose` ends the message
    (`... is required to change anything`)."""
    token = presented_token()
    if not token:
        raise Unauthorized(f"Authorization: a header 'Token <token>' is required {purpose}")
    if tokens.find_token(db_session(), token) is None:
        raise Unauthorized("Authorization: the token is not valid")
