"""The web UI at `/`, and the links at `/api/`.

Every page URL answers with the same app shell; the browser's router (static/js/router.js) renders
the page from the public REST API, so a page can be bookmarked and reloaded. Nothing here reads the
database: the UI can do only what the API lets any client do."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Flask, render_template, url_for

ui = Blueprint("ui", __name__, static_folder="static", static_url_path="/ui/static",
               template_folder="templates")

# The one route table of the UI (docs/ui.md, "Code layout"): this blueprint answers each page URL
# with the shell, the shell's navigation lists the routes that have a `title`, and the shell carries
# the table to the browser's router. `/metrics` is served by api/prometheus.py, which hands
# browsers this shell (`app_shell`) and Prometheus its exposition.
ROUTES: list[dict[str, str]] = json.loads(Path(__file__).with_name("routes.json").read_text(encoding="utf-8"))
PROMETHEUS_PAGE = "/metrics"


def app_shell(item_id: int | None = None) -> str:
    return render_template("index.html", routes=ROUTES)


for route in ROUTES:
    if route["path"] != PROMETHEUS_PAGE:
        ui.add_url_rule(route["path"], view_func=app_shell, strict_slashes=False)


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
