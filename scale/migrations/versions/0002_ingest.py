"""Ingest and triggers: what Strike processes and trigger evaluation keep beyond 0001.

* `strike.is_active`: a deactivated Strike has no running job and is not restarted.
* `ingest.error`: why an ingest is ERRORED; `ingest.triggered`: when its ingest trigger rules
  were evaluated (null: not yet, so the clock's sweep sends the evaluation again).
* `scale_file.parse_triggered`: when parse trigger rules were last evaluated for the file.
* `trigger_event.source_file_id` with a unique index on (rule_id, source_file_id): a rule
  fires at most once for a file, so re-delivered evaluations create nothing twice.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("strike") as batch:
        batch.add_column(sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.create_index("ix_strike_is_active", ["is_active"])
    with op.batch_alter_table("ingest") as batch:
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("triggered", TIMESTAMP, nullable=True))
        batch.create_index("ix_ingest_triggered", ["triggered"])
    with op.batch_alter_table("scale_file") as batch:
        batch.add_column(sa.Column("parse_triggered", TIMESTAMP, nullable=True))
    with op.batch_alter_table("trigger_event") as batch:
        batch.add_column(sa.Column("source_file_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_trigger_event_source_file_id_scale_file", "scale_file",
                                 ["source_file_id"], ["id"])
        batch.create_index("ix_trigger_event_source_file_id", ["source_file_id"])
        batch.create_index("uq_trigger_event_rule_id_source_file_id", ["rule_id", "source_file_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("trigger_event") as batch:
        batch.drop_index("uq_trigger_event_rule_id_source_file_id")
        batch.drop_index("ix_trigger_event_source_file_id")
        batch.drop_constraint("fk_trigger_event_source_file_id_scale_file", type_="foreignkey")
        batch.drop_column("source_file_id")
    with op.batch_alter_table("scale_file") as batch:
        batch.drop_column("parse_triggered")
    with op.batch_alter_table("ingest") as batch:
        batch.drop_index("ix_ingest_triggered")
        batch.drop_column("triggered")
        batch.drop_column("error")
    with op.batch_alter_table("strike") as batch:
        batch.drop_index("ix_strike_is_active")
        batch.drop_column("is_active")
