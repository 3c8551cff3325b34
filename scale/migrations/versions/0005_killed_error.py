"""A killed job is retried.

* The SYSTEM error `killed`: a signal from outside ended the command (the kernel's
  out-of-memory killer, `kill -9`, a stop). SYSTEM errors are retried while tries remain, so an
  execution killed this way runs again; before, it was the final ALGORITHM `algorithm-unknown`.
  An installation that already has a user error called `killed` keeps it (names are unique);
  the runner then records its kills under that error.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KILLED = ("killed", "Killed",
          "A signal from outside ended the job's command (the out-of-memory killer, an operator, a node "
          "shutting down); the job is tried again while it has tries left.")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.scalar(sa.text("SELECT count(*) FROM error WHERE name = :name").bindparams(name=KILLED[0])):
        return
    now = dt.datetime.now(dt.UTC)
    error = sa.table("error", sa.column("name", sa.String), sa.column("title", sa.String),
                     sa.column("description", sa.Text), sa.column("category", sa.String),
                     sa.column("is_builtin", sa.Boolean), sa.column("created", sa.DateTime(timezone=True)),
                     sa.column("last_modified", sa.DateTime(timezone=True)))
    op.bulk_insert(error, [{"name": KILLED[0], "title": KILLED[1], "description": KILLED[2], "category": "SYSTEM",
                            "is_builtin": True, "created": now, "last_modified": now}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM error WHERE name = :name AND is_builtin").bindparams(name=KILLED[0]))
