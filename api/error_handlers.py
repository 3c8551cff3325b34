"""Domain errors to HTTP, in one table. Resources never catch; a 500 is a bug."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from flask_restx import Api
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound

from scale.exceptions import (
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

log = logging.getLogger(__name__)

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

    @api.errorhandler(OperationalError)
    @api.errorhandler(PoolTimeout)
    def database_unavailable(error: Exception):
        """The database is down, restarting or out of connections: the request can be retried,
        so 503 rather than a 500. The driver's text may name hosts, so it is only logged."""
        log.warning("database unavailable: %s", error)
        return {"message": "the database is unavailable; retry later"}, 503, {"Retry-After": "5"}

    @api.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return {"message": error.description or error.name}, error.code or 500, _headers_of(error)


def _headers_of(error: HTTPException) -> dict[str, str]:
    """What an HTTP error says beside its body (`Allow` on a 405), without werkzeug's HTML type."""
    return {name: value for name, value in error.get_headers() if name.lower() != "content-type"}


def register_routing_errors(app: Flask) -> None:
    """A path under /api/ that matches no route (404), or no method of its route (405), answers
    JSON like every other API error; werkzeug raises these before the API sees the request."""

    def routing_error(error: HTTPException) -> Response | HTTPException:
        if not request.path.startswith("/api/"):
            return error
        response = jsonify(message=error.description or error.name)
        response.status_code = error.code or 500
        response.headers.update(_headers_of(error))
        return response

    app.register_error_handler(RouteNotFound, routing_error)
    app.register_error_handler(MethodNotAllowed, routing_error)
