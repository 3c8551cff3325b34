"""The Celery tasks a request sends, always after its transaction has committed.

The web process makes its Celery app (`workers.app.make_celery`) on first use and keeps it on
the Flask app."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app

from api.context import db_session
from scale.recipes.service import recipe_ids_for_jobs
from scale.settings import Settings
from workers.app import ScaleCelery, make_celery
from workers.tasks import send_advance


def celery_app() -> ScaleCelery:
    """The web process's Celery app, made on first use."""
    app = current_app.extensions.get("scale.celery")
    if app is None:
        settings: Settings = current_app.extensions["scale.settings"]
        app = current_app.extensions["scale.celery"] = make_celery(settings)
    return app


def advance_recipes_of(job_ids: Iterable[int]) -> None:
    """Send the advancement of the recipes these jobs (just canceled or requeued, committed)
    belong to, so their dependents are blocked or unblocked now rather than at the clock's
    next sweep."""
    if recipe_ids := recipe_ids_for_jobs(db_session(), job_ids):
        send_advance(recipe_ids, app=celery_app())
