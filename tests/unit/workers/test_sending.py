"""Tasks registered with `workers.sending.send_after_commit` are sent once, after their session's
outermost commit, and never after a rollback; a send the broker does not take is logged and
fails nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from kombu.exceptions import OperationalError
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from scale import tokens
from scale.models.tokens import ApiToken
from workers.sending import TaskSend, send_after_commit, send_now

ADVANCE = TaskSend("scale.advance_recipe", (7,))
INGEST = TaskSend("scale.ingest_files", ([1, 2],))


class RecordingApp:
    """Stands in for a Celery app: records each send, with what `seen` read at that moment."""

    def __init__(self, seen: Any = None, *, down: bool = False) -> None:
        self.sent: list[tuple[str, list[Any], Any]] = []
        self.tried = 0
        self._seen = seen
        self._down = down

    def send_task(self, name: str, args: list[Any]) -> None:
        self.tried += 1
        if self._down:
            raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
        self.sent.append((name, args, self._seen() if self._seen else None))


def token_names(engine: Engine) -> list[str]:
    """The token names another connection sees: what has committed."""
    with engine.connect() as conn:
        return list(conn.scalars(select(ApiToken.name)))


def test_a_task_is_sent_once_after_the_commit(committed_sessions: sessionmaker, engine: Engine):
    app = RecordingApp(lambda: token_names(engine))
    with committed_sessions() as session:
        tokens.create_token(session, "made")
        send_after_commit(session, app, [ADVANCE])
        assert app.sent == []
        session.commit()
        tokens.create_token(session, "later")
        session.commit()

    assert app.sent == [("scale.advance_recipe", [7], ["made"])]


def test_nothing_is_sent_after_a_rollback_or_a_close_without_commit(sessions: sessionmaker):
    app = RecordingApp()
    with sessions() as session:
        send_after_commit(session, app, [ADVANCE])
        session.rollback()
        session.commit()
        send_after_commit(session, app, [INGEST])
    with sessions() as session:
        session.commit()

    assert app.tried == 0


def test_a_released_savepoint_sends_nothing_until_the_outer_commit(db: Session):
    app = RecordingApp()
    send_after_commit(db, app, [ADVANCE])
    with db.begin_nested():
        tokens.create_token(db, "inner")
    assert app.tried == 0
    db.commit()
    assert [name for name, _args, _seen in app.sent] == ["scale.advance_recipe"]


def test_a_broker_that_is_down_loses_the_sends_in_the_log_and_fails_no_commit(
        sessions: sessionmaker, caplog: pytest.LogCaptureFixture):
    app = RecordingApp(down=True)
    with caplog.at_level(logging.WARNING, logger="workers.sending"), sessions() as session:
        tokens.create_token(session, "kept")
        send_after_commit(session, app, [ADVANCE, INGEST])
        session.commit()
        assert session.scalars(select(ApiToken.name)).all() == ["kept"]

    assert app.tried == 1  # the second send would wait on the same broker again
    assert "lost the send of scale.advance_recipe[7], scale.ingest_files[[1, 2]]" in caplog.text


def test_send_now_sends_in_order_and_logs_a_lost_send(caplog: pytest.LogCaptureFixture):
    app = RecordingApp()
    send_now(app, [ADVANCE, INGEST])
    assert [(name, args) for name, args, _seen in app.sent] == [("scale.advance_recipe", [7]),
                                                              ("scale.ingest_files", [[1, 2]])]
    with caplog.at_level(logging.WARNING, logger="workers.sending"):
        send_now(RecordingApp(down=True), [INGEST])
    assert "lost the send of scale.ingest_files[[1, 2]]" in caplog.text
