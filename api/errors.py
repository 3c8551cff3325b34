"""Domain errors to HTTP, in one table. Resources never catch; a 500 is a bug."""

from __future__ import annotations

from flask_restx import Api
from werkzeug.exceptions import HTTPException

from scale.errors import (
    ConfigError,
    Forbidden,
    InvalidTransition,
    NotFound,
    ScaleError,
    Unauthorized,
    Unsupported,
    ValidationError,
)
from scale.workspaces.mounts import MountError

# Conflict (a duplicate name/version) is a ValidationError: the reference answers 400.
STATUS_FOR: dict[type[ScaleError], int] = {
    ValidationError: 400,
    Unauthorized: 401,
    Forbidden: 403,  # the message names the workspace-relative path, never the host path
    NotFound: 404,
    InvalidTransition: 409,
    Unsupported: 501,
    MountError: 503,  # the message names the workspace (or Strike) and what `mount` said
    ConfigError: 500,
}


def status_for(error: ScaleError) -> int:
    return next(code for kind, code in STATUS_FOR.items() if isinstance(error, kind))


def register_error_handlers(api: Api) -> None:
    def to_response(error: ScaleError):
        body: dict[str, object] = {"message": str(error)}
        if isinstance(error, ValidationError) and error.field:
            body["field"] = error.field
        return body, status_for(error)

    for kind in STATUS_FOR:
        api.errorhandler(kind)(to_response)

    @api.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return {"message": error.description or error.name}, error.code or 500
