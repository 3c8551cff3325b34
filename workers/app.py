"""The Celery app for Scale's system tasks, built from `Settings` (STYLE.md section 6).

Tasks are acknowledged late and a worker takes one message at a time, so a task whose worker
dies is delivered again; tasks are idempotent, so running one twice is harmless.

Brokers: `settings.broker_url` is given to kombu as it is (`redis://host:6379/0` in production)
except for the embedded default `filesystem://<home>/broker`. kombu's filesystem transport takes
no path in its URL, only transport options, so that URL becomes `filesystem://` with
`data_folder_in` and `data_folder_out` both `<path>/queue` (senders write where the worker
reads) and `control_folder` `<path>/control` (the worker's remote-control mailbox); the
directories are created here. That transport deletes a message file when a worker takes it,
so a message held by a worker that crashes is lost: the clock's sweep (`scale.sweep_recipes`)
re-sends the work, which is what makes that acceptable for a one-machine install.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery
from celery.signals import worker_process_init
from sqlalchemy.orm import sessionmaker

from scale.db import make_engine, make_sessions
from scale.settings import Settings

FILESYSTEM_SCHEME = "filesystem://"


class ScaleCelery(Celery):
    """A Celery app that knows Scale's settings and, in a worker, its database sessions."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__("scale", **kwargs)
        self.settings = settings
        self._sessions: sessionmaker | None = None

    def sessions(self) -> sessionmaker:
        """This process's session factory, built on first use (see `worker_process_init`)."""
        if self._sessions is None:
            self._sessions = make_sessions(make_engine(self.settings.database_url))
        return self._sessions

    def reset_sessions(self) -> None:
        """Forget the session factory; a forked child must not share its parent's connections."""
        self._sessions = None


def broker_options(broker_url: str) -> tuple[str, dict[str, Any]]:
    """The kombu URL and transport options for `broker_url` (see the module docstring)."""
    if not broker_url.startswith(FILESYSTEM_SCHEME):
        return broker_url, {}
    root = Path(broker_url.removeprefix(FILESYSTEM_SCHEME))
    queue, control = root / "queue", root / "control"
    for folder in (queue, control):
        folder.mkdir(parents=True, exist_ok=True)
    return FILESYSTEM_SCHEME, {"data_folder_in": str(queue), "data_folder_out": str(queue),
                               "control_folder": str(control)}


def make_celery(settings: Settings) -> ScaleCelery:
    """The Celery app for `settings`, with Scale's tasks registered. It becomes the current
    app, which a worker's `worker_process_init` builds the engine of."""
    url, transport_options = broker_options(settings.broker_url)
    app = ScaleCelery(settings, broker=url)
    app.conf.update(
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        # Put a bound on sending: a process must not hang on a broker that is down.
        broker_connection_timeout=10,
        task_publish_retry_policy={"max_retries": 3, "interval_start": 0, "interval_step": 0.5,
                                   "interval_max": 2},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        enable_utc=True,
        worker_hijack_root_logger=False,
        # Task events, so that Flower (`celery -A workers.monitor:celery flower`) and
        # `celery events` show tasks as they are sent, start and end (docs/deployment.md).
        worker_send_task_events=True,
        task_send_sent_event=True,
    )
    # Importing the module registers its shared tasks with every app, this one included.
    import workers.ingest_tasks  # noqa: F401
    import workers.metrics_tasks  # noqa: F401
    import workers.tasks  # noqa: F401
    import workers.trigger_tasks  # noqa: F401

    return app


@worker_process_init.connect
def _build_engine(**_kwargs: Any) -> None:
    """Each prefork child builds its own engine: connections inherited through fork() would
    be shared with the parent and the other children."""
    from celery import current_app

    app = current_app._get_current_object()
    if isinstance(app, ScaleCelery):
        app.reset_sessions()
        app.sessions()
