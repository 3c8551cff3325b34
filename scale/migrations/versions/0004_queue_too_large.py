"""The scheduler never stalls behind work it cannot place.

* `queue.too_large`: set by the scheduler on a row that asks for more than every usable
  node's total, cleared when the nodes change. The claim reads the queue through
  `ix_queue_claim` (too_large, priority, queued, id), so rows set aside cost nothing however
  many there are, and the work behind them is claimed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("queue", sa.Column("too_large", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_queue_claim", "queue", ["too_large", "priority", "queued", "id"])


def downgrade() -> None:
    op.drop_index("ix_queue_claim", table_name="queue")
    with op.batch_alter_table("queue") as batch:
        batch.drop_column("too_large")
