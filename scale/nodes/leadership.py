"""Who leads: the one scheduler of a cluster, a local scheduler's node, and each clock's sign of life.

A role (`Leadership.role`) is held by one process (`holder`, "host:pid:random"), which renews it
every heartbeat. Another process takes it only when the lease has gone stale (not renewed for
`LEASE_SECONDS`) or, on the same host, its holder's process is gone: a standby scheduler waits
until then, so at most one scheduler places work at a time, and a `kill -9` of the leader hands
over within LEASE_SECONDS plus one heartbeat. Clocks report in under roles of their own
(several may run; the rules' row locks make each slot fire once): they are shown, not elected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scale.models.nodes import Leadership
from scale.models.triggers import TriggerEvent, TriggerRule, TriggerRuleType
from scale.timeutil import as_utc, utcnow

# A lease not renewed for this long is free. The scheduler renews it every 5 s heartbeat, so
# one late heartbeat does not hand it over, and a standby takes over within 8 + 5 s.
LEASE_SECONDS = 8.0
SCHEDULER_ROLE = "scheduler"
# A clock ticks every minute on the minute; one that missed two ticks is not running.
CLOCK_ONLINE_SECONDS = 150.0
CLOCK_ROLE_PREFIX = "clock@"


def node_role(hostname: str) -> str:
    """The role of a local scheduler: the one node it runs."""
    return f"{SCHEDULER_ROLE}@{hostname}"


def lead(session: Session, role: str, holder: str, *, holder_is_alive: Callable[[str], bool] = lambda _h: True,
         now: dt.datetime | None = None) -> bool:
    """Take or renew `role` for `holder`; False while another live holder's lease is fresh.
    Locks the role's row, so two contenders never both win."""
    now = now or utcnow()
    row = _locked(session, role)
    if row is None:
        try:
            with session.begin_nested():  # two first contenders: one insert wins
                session.add(Leadership(role=role, holder=holder, acquired=now, renewed=now))
                session.flush()
            return True
        except IntegrityError:
            row = _locked(session, role)
            assert row is not None
    if row.holder is not None and row.holder != holder and _fresh(row, now) and holder_is_alive(row.holder):
        return False
    if row.holder != holder:
        row.holder, row.acquired = holder, now
    row.renewed = now
    session.flush()
    return True


def resign(session: Session, role: str, holder: str) -> None:
    """A holder stopping cleanly lets the role go at once, so a standby need not wait."""
    session.execute(update(Leadership).where(Leadership.role == role, Leadership.holder == holder)
                    .values(holder=None))


def report_in(session: Session, role: str, holder: str, now: dt.datetime | None = None) -> None:
    """Record that `holder` is alive in `role` (a clock's tick): no election, last writer wins."""
    if not lead(session, role, holder, holder_is_alive=lambda _h: False, now=now):
        raise AssertionError("a role taken with holder_is_alive false is always taken")


@dataclass(frozen=True)
class Holder:
    """A role's holder as /api/status/ shows it."""

    role: str
    holder: str | None
    renewed: dt.datetime | None
    is_online: bool

    @property
    def hostname(self) -> str | None:
        return self.holder.partition(":")[0] if self.holder else None


def scheduler_leader(session: Session, now: dt.datetime | None = None) -> Holder | None:
    """The scheduler that leads now (cluster-wide, or the freshest local one), else the one that
    renewed last; None when no scheduler ever ran."""
    rows = session.scalars(select(Leadership).where(
        (Leadership.role == SCHEDULER_ROLE) | Leadership.role.startswith(f"{SCHEDULER_ROLE}@")))
    return _freshest(list(rows), now or utcnow(), LEASE_SECONDS)


def clock_status(session: Session, now: dt.datetime | None = None) -> tuple[Holder | None, dt.datetime | None]:
    """The clock that reported in last (online while it ticks) and when a clock rule last fired."""
    now = now or utcnow()
    clocks = list(session.scalars(select(Leadership).where(Leadership.role.startswith(CLOCK_ROLE_PREFIX))))
    last_fire = session.scalar(select(TriggerEvent.occurred).join(TriggerRule, TriggerRule.id == TriggerEvent.rule_id)
                               .where(TriggerRule.type == TriggerRuleType.CLOCK)
                               .order_by(TriggerEvent.occurred.desc()).limit(1))
    return _freshest(clocks, now, CLOCK_ONLINE_SECONDS), last_fire


def _freshest(rows: list[Leadership], now: dt.datetime, window: float) -> Holder | None:
    held = [row for row in rows if row.holder is not None and row.renewed is not None]
    if not held:
        return None
    row = max(held, key=lambda r: as_utc(r.renewed))  # type: ignore[arg-type]
    return Holder(row.role, row.holder, row.renewed, _fresh(row, now, window))


def _fresh(row: Leadership, now: dt.datetime, window: float = LEASE_SECONDS) -> bool:
    return row.renewed is not None and as_utc(row.renewed) >= now - dt.timedelta(seconds=window)


def _locked(session: Session, role: str) -> Leadership | None:
    return session.scalar(select(Leadership).where(Leadership.role == role).with_for_update()
                          .execution_options(populate_existing=True))
