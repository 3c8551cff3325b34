"""The request's database session. One per request, closed when the request ends."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session, sessionmaker


def db_session() -> Session:
    if "db_session" not in g:
        sessions: sessionmaker = current_app.extensions["scale.sessions"]
        g.db_session = sessions()
    return g.db_session


def close_db_session(_exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()
