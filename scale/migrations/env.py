"""Alembic environment for Scale.

The database comes from the Alembic `Config` only (see `scale.migrate.alembic_config`): either an
open connection in `config.attributes["connection"]` (tests, and callers that own the transaction)
or the `sqlalchemy.url` main option. Nothing here reads the environment."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

import scale.models  # noqa: F401  (registers every table on Base.metadata, for autogenerate)
from scale.db import Base, make_engine
from scale.migrate import include_name

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        include_name=include_name,
        # SQLite cannot ALTER most things; batch mode copies the table instead, in later revisions.
        render_as_batch=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit the SQL for `alembic upgrade --sql` without a database."""
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("alembic: set sqlalchemy.url or pass a connection in config.attributes")
    # One short-lived connection: a migration is not worth a pool.
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            _run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
