"""Clock trigger rules: slots aligned to the start of the day, one fire per slot, catch-up
after downtime, and the processor the rule's name selects (scale/triggers/clock.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from scale.exceptions import NotFound
from scale.models.metrics import JobLoad
from scale.models.triggers import TriggerEvent, TriggerRule
from scale.specs import clock_trigger
from scale.timeutil import UTC, as_utc
from scale.triggers import clock
from tests.factories import make_job_type, new_job, queued_job

HOURLY = dt.timedelta(hours=1)
DAILY = dt.timedelta(hours=24)


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize("period, last, now, due", [
    (HOURLY, None, at(2015, 1, 1, 1, 30), True),
    (HOURLY, None, at(2015, 1, 1, 0, 30), False),
    (HOURLY, at(2015, 1, 1, 11), at(2015, 1, 1, 12, 30), True),
    (HOURLY, at(2015, 1, 1, 12), at(2015, 1, 1, 12, 30), False),
    (HOURLY, at(2015, 1, 1, 5), at(2015, 1, 1, 23, 30), True),
    (DAILY, None, at(2015, 1, 10, 12, 30), True),
    (DAILY, at(2015, 1, 10), at(2015, 1, 10, 12, 30), False),
    (DAILY, at(2015, 1, 9, 0, 45, 30), at(2015, 1, 10, 0, 0, 30), True),
], ids=["hour-first", "hour-first-skip", "hour-last", "hour-last-skip", "hour-recover", "day-first",
        "day-last-skip", "day-last"])
def test_is_due_matches_the_issue_examples(period, last, now, due):
    assert clock.is_due(period, last, now) is due


def test_a_late_fire_still_aims_at_the_next_aligned_slot():
    assert clock.next_slot(HOURLY, at(2015, 1, 1, 11, 7)) == at(2015, 1, 1, 12)
    # A period that does not divide the day starts again at midnight.
    seven = dt.timedelta(hours=7)
    assert clock.next_slot(seven, at(2015, 1, 1, 21, 5)) == at(2015, 1, 2)
    assert clock.next_slot(seven, at(2015, 1, 2, 0, 1)) == at(2015, 1, 2, 7)


def clock_rule(db, name="scale-load", event_type="SCALE_LOAD", schedule="PT1H0M0S", **fields) -> TriggerRule:
    now = at(2015, 1, 1)
    rule = TriggerRule(type="CLOCK", name=name, created=now, last_modified=now,
                       configuration={"version": "1.0", "event_type": event_type, "schedule": schedule},
                       **{"is_active": True, **fields})
    db.add(rule)
    db.flush()
    return rule


def events(db, event_type="SCALE_LOAD") -> list[TriggerEvent]:
    return list(db.scalars(select(TriggerEvent).where(TriggerEvent.type == event_type).order_by(TriggerEvent.id)))


def test_fire_records_one_event_per_slot(db):
    rule = clock_rule(db)
    fired = clock.fire_due_rules(db, now=at(2015, 1, 1, 1, 0, 5))
    assert [(e.type, e.rule_id) for e in fired] == [("SCALE_LOAD", rule.id)]
    assert fired[0].description["slot"] == "2015-01-01T01:00:00.000Z"
    assert clock.fire_due_rules(db, now=at(2015, 1, 1, 1, 59)) == []
    assert len(clock.fire_due_rules(db, now=at(2015, 1, 1, 2, 0, 1))) == 1
    assert len(events(db)) == 2


def test_after_downtime_a_rule_fires_once_not_once_per_missed_slot(db):
    clock_rule(db)
    clock.fire_due_rules(db, now=at(2015, 1, 1, 1, 0, 5))
    assert len(clock.fire_due_rules(db, now=at(2015, 1, 1, 9, 30))) == 1  # 8 slots missed
    assert clock.fire_due_rules(db, now=at(2015, 1, 1, 9, 59)) == []
    assert len(events(db)) == 2


def test_rules_sharing_an_event_type_fire_once_between_them(db):
    clock_rule(db)
    clock_rule(db)
    assert len(clock.fire_due_rules(db, now=at(2015, 1, 1, 1, 0, 5))) == 1


def test_inactive_archived_and_unregistered_rules_do_not_fire(db):
    clock_rule(db, is_active=False)
    clock_rule(db, archived=at(2015, 1, 1))
    clock_rule(db, name="nobody-registered-this", event_type="ORPHAN")
    assert clock.fire_due_rules(db, now=at(2015, 1, 1, 5)) == []
    assert events(db) == [] and events(db, "ORPHAN") == []


def test_processing_an_event_runs_the_processor_its_rule_names(db):
    job_type = make_job_type(db, name="loaded")
    queued_job(db, job_type)
    new_job(db, job_type)
    clock_rule(db, schedule="PT1M0S")
    [event] = clock.fire_due_rules(db, now=at(2015, 1, 1, 0, 1, 2))
    clock.process_event(db, event.id)
    clock.process_event(db, event.id)  # a redelivered message takes no second sample
    samples = db.scalars(select(JobLoad).where(JobLoad.job_type_id == job_type.id)).all()
    assert [(s.pending_count, s.queued_count, s.running_count, s.total_count) for s in samples] == [(1, 1, 0, 2)]


def test_processing_a_non_clock_event_is_not_found(db):
    event = TriggerEvent(type="TEST", description={}, occurred=at(2015, 1, 1))
    db.add(event)
    db.flush()
    with pytest.raises(NotFound):
        clock.process_event(db, event.id)


def test_built_in_rules_are_created_once(db):
    created = clock.ensure_built_in_rules(db)
    assert sorted(rule.name for rule in created) == ["scale-cleanup", "scale-load", "scale-metrics"]
    assert {rule.configuration["schedule"] for rule in created} == {"PT1H0M0S", "PT1M0S", "PT24H0M0S"}
    assert clock.ensure_built_in_rules(db) == []


def test_the_metrics_rule_recomputes_yesterday_and_today(db):
    from scale.models.metrics import MetricsJobType
    from tests.metrics_fixtures import make_day

    make_day(db)
    clock_rule(db, name="scale-metrics", event_type="SCALE_METRICS")
    [event] = clock.fire_due_rules(db, now=at(2015, 1, 2, 1, 0, 1))
    clock.process_event(db, event.id)
    days = sorted({row.occurred for row in db.scalars(select(MetricsJobType))})
    assert days == [dt.date(2015, 1, 1), dt.date(2015, 1, 2)]


def test_cleanup_deletes_expired_samples_and_old_clock_events_but_the_newest(db):
    job_type = make_job_type(db, name="old")
    for days_ago in (100, 10):
        db.add(JobLoad(job_type_id=job_type.id, measured=at(2015, 6, 1) - dt.timedelta(days=days_ago)))
    rule = clock_rule(db, name="scale-cleanup", event_type="SCALE_CLEANUP", schedule="PT24H0M0S")
    load_rule = clock_rule(db, is_active=False)
    for day in (1, 2):
        db.add(TriggerEvent(type="SCALE_CLEANUP", rule_id=rule.id, description={}, occurred=at(2015, 5, day)))
    db.add(TriggerEvent(type="SCALE_LOAD", rule_id=load_rule.id, description={}, occurred=at(2015, 5, 1)))
    db.flush()
    [event] = clock.fire_due_rules(db, now=at(2015, 6, 1, 0, 0, 30))
    clock.process_event(db, event.id)
    samples = db.scalars(select(JobLoad.measured).where(JobLoad.job_type_id == job_type.id)).all()
    assert [as_utc(measured) for measured in samples] == [at(2015, 5, 22)]
    assert [as_utc(e.occurred) for e in events(db, "SCALE_CLEANUP")] == [at(2015, 6, 1, 0, 0, 30)]
    # The newest event of a type stays however old: the rule's schedule counts from it.
    assert [as_utc(e.occurred) for e in events(db, "SCALE_LOAD")] == [at(2015, 5, 1)]


def test_every_processor_name_the_spec_accepts_has_a_processor():
    assert set(clock.PROCESSORS) == set(clock_trigger.PROCESSOR_NAMES)
