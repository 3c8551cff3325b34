"""Scale's one way to send a Celery task that follows a change: after the change commits, and
never failing the caller when the broker is down (STYLE.md sections 6 and 12).

A shell registers the tasks a unit of work must be followed by on its session
(`send_after_commit`), before it commits. A hook on every SQLAlchemy session sends them once
the session's outermost transaction has committed, so a worker never reads rows that are not
there yet, and drops them when that transaction ends without a commit (a rollback, a close),
so nothing is sent for work that never happened. A shell whose change was committed elsewhere
(the runner's outcome, a Strike's file moved after its commit) sends at once with `send_now`.

A send that fails is logged, never raised: the change is committed, and an exception would
answer it with a 500 or stop a worker's, scheduler's or clock's loop. The sends after the
first failure are not tried (each would wait out the broker's connection timeout again) and
are logged with it. The clock's sweeps re-send the lost work: `scale.sweep_recipes` recipe
advancement, `scale.sweep_ingests` ingests, `scale.sweep_triggers` trigger evaluation. A lost
`scale.process_clock_event` is not re-sent: the rule's next slot runs its processor again,
which catches up for the rollups (yesterday and today are recomputed) and the cleanup, but
not for the lost minute's load sample."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from celery import Celery
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

# The key, in `Session.info`, of the sends waiting for the session's commit.
_PENDING = "scale.sends_after_commit"


@dataclass(frozen=True)
class TaskSend:
    """One message: a task's name and its (JSON-serialisable) positional arguments."""

    name: str
    args: tuple[Any, ...] = ()

    def __str__(self) -> str:
        return f"{self.name}{list(self.args)}"


def send_after_commit(session: Session, app: Celery, sends: Iterable[TaskSend]) -> None:
    """Send `sends` through `app` once `session`'s outermost transaction commits (or never,
    when it does not). Call it before the commit, in the unit of work that made the change."""
    if not session.in_transaction():
        # The sends belong to a unit of work: without one, a rollback would not drop them.
        session.begin()
    pending: list[tuple[Celery, TaskSend]] = session.info.setdefault(_PENDING, [])
    pending.extend((app, send) for send in sends)


def send_now(app: Celery, sends: Iterable[TaskSend]) -> None:
    """Send `sends` through `app` in order. A failure is logged with the sends it leaves unsent
    (see the module docstring)."""
    _send([(app, send) for send in sends])


def _send(pending: list[tuple[Celery, TaskSend]]) -> None:
    for done, (app, send) in enumerate(pending):
        try:
            app.send_task(send.name, args=list(send.args))
        # Any exception: the change is committed whatever went wrong here, and a raise would
        # fail a request or a loop over work the sweeps will re-send anyway.
        except Exception as error:
            lost = ", ".join(str(unsent) for _app, unsent in pending[done:])
            log.warning("lost the send of %s (the clock's sweeps re-send such work): %s", lost, error)
            return


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    # Released savepoints fire this event too; only the outermost commit makes the change visible.
    if session.get_nested_transaction() is None:
        _send(session.info.pop(_PENDING, []))


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction: SessionTransaction) -> None:
    # After a commit the sends are already gone; this drops those of a rollback or a close.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
