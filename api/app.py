"""The Flask app factory: `/api/` with one namespace per reference service group."""

from __future__ import annotations

from functools import cached_property, wraps
from typing import Any

from flask import Blueprint, Flask
from flask_restx import Api, Swagger
from sqlalchemy.orm import sessionmaker
from werkzeug.routing import IntegerConverter

from api import openapi
from api.auth import check_token
from api.context import close_db_session
from api.error_handlers import register_error_handlers, register_routing_errors
from api.namespaces import NAMESPACES
from api.prometheus import register_prometheus
from api.ui import app_shell, register_ui
from scale.db import make_engine, make_sessions
from scale.settings import Settings
from scale.workspaces import brokers


def _authenticated(resource_method):
    """Every resource call passes the token check first (see `api.auth`)."""

    @wraps(resource_method)
    def wrapper(*args, **kwargs):
        check_token()
        return resource_method(*args, **kwargs)

    return wrapper


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` in our routes: ids are INTEGER columns, so a larger number names nothing
    (404) instead of reaching PostgreSQL and overflowing."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class ScaleApi(Api):
    """The API whose OpenAPI document also describes the answers every operation shares."""

    def __init__(self, *args: Any, reads_require_token: bool, **kwargs: Any) -> None:
        self.reads_require_token = reads_require_token
        super().__init__(*args, **kwargs)

    @cached_property
    def __schema__(self) -> dict[str, Any]:
        return openapi.complete(Swagger(self).as_dict(), reads_require_token=self.reads_require_token)


def create_app(settings: Settings, *, sessions: sessionmaker | None = None) -> Flask:
    """The web app for `settings`. Tests pass `sessions` bound to their own transaction."""
    app = Flask(__name__)
    app.url_map.converters["int"] = DatabaseIdConverter
    app.config.update(ERROR_404_HELP=False, RESTX_MASK_SWAGGER=False, JSON_SORT_KEYS=False,
                      MAX_CONTENT_LENGTH=settings.max_body_bytes)
    if sessions is None:
        # A request that finds the pool busy waits `db_pool_timeout_seconds`, then is a 503.
        sessions = make_sessions(make_engine(settings.database_url, pool_timeout=settings.db_pool_timeout_seconds))
    app.extensions["scale.settings"] = settings
    brokers.configure(mount_root=settings.mounts)  # downloads may reach an nfs workspace
    app.extensions["scale.sessions"] = sessions

    blueprint = Blueprint("api", __name__, url_prefix="/api")
    api = ScaleApi(blueprint, reads_require_token=settings.reads_require_token, version="1.0",
                   title="Scale API", doc="/docs",
                   description="Scale: job types, recipes, the queue, ingest and products",
                   decorators=[_authenticated],
                   authorizations={"token": {"type": "apiKey", "in": "header", "name": "Authorization",
                                             "description": "Token <token>"}},
                   security="token")
    register_error_handlers(api)
    for namespace, path in NAMESPACES:
        api.add_namespace(namespace, path=path)
    app.register_blueprint(blueprint)
    register_ui(app)
    register_prometheus(app, sessions, html_page=app_shell)
    register_routing_errors(app)
    app.teardown_appcontext(close_db_session)
    return app
