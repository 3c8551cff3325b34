"""The Celery tasks a request sends, always after its transaction has committed.

The web process makes its Celery app (`workers.app.make_celery`) on first use and keeps it on
the Flask app. A resource registers the tasks its change needs on the request's session before
it commits; they are sent after the commit, and a send that fails (the broker is down) is
logged without failing the request (`workers.sending`): the clock's sweeps re-send what was
never sent."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app

from api.context import db_session
from scale.recipes.service import recipe_ids_for_jobs
from scale.settings import Settings
from workers.app import ScaleCelery, make_celery
from workers.sending import TaskSend, send_after_commit
from workers.tasks import advance_sends

# A request waits at most about this long on a broker that is down (one connection attempt,
# no publish retries) before it answers; the sweep does the retrying.
SEND_TIMEOUT_S = 2


def celery_app() -> ScaleCelery:
    """The web process's Celery app, made on first use."""
    app: ScaleCelery | None = current_app.extensions.get("scale.celery")
    if app is None:
        settings: Settings = current_app.extensions["scale.settings"]
        app = current_app.extensions["scale.celery"] = make_celery(settings)
        app.conf.update(broker_connection_timeout=SEND_TIMEOUT_S, task_publish_retry=False)
    return app


def send_after_request_commit(sends: Iterable[TaskSend]) -> None:
    """Send these tasks once the request's session commits; call it before the commit."""
    send_after_commit(db_session(), celery_app(), sends)


def advance_recipes_of(job_ids: Iterable[int]) -> None:
    """Advance the recipes these jobs (being canceled or requeued) belong to once the request
    commits, so their dependents are blocked or unblocked now rather than at the clock's next
    sweep. Call it before the commit, after the change has been flushed."""
    if recipe_ids := recipe_ids_for_jobs(db_session(), job_ids):
        send_after_request_commit(advance_sends(recipe_ids))
