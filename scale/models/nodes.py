"""Nodes (machines that run job executions) and the scheduler's singleton settings row."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from scale.db import Base
from scale.models.types import Timestamp, created_column, last_modified_column
from scale.timeutil import utcnow

SCHEDULER_ID = 1


class Node(Base):
    """A machine the scheduler may place executions on.

    `is_paused_errors` is set when the scheduler paused the node itself because too many
    executions failed there with SYSTEM errors; `pause_reason` says why, for either kind of pause.
    The `*_total` resources are the node's last reported capacity (cpus, mem MiB, disk MiB)."""

    __tablename__ = "node"

    id: Mapped[int] = mapped_column(primary_key=True)
    hostname: Mapped[str] = mapped_column(String(250), unique=True)
    port: Mapped[int]
    slave_id: Mapped[str | None] = mapped_column(String(250), unique=True)
    is_paused: Mapped[bool] = mapped_column(default=False)
    is_paused_errors: Mapped[bool] = mapped_column(default=False)
    pause_reason: Mapped[str | None] = mapped_column(String(250))
    is_active: Mapped[bool] = mapped_column(default=True, index=True)
    archived: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    created: Mapped[dt.datetime] = created_column()
    last_offer: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    # The scheduler instance that runs this node's executions ("host:pid:nonce"); its
    # heartbeat is `last_offer`. Another scheduler takes the node only once that goes stale.
    scheduler_lease: Mapped[str | None] = mapped_column(String(250))
    last_modified: Mapped[dt.datetime] = last_modified_column()
    cpus_total: Mapped[float | None]
    mem_total: Mapped[float | None]
    disk_total: Mapped[float | None]


class Scheduler(Base):
    """The scheduler's settings: exactly one row, id 1, created by the initial migration.

    A node is paused for errors when it has `max_node_errors` SYSTEM failures within the last
    `node_error_period` seconds."""

    __tablename__ = "scheduler"
    __table_args__ = (CheckConstraint(f"id = {SCHEDULER_ID}", name="singleton"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=SCHEDULER_ID)
    is_paused: Mapped[bool] = mapped_column(default=False)
    max_node_errors: Mapped[int] = mapped_column(default=50)
    node_error_period: Mapped[int] = mapped_column(default=60)
    # Made once per database by migration 0003: tags this installation's job processes and
    # containers, so reaping never touches another Scale home's work on the same machine.
    installation_id: Mapped[str] = mapped_column(String(36))
    # One row: no point indexing its times.
    created: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    last_modified: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class Leadership(Base):
    """Which process holds a role and when it last renewed it: `scheduler` (the one scheduler of
    a cluster-wide resource manager), `scheduler@<node>` (a local scheduler's node), `clock@<id>`
    (each clock reports in). `scale.nodes.leadership` takes, renews and reads them."""

    __tablename__ = "leadership"

    role: Mapped[str] = mapped_column(String(250), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(250))
    acquired: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    renewed: Mapped[dt.datetime | None] = mapped_column(Timestamp)
