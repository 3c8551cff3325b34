"""The web UI at `/`, and the links at `/api/`.

Every page URL answers with the same app shell; the browser's router (static/app.js) renders the
page from the public REST API, so a page can be bookmarked and reloaded. Nothing here reads the
database: the UI can do only what the API lets any client do."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, url_for

ui = Blueprint("ui", __name__, static_folder="static", static_url_path="/ui/static",
               template_folder="templates")

# The pages of the UI (static/js/app.js has the same list in its router). `/metrics` is served by
# api/prometheus.py, which hands browsers this shell (`app_shell`) and Prometheus its exposition.
PROMETHEUS_PAGE = "/metrics"
PAGES = (
    "/", "/job-types", "/job-types/<int:item_id>", "/jobs", "/jobs/<int:item_id>", "/recipes",
    "/recipes/<int:item_id>", "/recipe-types/<int:item_id>", "/queue", "/ingest", "/sources",
    "/products", "/nodes", "/workspaces", "/errors", "/metrics", "/settings",
)


def app_shell(item_id: int | None = None) -> str:
    return render_template("index.html")


for page in PAGES:
    if page != PROMETHEUS_PAGE:
        ui.add_url_rule(page, view_func=app_shell, strict_slashes=False)


def api_index() -> dict[str, str]:
    """`GET /api/`: where to go from here."""
    return {
        "docs": url_for("api.doc", _external=True),
        "swagger": url_for("api.specs", _external=True),
        "ui": url_for("ui.app_shell", _external=True),
    }


def register_ui(app: Flask) -> None:
    """Serve the UI; `/api/` answers with links instead of flask-restx's 404 root."""
    app.register_blueprint(ui)
    app.view_functions["api.root"] = api_index
