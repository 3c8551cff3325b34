"""A standby scheduler, and a clock that shows it is alive.

* `leadership`: which process holds a role and when it last renewed it. The scheduler of a
  cluster-wide resource manager (celery, mesos) leads through the `scheduler` row; another one
  waits and takes over once the lease has gone stale. Each clock reports in through its own
  row, so /api/status/ can say whether a clock is running.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leadership",
        sa.Column("role", sa.String(250), nullable=False),
        sa.Column("holder", sa.String(250), nullable=True),
        sa.Column("acquired", sa.DateTime(timezone=True), nullable=True),
        sa.Column("renewed", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_leadership")),
    )


def downgrade() -> None:
    op.drop_table("leadership")
