"""Hardening: public workspaces and the installation id.

* `workspace.is_public`: anyone may download a public workspace's files; the others need a
  token (files under a workspace root may be anything its host path holds).
* `scheduler.installation_id`: a random id made once per database. Job processes and
  containers carry it, so reaping what a dead scheduler left touches only this installation's
  work, never another Scale home's on the same machine.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTERs, not batch: a batch copy of `workspace` would break the foreign keys that
    # point at it on SQLite (3.35+ adds and drops columns in place).
    op.add_column("workspace", sa.Column("is_public", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("scheduler") as batch:
        batch.add_column(sa.Column("installation_id", sa.String(36), nullable=True))
    op.execute(sa.text("UPDATE scheduler SET installation_id = :id").bindparams(id=uuid.uuid4().hex))
    with op.batch_alter_table("scheduler") as batch:
        batch.alter_column("installation_id", existing_type=sa.String(36), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("scheduler") as batch:
        batch.drop_column("installation_id")
    op.drop_column("workspace", "is_public")
