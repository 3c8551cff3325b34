"""Shared fixtures: real PostgreSQL + PostGIS and SQLite, each migrated to head once per
session; every test runs inside a transaction that is rolled back.

API tests run once per backend (`backend` is parametrised). The PostgreSQL server is
`SCALE_TEST_PG` (default postgresql+psycopg://postgres@127.0.0.1:5432), as `bin/test` starts it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from psycopg.errors import DeadlockDetected
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from scale import migrate, tokens
from scale.db import make_engine, make_sessions
from scale.settings import Settings

PG_SERVER = os.environ.get("SCALE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
BACKENDS = ("postgresql", "sqlite")


def recreate_pg_database(name: str) -> str:
    """Drop and create database `name` on the test server; return its URL."""
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_SERVER}/{name}"


def drop_pg_database(name: str) -> None:
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    # One database per test run, so that concurrent runs on one server never collide.
    name = f"scale_test_{os.getpid()}"
    url = recreate_pg_database(name)
    migrate.upgrade(url)
    yield url
    drop_pg_database(name)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'scale.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("pg_url" if backend == "postgresql" else "sqlite_url")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker:
    """What the app and the services get in tests: sessions inside the test's transaction."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


@pytest.fixture
def db(sessions: sessionmaker) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # The home is a folder of its own: workspaces and Strike directories under tmp_path are
    # beside it, not inside it (Scale refuses those).
    return replace(Settings.embedded(tmp_path / "home"), database_url=database_url)


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker):
    from api.app import create_app

    app = create_app(settings, sessions=sessions)
    app.testing = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def token(sessions: sessionmaker) -> dict[str, str]:
    """Headers that carry a valid API token."""
    with sessions.begin() as session:
        value = tokens.create_token(session, "test")
    return {"Authorization": f"Token {value}"}


@pytest.fixture
def committed_sessions(engine: Engine) -> Iterator[sessionmaker]:
    """Sessions that really commit, for tests that cross connections or processes (a real
    worker, a scheduler, two racing claimers). Every Scale table except the migration's seeds
    is emptied afterwards."""
    yield sessionmaker(bind=engine, expire_on_commit=False)
    truncate_runtime_tables(engine)


@pytest.fixture
def pg_committed(pg_url: str) -> Iterator[sessionmaker]:
    """`committed_sessions` on PostgreSQL only, for tests whose other processes (a worker, a
    scheduler, a Strike) need a database server."""
    engine = make_engine(pg_url)
    yield make_sessions(engine)
    truncate_runtime_tables(engine)
    engine.dispose()


# Rows the migration seeds; everything else a test commits is removed after it.
SEEDED = {"error": "is_builtin", "job_type": "is_system", "job_type_revision":
          "job_type_id IN (SELECT id FROM job_type WHERE is_system)", "scheduler": "id = 1"}


def truncate_runtime_tables(engine: Engine) -> None:
    """Empty every table a test may have written, keeping the migration's seeds. A process the
    test left running (a module's worker finishing a redelivered task) may still write: a
    deadlock with it is retried, as PostgreSQL asks."""
    for attempt in range(5):
        try:
            _truncate(engine)
            return
        except OperationalError as error:
            if attempt == 4 or not isinstance(error.orig, DeadlockDetected):
                raise
            time.sleep(0.5)


def _truncate(engine: Engine) -> None:
    from scale.db import Base

    with engine.begin() as conn:
        # The one foreign key that points back up the table order (see TriggerEvent.source_file_id).
        conn.execute(text("UPDATE trigger_event SET source_file_id = NULL"))
        for table in reversed(Base.metadata.sorted_tables):
            keep = SEEDED.get(table.name)
            where = f" WHERE NOT ({keep})" if keep else ""
            conn.execute(text(f"DELETE FROM {table.name}{where}"))
        conn.execute(text("UPDATE scheduler SET is_paused = false WHERE id = 1"))
        conn.execute(text("UPDATE job_type SET is_paused = false, paused = NULL WHERE is_system"))
