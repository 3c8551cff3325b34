"""The Celery tasks a request sends, always after its transaction has committed.

The web process makes its Celery app (`workers.app.make_celery`) on first use and keeps it on
the Flask app. A send that fails (the broker is down) is logged and does not fail the request:
the change is committed, and the clock's sweeps re-send what was never sent."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import current_app
from kombu.exceptions import OperationalError

from api.context import db_session
from scale.recipes.service import recipe_ids_for_jobs
from scale.settings import Settings
from workers.app import ScaleCelery, make_celery
from workers.tasks import send_advance

log = logging.getLogger(__name__)

# A request waits at most about this long on a broker that is down (one connection attempt,
# no publish retries) before it answers; the sweep does the retrying.
SEND_TIMEOUT_S = 2


def celery_app() -> ScaleCelery:
    """The web process's Celery app, made on first use."""
    app = current_app.extensions.get("scale.celery")
    if app is None:
        settings: Settings = current_app.extensions["scale.settings"]
        app = current_app.extensions["scale.celery"] = make_celery(settings)
        app.conf.update(broker_connection_timeout=SEND_TIMEOUT_S, task_publish_retry=False)
    return app


def advance_recipes_of(job_ids: Iterable[int]) -> None:
    """Send the advancement of the recipes these jobs (just canceled or requeued, committed)
    belong to, so their dependents are blocked or unblocked now rather than at the clock's
    next sweep. A failed send is logged: the clock's recipe sweep advances them later."""
    if recipe_ids := recipe_ids_for_jobs(db_session(), job_ids):
        try:
            send_advance(recipe_ids, app=celery_app())
        except (OperationalError, OSError) as error:
            log.warning("could not send the advancement of recipes %s (the clock's sweep will): %s",
                        sorted(recipe_ids), error)
