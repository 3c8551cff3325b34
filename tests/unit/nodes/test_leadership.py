"""Who leads (scale/nodes/leadership.py): one holder per role, handed over only when its
lease is stale or its process is gone, and what /api/status/ reads of it."""

from __future__ import annotations

import datetime as dt

from scale.nodes import leadership
from scale.timeutil import utcnow

T0 = dt.datetime(2026, 12, 8, 12, 0, tzinfo=dt.UTC)


def later(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_the_first_contender_leads_and_a_second_waits_while_the_lease_is_fresh(db):
    assert leadership.lead(db, "scheduler", "a:1:x", now=T0)
    assert not leadership.lead(db, "scheduler", "b:2:y", now=later(5))
    assert leadership.lead(db, "scheduler", "a:1:x", now=later(6))  # the holder renews
    assert not leadership.lead(db, "scheduler", "b:2:y", now=later(6 + leadership.LEASE_SECONDS - 1))


def test_a_stale_lease_is_taken_over(db):
    assert leadership.lead(db, "scheduler", "a:1:x", now=T0)
    assert leadership.lead(db, "scheduler", "b:2:y", now=later(leadership.LEASE_SECONDS + 1))
    assert not leadership.lead(db, "scheduler", "a:1:x", now=later(leadership.LEASE_SECONDS + 2))


def test_a_holder_whose_process_is_gone_is_replaced_at_once(db):
    assert leadership.lead(db, "scheduler", "a:1:x", now=T0)
    assert leadership.lead(db, "scheduler", "b:2:y", holder_is_alive=lambda holder: holder != "a:1:x", now=later(1))


def test_a_resigned_role_is_free_at_once(db):
    assert leadership.lead(db, "scheduler", "a:1:x", now=T0)
    leadership.resign(db, "scheduler", "a:1:x")
    assert leadership.lead(db, "scheduler", "b:2:y", now=later(1))


def test_status_names_the_leading_scheduler_and_the_clock(db):
    assert leadership.scheduler_leader(db) is None
    now = utcnow()
    leadership.lead(db, leadership.node_role("node-1"), "host-a:1:x", now=now - dt.timedelta(seconds=30))
    leadership.lead(db, "scheduler", "host-b:2:y", now=now)
    leader = leadership.scheduler_leader(db, now)
    assert leader is not None and (leader.holder, leader.hostname, leader.is_online) == ("host-b:2:y", "host-b", True)
    clock, last_fire = leadership.clock_status(db, now)
    assert clock is None and last_fire is None
    leadership.report_in(db, f"{leadership.CLOCK_ROLE_PREFIX}host-c:3:z", "host-c:3:z", now=now)
    clock, _ = leadership.clock_status(db, now + dt.timedelta(seconds=leadership.CLOCK_ONLINE_SECONDS + 1))
    assert clock is not None and clock.hostname == "host-c" and not clock.is_online
