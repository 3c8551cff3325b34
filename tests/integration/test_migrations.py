"""The initial migration: schema, seeds and geometry on PostgreSQL/PostGIS and on SQLite.

These tests create and drop their own database (`scale_test_migrations`) rather than using the
shared, already-migrated one, because they migrate down and up again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, func, inspect, select, text
from sqlalchemy.pool import NullPool

import scale.models  # noqa: F401  (completes Base.metadata)
from scale import migrate
from scale.db import Base, make_engine, make_sessions
from scale.models import (
    Error,
    ErrorCategory,
    JobType,
    JobTypeRevision,
    ScaleFile,
    Scheduler,
    Workspace,
)

pytestmark = pytest.mark.integration

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TEST_DATABASE = "scale_test_migrations"
TEST_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{TEST_DATABASE}"

SYSTEM_JOB_TYPES = {"scale-ingest", "scale-strike", "scale-clock"}
FOOTPRINT = {"type": "Polygon", "coordinates": [[[1.0, 2.0], [3.0, 2.0], [3.0, 4.0], [1.0, 2.0]]]}
CENTER = {"type": "Point", "coordinates": [2.5, 3.0]}


def _recreate_database(admin: Engine) -> None:
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {TEST_DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {TEST_DATABASE}"))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        _recreate_database(admin)
        yield TEST_URL
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {TEST_DATABASE} WITH (FORCE)"))
    finally:
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'scale.db'}"


def _scale_tables(engine: Engine) -> set[str]:
    """Tables of the Scale schema present in the database (PostGIS's own `spatial_ref_sys` excluded)."""
    return set(inspect(engine).get_table_names()) & set(Base.metadata.tables)


def _assert_seeded(engine: Engine) -> None:
    with make_sessions(engine)() as session:
        errors = session.scalars(select(Error)).all()
        assert {e.name for e in errors} >= {"unknown", "database", "timeout"}
        assert {e.category for e in errors} == {ErrorCategory.SYSTEM, ErrorCategory.ALGORITHM}
        assert all(e.is_builtin for e in errors)
        assert {e.name for e in errors if e.category == ErrorCategory.ALGORITHM} == {
            "algorithm-unknown", "invalid-results-manifest", "missing-required-output"}
        assert session.scalar(select(Error.id).where(Error.name == "unknown")) == 1

        job_types = {t.name: t for t in session.scalars(select(JobType).where(JobType.is_system))}
        assert set(job_types) == SYSTEM_JOB_TYPES
        assert job_types["scale-clock"].is_long_running and job_types["scale-clock"].priority == 1
        assert job_types["scale-ingest"].interface["input_data"][0]["name"] == "ingest_id"
        revisions = session.scalars(select(JobTypeRevision)).all()
        assert {(r.job_type_id, r.revision_num) for r in revisions} == {(t.id, 1) for t in job_types.values()}

        scheduler = session.get(Scheduler, 1)
        assert scheduler is not None and not scheduler.is_paused
        assert (scheduler.max_node_errors, scheduler.node_error_period) == (50, 60)


def _assert_geometry_round_trips(engine: Engine) -> int:
    """Store a product-less source file with a footprint; read it back as the same GeoJSON."""
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        workspace = Workspace(name="raw", json_config={"version": "1.0", "broker": {"type": "host",
                                                                                      "host_path": "/tmp"}})
        source = ScaleFile(file_type="SOURCE", file_name="a.tif", media_type="image/tiff", file_size=10,
                           file_path="a/a.tif", workspace=workspace, uuid="0" * 32,
                           geometry=FOOTPRINT, center_point=CENTER)
        session.add(source)
        session.flush()
        file_id = source.id
    with sessions() as session:
        stored = session.get(ScaleFile, file_id)
        assert stored is not None
        assert (stored.geometry, stored.center_point) == (FOOTPRINT, CENTER)
        assert session.scalar(select(ScaleFile.geometry).where(ScaleFile.id == file_id)) == FOOTPRINT
    return file_id


def test_postgresql_upgrade_seeds_and_downgrade(postgres_url: str) -> None:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url, poolclass=NullPool)
    try:
        assert migrate.current(postgres_url) == migrate.head() is not None
        assert _scale_tables(engine) == set(Base.metadata.tables)
        _assert_seeded(engine)

        with engine.connect() as conn:
            column_type = conn.scalar(text(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'scale_file'::regclass AND attname = 'center_point'"))
            assert column_type == "geometry(Point,4326)"
            index_method = conn.scalar(text(
                "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
                "WHERE c.relname = 'ix_scale_file_geometry'"))
            assert index_method == "gist"

        file_id = _assert_geometry_round_trips(engine)
        with engine.connect() as conn:
            # Stored as real geometry: PostGIS can compute with it.
            assert conn.scalar(text(f"SELECT ST_SRID(geometry) FROM scale_file WHERE id = {file_id}")) == 4326
            assert conn.scalar(text(f"SELECT ST_X(center_point) FROM scale_file WHERE id = {file_id}")) == 2.5

        migrate.downgrade(postgres_url, "base")
        assert _scale_tables(engine) == set()
        assert migrate.current(postgres_url) is None

        migrate.upgrade(postgres_url)
        _assert_seeded(engine)
    finally:
        engine.dispose()


def test_sqlite_upgrade_seeds_and_downgrade(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    engine = make_engine(sqlite_url, poolclass=NullPool)
    try:
        assert _scale_tables(engine) == set(Base.metadata.tables)
        _assert_seeded(engine)

        file_id = _assert_geometry_round_trips(engine)
        with engine.connect() as conn:
            stored = conn.scalar(text(f"SELECT center_point FROM scale_file WHERE id = {file_id}"))
            assert isinstance(stored, str) and '"Point"' in stored  # GeoJSON text

        migrate.downgrade(sqlite_url, "base")
        assert _scale_tables(engine) == set()
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(text("sqlite_master"))
                               .where(text("type = 'table' AND name != 'alembic_version'"))) == 0
    finally:
        engine.dispose()


def test_migration_matches_models(postgres_url: str) -> None:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            # The same comparison options as scale/migrations/env.py, so this is what autogenerate would see.
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": migrate.include_name})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
