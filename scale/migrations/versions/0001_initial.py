"""Initial schema: every Scale table, its indexes, and the seed data.

Seeds: the built-in SYSTEM errors, the system job types (scale-ingest, scale-strike, scale-clock)
with revision 1 of their interfaces, and the scheduler's singleton row.

On PostgreSQL the PostGIS extension is created first and `scale_file.geometry`/`center_point` are
`geometry(..., 4326)` columns with GIST indexes; elsewhere (SQLite) they are GeoJSON text.
Downgrade drops every table but leaves the extension, which other databases' users may share.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Types as they were when this revision was written (kept here, not imported, so the revision
# never changes under later edits of the models).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


class SeedJson(sa.types.TypeDecorator[Any]):
    """JSON_DOC for seed rows, which can also be written as a literal (`alembic upgrade --sql`)."""

    impl = JSON_DOC
    cache_ok = True

    def process_literal_param(self, value: Any, dialect: sa.engine.Dialect) -> str:
        return "'" + json.dumps(value).replace("'", "''") + "'"


def geometry_column(geometry_type: str) -> sa.types.TypeEngine[Any]:
    """PostGIS geometry in WGS 84 on PostgreSQL, GeoJSON text elsewhere (`scale.models.types`)."""
    return sa.Text().with_variant(Geometry(geometry_type, srid=4326, spatial_index=False), "postgresql")


# Single-column indexes, named `ix_<table>_<column>` as the models' naming convention does.
INDEXED_COLUMNS: dict[str, tuple[str, ...]] = {
    "api_token": ("created",),
    "error": ("category", "created", "last_modified"),
    "node": ("created", "is_active", "last_modified"),
    "queue_depth_priority": ("depth_time", "priority"),
    "trigger_rule": ("created", "is_active", "last_modified", "name", "type"),
    "workspace": ("created", "is_active", "last_modified"),
    "job_type": ("category", "created", "is_active", "is_system", "last_modified", "name", "trigger_rule_id"),
    "metrics_error": ("error_id", "occurred"),
    "recipe_type": ("created", "is_active", "last_modified", "name", "trigger_rule_id"),
    "trigger_event": ("occurred", "rule_id", "type"),
    "job_load": ("measured",),
    "job_type_revision": ("created",),
    "metrics_job_type": ("job_type_id", "occurred"),
    "queue_depth_job_type": ("depth_time", "job_type_id"),
    "recipe_type_revision": ("created",),
    "job": (
        "created", "error_id", "event_id", "job_type_id", "job_type_rev_id", "last_modified",
        "last_status_change", "priority", "status",
    ),
    "recipe": ("created", "event_id", "last_modified", "recipe_type_id", "recipe_type_rev_id"),
    "job_exe": ("created", "error_id", "job_id", "last_modified", "node_id", "status"),
    "recipe_job": ("job_id",),
    "strike": ("created", "job_id", "last_modified"),
    "metrics_ingest": ("occurred", "strike_id"),
    "queue": ("created", "job_id", "job_type_id", "last_modified"),
    "scale_file": (
        "created", "data_ended", "data_started", "file_name", "file_type", "is_operational", "is_parsed",
        "is_published", "job_exe_id", "job_id", "job_type_id", "last_modified", "recipe_id", "uuid",
        "workspace_id",
    ),
    "file_ancestry_link": ("ancestor_id", "created", "descendant_id", "job_exe_id", "job_id", "recipe_id"),
    "ingest": (
        "created", "file_name", "ingest_ended", "job_id", "last_modified", "source_file_id", "status",
        "strike_id", "transfer_started", "workspace_id",
    ),
}
COMPOSITE_INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_queue_priority_queued", "queue", ("priority", "queued", "id")),
    ("ix_job_load_job_type_id_measured", "job_load", ("job_type_id", "measured")),
)
# PostgreSQL only: there is no spatial index on GeoJSON text.
GIST_INDEXES: tuple[tuple[str, str, str], ...] = (
    ("ix_scale_file_geometry", "scale_file", "geometry"),
    ("ix_scale_file_center_point", "scale_file", "center_point"),
)

# The reference shows its built-in rows created at this instant; the seeds keep it.
SEEDED = dt.datetime(2015, 3, 11, tzinfo=dt.UTC)

# (name, title, description). "unknown" is the reference's; the others are the causes Scale itself
# assigns when it, rather than an algorithm's exit code, fails an execution. SYSTEM failures are
# retried while tries remain; the ALGORITHM ones below are final, as re-running cannot fix them.
SYSTEM_ERRORS: tuple[tuple[str, str, str], ...] = (
    ("unknown", "Unknown", "The error that caused the failure is unknown."),
    ("database", "Database", "An error occurred with the Scale database."),
    ("database-operation", "Database Operation",
     ("A Scale database operation failed, for example because the database was unreachable, "
      "at its connection limit or deadlocked.")),
    ("filesystem-io", "Filesystem I/O", "An I/O operation on the node's local filesystem failed."),
    ("nfs", "NFS", "An NFS (Network File System) operation failed."),
    ("timeout", "Timeout", "The job execution ran longer than its timeout allows."),
    ("task-launch", "Task Launch", "The job execution could not be launched on its node."),
    ("node-lost", "Node Lost", "The node running the job execution was lost or stopped responding."),
    ("docker", "Docker", "The job's Docker image could not be pulled or its container could not be run."),
    ("pre-task", "Pre-Task", "Preparing the job execution (fetching its input files) failed."),
    ("post-task", "Post-Task", "Finishing the job execution (storing its products and results) failed."),
    ("ingest", "Ingest", "A source file could not be ingested into its workspace."),
)
BUILTIN_ALGORITHM_ERRORS: tuple[tuple[str, str, str], ...] = (
    ("algorithm-unknown", "Algorithm Unknown",
     "The algorithm exited with a non-zero code that its job type's error mapping does not name."),
    ("invalid-results-manifest", "Invalid Results Manifest",
     "The job wrote a results manifest that is not valid."),
    ("missing-required-output", "Missing Required Output", "The job did not produce a required output."),
)


def _interface(command_arguments: str, properties: tuple[str, ...]) -> dict[str, Any]:
    """A job interface (version 1.0) for a `scale` subcommand taking the given property inputs."""
    return {
        "version": "1.0",
        "command": "scale",
        "command_arguments": command_arguments,
        "input_data": [{"name": name, "type": "property", "required": True} for name in properties],
        "output_data": [],
    }


# Columns left out (author_name, author_url, docker_image, trigger_rule_id, archived, paused) are null.
_SYSTEM_JOB_TYPE = {
    "version": "1.0", "category": "system",
    "is_system": True, "is_active": True, "is_operational": True, "is_paused": False, "icon_code": "f013",
    "uses_docker": False, "docker_privileged": False, "revision_num": 1,
    "disk_out_const_required": 64.0, "disk_out_mult_required": 0.0, "error_mapping": {},
    "created": SEEDED, "last_modified": SEEDED,
}
# Field values as the reference's job type examples show them. Ingest is a short, retried job; Strike
# and Clock are long-running (no timeout, restarted by the scheduler rather than retried).
SYSTEM_JOB_TYPES: tuple[dict[str, Any], ...] = (
    {**_SYSTEM_JOB_TYPE, "name": "scale-ingest", "title": "Scale Ingest",
     "description": "Ingests a source file into a workspace", "is_long_running": False,
     "priority": 10, "timeout": 1800, "max_scheduled": None, "max_tries": 3,
     "cpus_required": 1.0, "mem_required": 64.0,
     "interface": _interface("ingest ${ingest_id}", ("ingest_id",))},
    {**_SYSTEM_JOB_TYPE, "name": "scale-strike", "title": "Scale Strike",
     "description": "Monitors a directory for incoming files to ingest", "is_long_running": True,
     "priority": 5, "timeout": 0, "max_scheduled": None, "max_tries": 0,
     "cpus_required": 0.5, "mem_required": 64.0,
     "interface": _interface("strike ${strike_id}", ("strike_id",))},
    {**_SYSTEM_JOB_TYPE, "name": "scale-clock", "title": "Scale Clock",
     "description": "Performs Scale system functions that need to be executed on regular time intervals",
     "is_long_running": True, "priority": 1, "timeout": 0, "max_scheduled": 1, "max_tries": 0,
     "cpus_required": 0.5, "mem_required": 64.0,
     "interface": _interface("clock", ())},
)


# In dependency order: every table after the tables it references.
TABLES: tuple[str, ...] = (
    "api_token",
    "error",
    "node",
    "queue_depth_priority",
    "scheduler",
    "trigger_rule",
    "workspace",
    "job_type",
    "metrics_error",
    "recipe_type",
    "trigger_event",
    "job_load",
    "job_type_revision",
    "metrics_job_type",
    "queue_depth_job_type",
    "recipe_type_revision",
    "job",
    "recipe",
    "job_exe",
    "recipe_job",
    "strike",
    "metrics_ingest",
    "queue",
    "scale_file",
    "file_ancestry_link",
    "ingest",
)


def upgrade() -> None:
    on_postgresql = op.get_bind().dialect.name == "postgresql"
    if on_postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    _create_tables()
    for table, columns in INDEXED_COLUMNS.items():
        for column in columns:
            op.create_index(op.f(f"ix_{table}_{column}"), table, [column])
    for name, table, columns in COMPOSITE_INDEXES:
        op.create_index(op.f(name), table, list(columns))
    if on_postgresql:
        for name, table, column in GIST_INDEXES:
            op.create_index(op.f(name), table, [column], postgresql_using="gist")
    _seed()


def downgrade() -> None:
    # Children before parents; a table's indexes go with it.
    for table in reversed(TABLES):
        op.drop_table(table)


def _seed() -> None:
    error = sa.table(
        "error", sa.column("name", sa.String), sa.column("title", sa.String),
        sa.column("description", sa.Text), sa.column("category", sa.String),
        sa.column("is_builtin", sa.Boolean), sa.column("created", TIMESTAMP),
        sa.column("last_modified", TIMESTAMP),
    )
    op.bulk_insert(error, [
        {"name": name, "title": title, "description": description, "category": category,
         "is_builtin": True, "created": SEEDED, "last_modified": SEEDED}
        for category, errors in (("SYSTEM", SYSTEM_ERRORS), ("ALGORITHM", BUILTIN_ALGORITHM_ERRORS))
        for name, title, description in errors
    ])

    job_type = sa.table(
        "job_type", sa.column("id", sa.Integer), *(sa.column(key, _seed_type(key)) for key in SYSTEM_JOB_TYPES[0])
    )
    op.bulk_insert(job_type, list(SYSTEM_JOB_TYPES))

    # Jobs point at a revision, so each system job type starts with revision 1 of its interface.
    job_type_revision = sa.table(
        "job_type_revision", sa.column("job_type_id", sa.Integer), sa.column("revision_num", sa.Integer),
        sa.column("interface", SeedJson()), sa.column("created", TIMESTAMP),
    )
    op.execute(job_type_revision.insert().from_select(
        ["job_type_id", "revision_num", "interface", "created"],
        sa.select(job_type.c.id, sa.literal(1), job_type.c.interface, job_type.c.created)
        .where(job_type.c.is_system == sa.true()),
    ))

    # Scheduler defaults: running, and a node is paused after 50 SYSTEM failures within 60 seconds.
    scheduler = sa.table(
        "scheduler", sa.column("id", sa.Integer), sa.column("is_paused", sa.Boolean),
        sa.column("max_node_errors", sa.Integer), sa.column("node_error_period", sa.Integer),
        sa.column("created", TIMESTAMP), sa.column("last_modified", TIMESTAMP),
    )
    op.bulk_insert(scheduler, [{"id": 1, "is_paused": False, "max_node_errors": 50,
                                "node_error_period": 60, "created": SEEDED, "last_modified": SEEDED}])


def _seed_type(key: str) -> sa.types.TypeEngine[Any]:
    """The type to bind a seeded job_type column with, from its values: typed binds are needed for
    JSON to be serialized, and for `alembic upgrade --sql` to render literals."""
    value = next(row[key] for row in SYSTEM_JOB_TYPES if row[key] is not None)
    kinds: tuple[tuple[type, sa.types.TypeEngine[Any]], ...] = (
        (dict, SeedJson()), (dt.datetime, TIMESTAMP), (bool, sa.Boolean()), (int, sa.Integer()),
        (float, sa.Float()), (str, sa.String()),
    )
    return next(sql_type for python_type, sql_type in kinds if isinstance(value, python_type))


def _create_tables() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("last_used", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_token_digest")),
        sa.UniqueConstraint("name", name=op.f("uq_api_token_name")),
    )
    op.create_table(
        "error",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=50), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("is_builtin", sa.Boolean(), nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_error")),
        sa.UniqueConstraint("name", name=op.f("uq_error_name")),
    )
    op.create_table(
        "node",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=250), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("slave_id", sa.String(length=250), nullable=True),
        sa.Column("is_paused", sa.Boolean(), nullable=False),
        sa.Column("is_paused_errors", sa.Boolean(), nullable=False),
        sa.Column("pause_reason", sa.String(length=250), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("archived", TIMESTAMP, nullable=True),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("last_offer", TIMESTAMP, nullable=True),
        sa.Column("scheduler_lease", sa.String(length=250), nullable=True),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.Column("cpus_total", sa.Double(), nullable=True),
        sa.Column("mem_total", sa.Double(), nullable=True),
        sa.Column("disk_total", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node")),
        sa.UniqueConstraint("hostname", name=op.f("uq_node_hostname")),
        sa.UniqueConstraint("slave_id", name=op.f("uq_node_slave_id")),
    )
    op.create_table(
        "queue_depth_priority",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("depth_time", TIMESTAMP, nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_depth_priority")),
    )
    op.create_table(
        "scheduler",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("is_paused", sa.Boolean(), nullable=False),
        sa.Column("max_node_errors", sa.Integer(), nullable=False),
        sa.Column("node_error_period", sa.Integer(), nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_scheduler_singleton")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler")),
    )
    op.create_table(
        "trigger_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=True),
        sa.Column("configuration", JSON_DOC, nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("archived", TIMESTAMP, nullable=True),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger_rule")),
    )
    op.create_table(
        "workspace",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=50), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("base_url", sa.String(length=1000), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("json_config", JSON_DOC, nullable=False),
        sa.Column("used_size", sa.BigInteger(), nullable=True),
        sa.Column("total_size", sa.BigInteger(), nullable=True),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("archived", TIMESTAMP, nullable=True),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace")),
        sa.UniqueConstraint("name", name=op.f("uq_workspace_name")),
    )
    op.create_table(
        "job_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=50), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("author_name", sa.String(length=50), nullable=True),
        sa.Column("author_url", sa.String(length=500), nullable=True),
        sa.Column("is_system", sa.Boolean(), nullable=False),
        sa.Column("is_long_running", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_operational", sa.Boolean(), nullable=False),
        sa.Column("is_paused", sa.Boolean(), nullable=False),
        sa.Column("icon_code", sa.String(length=20), nullable=True),
        sa.Column("uses_docker", sa.Boolean(), nullable=False),
        sa.Column("docker_privileged", sa.Boolean(), nullable=False),
        sa.Column("docker_image", sa.String(length=500), nullable=True),
        sa.Column("revision_num", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("timeout", sa.Integer(), nullable=False),
        sa.Column("max_scheduled", sa.Integer(), nullable=True),
        sa.Column("max_tries", sa.Integer(), nullable=False),
        sa.Column("cpus_required", sa.Double(), nullable=False),
        sa.Column("mem_required", sa.Double(), nullable=False),
        sa.Column("disk_out_const_required", sa.Double(), nullable=False),
        sa.Column("disk_out_mult_required", sa.Double(), nullable=False),
        sa.Column("interface", JSON_DOC, nullable=False),
        sa.Column("error_mapping", JSON_DOC, nullable=False),
        sa.Column("trigger_rule_id", sa.Integer(), nullable=True),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("archived", TIMESTAMP, nullable=True),
        sa.Column("paused", TIMESTAMP, nullable=True),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["trigger_rule_id"], ["trigger_rule.id"], name=op.f("fk_job_type_trigger_rule_id_trigger_rule")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_type")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_job_type_name_version")),
    )
    op.create_table(
        "metrics_error",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred", sa.Date(), nullable=False),
        sa.Column("error_id", sa.Integer(), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=True),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["error_id"], ["error.id"], name=op.f("fk_metrics_error_error_id_error")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics_error")),
        sa.UniqueConstraint("occurred", "error_id", name=op.f("uq_metrics_error_occurred_error_id")),
    )
    op.create_table(
        "recipe_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=50), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("definition", JSON_DOC, nullable=False),
        sa.Column("revision_num", sa.Integer(), nullable=False),
        sa.Column("trigger_rule_id", sa.Integer(), nullable=True),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("archived", TIMESTAMP, nullable=True),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["trigger_rule_id"], ["trigger_rule.id"], name=op.f("fk_recipe_type_trigger_rule_id_trigger_rule")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe_type")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_recipe_type_name_version")),
    )
    op.create_table(
        "trigger_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("description", JSON_DOC, nullable=False),
        sa.Column("occurred", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["trigger_rule.id"], name=op.f("fk_trigger_event_rule_id_trigger_rule")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger_event")),
    )
    op.create_table(
        "job_load",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_type_id", sa.Integer(), nullable=False),
        sa.Column("measured", TIMESTAMP, nullable=False),
        sa.Column("pending_count", sa.Integer(), nullable=False),
        sa.Column("queued_count", sa.Integer(), nullable=False),
        sa.Column("running_count", sa.Integer(), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["job_type_id"], ["job_type.id"], name=op.f("fk_job_load_job_type_id_job_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_load")),
    )
    op.create_table(
        "job_type_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_type_id", sa.Integer(), nullable=False),
        sa.Column("revision_num", sa.Integer(), nullable=False),
        sa.Column("interface", JSON_DOC, nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["job_type_id"], ["job_type.id"], name=op.f("fk_job_type_revision_job_type_id_job_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_type_revision")),
        sa.UniqueConstraint("job_type_id", "revision_num", name=op.f("uq_job_type_revision_job_type_id_revision_num")),
    )
    op.create_table(
        "metrics_job_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred", sa.Date(), nullable=False),
        sa.Column("job_type_id", sa.Integer(), nullable=False),
        sa.Column("completed_count", sa.Integer(), nullable=True),
        sa.Column("failed_count", sa.Integer(), nullable=True),
        sa.Column("canceled_count", sa.Integer(), nullable=True),
        sa.Column("total_count", sa.Integer(), nullable=True),
        sa.Column("error_system_count", sa.Integer(), nullable=True),
        sa.Column("error_algorithm_count", sa.Integer(), nullable=True),
        sa.Column("error_data_count", sa.Integer(), nullable=True),
        sa.Column("queue_time_sum", sa.Integer(), nullable=True),
        sa.Column("queue_time_min", sa.Integer(), nullable=True),
        sa.Column("queue_time_max", sa.Integer(), nullable=True),
        sa.Column("queue_time_avg", sa.Integer(), nullable=True),
        sa.Column("pre_time_sum", sa.Integer(), nullable=True),
        sa.Column("pre_time_min", sa.Integer(), nullable=True),
        sa.Column("pre_time_max", sa.Integer(), nullable=True),
        sa.Column("pre_time_avg", sa.Integer(), nullable=True),
        sa.Column("job_time_sum", sa.Integer(), nullable=True),
        sa.Column("job_time_min", sa.Integer(), nullable=True),
        sa.Column("job_time_max", sa.Integer(), nullable=True),
        sa.Column("job_time_avg", sa.Integer(), nullable=True),
        sa.Column("post_time_sum", sa.Integer(), nullable=True),
        sa.Column("post_time_min", sa.Integer(), nullable=True),
        sa.Column("post_time_max", sa.Integer(), nullable=True),
        sa.Column("post_time_avg", sa.Integer(), nullable=True),
        sa.Column("run_time_sum", sa.Integer(), nullable=True),
        sa.Column("run_time_min", sa.Integer(), nullable=True),
        sa.Column("run_time_max", sa.Integer(), nullable=True),
        sa.Column("run_time_avg", sa.Integer(), nullable=True),
        sa.Column("stage_time_sum", sa.Integer(), nullable=True),
        sa.Column("stage_time_min", sa.Integer(), nullable=True),
        sa.Column("stage_time_max", sa.Integer(), nullable=True),
        sa.Column("stage_time_avg", sa.Integer(), nullable=True),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["job_type_id"], ["job_type.id"], name=op.f("fk_metrics_job_type_job_type_id_job_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics_job_type")),
        sa.UniqueConstraint("occurred", "job_type_id", name=op.f("uq_metrics_job_type_occurred_job_type_id")),
    )
    op.create_table(
        "queue_depth_job_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_type_id", sa.Integer(), nullable=False),
        sa.Column("depth_time", TIMESTAMP, nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["job_type_id"], ["job_type.id"], name=op.f("fk_queue_depth_job_type_job_type_id_job_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_depth_job_type")),
    )
    op.create_table(
        "recipe_type_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipe_type_id", sa.Integer(), nullable=False),
        sa.Column("revision_num", sa.Integer(), nullable=False),
        sa.Column("definition", JSON_DOC, nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["recipe_type_id"], ["recipe_type.id"], name=op.f("fk_recipe_type_revision_recipe_type_id_recipe_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe_type_revision")),
        sa.UniqueConstraint("recipe_type_id", "revision_num", name=op.f("uq_recipe_type_revision_recipe_type_id_revision_num")),
    )
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_type_id", sa.Integer(), nullable=False),
        sa.Column("job_type_rev_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=50), nullable=False),
        sa.Column("error_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("timeout", sa.Integer(), nullable=False),
        sa.Column("max_tries", sa.Integer(), nullable=False),
        sa.Column("num_exes", sa.Integer(), nullable=False),
        sa.Column("cpus_required", sa.Double(), nullable=False),
        sa.Column("mem_required", sa.Double(), nullable=False),
        sa.Column("disk_in_required", sa.Double(), nullable=True),
        sa.Column("disk_out_required", sa.Double(), nullable=True),
        sa.Column("data", JSON_DOC, nullable=False),
        sa.Column("results", JSON_DOC, nullable=True),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("queued", TIMESTAMP, nullable=True),
        sa.Column("started", TIMESTAMP, nullable=True),
        sa.Column("ended", TIMESTAMP, nullable=True),
        sa.Column("last_status_change", TIMESTAMP, nullable=True),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["error_id"], ["error.id"], name=op.f("fk_job_error_id_error")),
        sa.ForeignKeyConstraint(["event_id"], ["trigger_event.id"], name=op.f("fk_job_event_id_trigger_event")),
        sa.ForeignKeyConstraint(["job_type_id"], ["job_type.id"], name=op.f("fk_job_job_type_id_job_type")),
        sa.ForeignKeyConstraint(["job_type_rev_id"], ["job_type_revision.id"], name=op.f("fk_job_job_type_rev_id_job_type_revision")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_table(
        "recipe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipe_type_id", sa.Integer(), nullable=False),
        sa.Column("recipe_type_rev_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("data", JSON_DOC, nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("completed", TIMESTAMP, nullable=True),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["trigger_event.id"], name=op.f("fk_recipe_event_id_trigger_event")),
        sa.ForeignKeyConstraint(["recipe_type_id"], ["recipe_type.id"], name=op.f("fk_recipe_recipe_type_id_recipe_type")),
        sa.ForeignKeyConstraint(["recipe_type_rev_id"], ["recipe_type_revision.id"], name=op.f("fk_recipe_recipe_type_rev_id_recipe_type_revision")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe")),
    )
    op.create_table(
        "job_exe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=50), nullable=False),
        sa.Column("command_arguments", sa.Text(), nullable=True),
        sa.Column("timeout", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=True),
        sa.Column("error_id", sa.Integer(), nullable=True),
        sa.Column("environment", JSON_DOC, nullable=False),
        sa.Column("cpus_scheduled", sa.Double(), nullable=True),
        sa.Column("mem_scheduled", sa.Double(), nullable=True),
        sa.Column("disk_in_scheduled", sa.Double(), nullable=True),
        sa.Column("disk_out_scheduled", sa.Double(), nullable=True),
        sa.Column("disk_total_scheduled", sa.Double(), nullable=True),
        sa.Column("requires_cleanup", sa.Boolean(), nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("queued", TIMESTAMP, nullable=False),
        sa.Column("started", TIMESTAMP, nullable=True),
        sa.Column("pre_started", TIMESTAMP, nullable=True),
        sa.Column("pre_completed", TIMESTAMP, nullable=True),
        sa.Column("pre_exit_code", sa.Integer(), nullable=True),
        sa.Column("job_started", TIMESTAMP, nullable=True),
        sa.Column("job_completed", TIMESTAMP, nullable=True),
        sa.Column("job_exit_code", sa.Integer(), nullable=True),
        sa.Column("post_started", TIMESTAMP, nullable=True),
        sa.Column("post_completed", TIMESTAMP, nullable=True),
        sa.Column("post_exit_code", sa.Integer(), nullable=True),
        sa.Column("ended", TIMESTAMP, nullable=True),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.Column("results_manifest", JSON_DOC, nullable=True),
        sa.Column("results", JSON_DOC, nullable=True),
        sa.Column("stdout_path", sa.String(length=1000), nullable=True),
        sa.Column("stderr_path", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(["error_id"], ["error.id"], name=op.f("fk_job_exe_error_id_error")),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_job_exe_job_id_job")),
        sa.ForeignKeyConstraint(["node_id"], ["node.id"], name=op.f("fk_job_exe_node_id_node")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_exe")),
    )
    op.create_table(
        "recipe_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipe_id", sa.Integer(), nullable=False),
        sa.Column("job_name", sa.String(length=100), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("is_original", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_recipe_job_job_id_job")),
        sa.ForeignKeyConstraint(["recipe_id"], ["recipe.id"], name=op.f("fk_recipe_job_recipe_id_recipe")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipe_job")),
        sa.UniqueConstraint("recipe_id", "job_name", name=op.f("uq_recipe_job_recipe_id_job_name")),
    )
    op.create_table(
        "strike",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=50), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("configuration", JSON_DOC, nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_strike_job_id_job")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strike")),
        sa.UniqueConstraint("name", name=op.f("uq_strike_name")),
    )
    op.create_table(
        "metrics_ingest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred", sa.Date(), nullable=False),
        sa.Column("strike_id", sa.Integer(), nullable=False),
        sa.Column("deferred_count", sa.Integer(), nullable=True),
        sa.Column("ingested_count", sa.Integer(), nullable=True),
        sa.Column("errored_count", sa.Integer(), nullable=True),
        sa.Column("duplicate_count", sa.Integer(), nullable=True),
        sa.Column("total_count", sa.Integer(), nullable=True),
        sa.Column("file_size_sum", sa.BigInteger(), nullable=True),
        sa.Column("file_size_min", sa.BigInteger(), nullable=True),
        sa.Column("file_size_max", sa.BigInteger(), nullable=True),
        sa.Column("file_size_avg", sa.BigInteger(), nullable=True),
        sa.Column("transfer_time_sum", sa.Integer(), nullable=True),
        sa.Column("transfer_time_min", sa.Integer(), nullable=True),
        sa.Column("transfer_time_max", sa.Integer(), nullable=True),
        sa.Column("transfer_time_avg", sa.Integer(), nullable=True),
        sa.Column("ingest_time_sum", sa.Integer(), nullable=True),
        sa.Column("ingest_time_min", sa.Integer(), nullable=True),
        sa.Column("ingest_time_max", sa.Integer(), nullable=True),
        sa.Column("ingest_time_avg", sa.Integer(), nullable=True),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["strike_id"], ["strike.id"], name=op.f("fk_metrics_ingest_strike_id_strike")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics_ingest")),
        sa.UniqueConstraint("occurred", "strike_id", name=op.f("uq_metrics_ingest_occurred_strike_id")),
    )
    op.create_table(
        "queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_exe_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("job_type_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("cpus_required", sa.Double(), nullable=False),
        sa.Column("mem_required", sa.Double(), nullable=False),
        sa.Column("disk_in_required", sa.Double(), nullable=False),
        sa.Column("disk_out_required", sa.Double(), nullable=False),
        sa.Column("disk_total_required", sa.Double(), nullable=False),
        sa.Column("queued", TIMESTAMP, nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["job_exe_id"], ["job_exe.id"], name=op.f("fk_queue_job_exe_id_job_exe")),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_queue_job_id_job")),
        sa.ForeignKeyConstraint(["job_type_id"], ["job_type.id"], name=op.f("fk_queue_job_type_id_job_type")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue")),
        sa.UniqueConstraint("job_exe_id", name=op.f("uq_queue_job_exe_id")),
    )
    op.create_table(
        "scale_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_type", sa.String(length=50), nullable=False),
        sa.Column("file_name", sa.String(length=250), nullable=False),
        sa.Column("media_type", sa.String(length=250), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("data_type", JSON_DOC, nullable=False),
        sa.Column("file_path", sa.String(length=1000), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("is_deleted", sa.Boolean(), nullable=False),
        sa.Column("uuid", sa.String(length=32), nullable=False),
        sa.Column("deleted", TIMESTAMP, nullable=True),
        sa.Column("data_started", TIMESTAMP, nullable=True),
        sa.Column("data_ended", TIMESTAMP, nullable=True),
        sa.Column("geometry", geometry_column("GEOMETRY"), nullable=True),
        sa.Column("center_point", geometry_column("POINT"), nullable=True),
        sa.Column("meta_data", JSON_DOC, nullable=True),
        sa.Column("countries", JSON_DOC, nullable=False),
        sa.Column("is_parsed", sa.Boolean(), nullable=False),
        sa.Column("parsed", TIMESTAMP, nullable=True),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.Column("job_exe_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("job_type_id", sa.Integer(), nullable=True),
        sa.Column("recipe_id", sa.Integer(), nullable=True),
        sa.Column("is_operational", sa.Boolean(), nullable=True),
        sa.Column("has_been_published", sa.Boolean(), nullable=False),
        sa.Column("is_published", sa.Boolean(), nullable=False),
        sa.Column("published", TIMESTAMP, nullable=True),
        sa.Column("unpublished", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["job_exe_id"], ["job_exe.id"], name=op.f("fk_scale_file_job_exe_id_job_exe")),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_scale_file_job_id_job")),
        sa.ForeignKeyConstraint(["job_type_id"], ["job_type.id"], name=op.f("fk_scale_file_job_type_id_job_type")),
        sa.ForeignKeyConstraint(["recipe_id"], ["recipe.id"], name=op.f("fk_scale_file_recipe_id_recipe")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_scale_file_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scale_file")),
    )
    op.create_table(
        "file_ancestry_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ancestor_id", sa.Integer(), nullable=False),
        sa.Column("descendant_id", sa.Integer(), nullable=True),
        sa.Column("job_exe_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("recipe_id", sa.Integer(), nullable=True),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["ancestor_id"], ["scale_file.id"], name=op.f("fk_file_ancestry_link_ancestor_id_scale_file")),
        sa.ForeignKeyConstraint(["descendant_id"], ["scale_file.id"], name=op.f("fk_file_ancestry_link_descendant_id_scale_file")),
        sa.ForeignKeyConstraint(["job_exe_id"], ["job_exe.id"], name=op.f("fk_file_ancestry_link_job_exe_id_job_exe")),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_file_ancestry_link_job_id_job")),
        sa.ForeignKeyConstraint(["recipe_id"], ["recipe.id"], name=op.f("fk_file_ancestry_link_recipe_id_recipe")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_ancestry_link")),
    )
    op.create_table(
        "ingest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=250), nullable=False),
        sa.Column("strike_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=50), nullable=False),
        sa.Column("bytes_transferred", sa.BigInteger(), nullable=True),
        sa.Column("transfer_started", TIMESTAMP, nullable=True),
        sa.Column("transfer_ended", TIMESTAMP, nullable=True),
        sa.Column("media_type", sa.String(length=250), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("data_type", JSON_DOC, nullable=False),
        sa.Column("ingest_started", TIMESTAMP, nullable=True),
        sa.Column("ingest_ended", TIMESTAMP, nullable=True),
        sa.Column("source_file_id", sa.Integer(), nullable=True),
        sa.Column("transfer_path", sa.String(length=1000), nullable=True),
        sa.Column("file_path", sa.String(length=1000), nullable=True),
        sa.Column("ingest_path", sa.String(length=1000), nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("last_modified", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_ingest_job_id_job")),
        sa.ForeignKeyConstraint(["source_file_id"], ["scale_file.id"], name=op.f("fk_ingest_source_file_id_scale_file")),
        sa.ForeignKeyConstraint(["strike_id"], ["strike.id"], name=op.f("fk_ingest_strike_id_strike")),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_ingest_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest")),
    )
