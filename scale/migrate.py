"""Running the Alembic migrations from Python (`scale db upgrade`, tests, `scale up`).

The schema is created only by these migrations; `Base.metadata.create_all` is never used."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

import scale.models  # noqa: F401  (include_name needs every table on Base.metadata)
from scale.db import Base, make_engine

# The migration scripts and env.py ship inside the package (not a package themselves: no
# __init__.py, so importing all of `scale` never runs env.py).
SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def include_name(name: str | None, type_: str, parent_names: MutableMapping[Any, str | None]) -> bool:
    """Autogenerate filter: compare only Scale's tables, not what extensions add (PostGIS's
    `spatial_ref_sys`)."""
    if type_ == "table":
        return name in Base.metadata.tables
    return True


def alembic_config(url: str) -> Config:
    """An Alembic config for the database at `url`, without reading any alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    # ConfigParser treats `%` as interpolation; URL-encoded passwords contain it.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at `url` down to `revision` (`base` drops every Scale table)."""
    command.downgrade(alembic_config(url), revision)


def head() -> str | None:
    """The newest revision the shipped migrations reach."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current(url: str) -> str | None:
    """The revision the database at `url` is at, or None if it has never been migrated."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
