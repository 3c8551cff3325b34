"""Clock trigger rules (reference: Clock Triggers): which CLOCK rules are due, firing each once
per slot, and the processors that their names select.

A schedule is a period counted from the start of each UTC day: `PT1H0M0S` has slots at 00:00,
01:00, ... 23:00, and `PT7H0M0S` at 00:00, 07:00, 14:00 and 21:00, then midnight again. A rule
is due when a slot has come since the last event of its `event_type`; a late fire still aims at
the next slot (no drift), and after downtime the rule fires once, not once per missed slot.
A rule with no event yet behaves as if it fired at the start of today, so it waits for the
first slot after midnight; a daily (or longer) period's next slot would be tomorrow, so such a
rule fires at once instead of waiting a day.

Exactly one fire per slot: `fire_due_rules` locks every live CLOCK rule (in id order) before
it reads the last events, so a second clock waits for the first to commit and then sees its
events. The processor runs later, in a worker (`process_event`), in a transaction of its own."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scale.exceptions import NotFound
from scale.metrics import load, retention, rollup
from scale.models.triggers import TriggerEvent, TriggerRule, TriggerRuleType
from scale.specs import clock_trigger
from scale.timeutil import as_utc, to_iso, utcnow

logger = logging.getLogger(__name__)

DAY = dt.timedelta(days=1)

ClockProcessor = Callable[[Session, TriggerEvent], None]


def _start_of_day(moment: dt.datetime) -> dt.datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def next_slot(period: dt.timedelta, after: dt.datetime) -> dt.datetime:
    """The first slot of `period` strictly after `after`; every day starts a new series at midnight."""
    day_start = _start_of_day(after)
    passed = (after - day_start) // period
    return min(day_start + (passed + 1) * period, day_start + DAY)


def is_due(period: dt.timedelta, last: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a rule of `period` whose last event occurred at `last` (None: never) fires at `now`."""
    if last is None:
        day_start = _start_of_day(now)
        return now >= (day_start if period >= DAY else day_start + period)
    return now >= next_slot(period, last)


@dataclass(frozen=True)
class BuiltInRule:
    name: str
    event_type: str
    schedule: str


BUILT_IN_RULES = (
    BuiltInRule(rollup.PROCESSOR_NAME, "SCALE_METRICS", "PT1H0M0S"),
    BuiltInRule(load.PROCESSOR_NAME, "SCALE_LOAD", "PT1M0S"),
    BuiltInRule(retention.PROCESSOR_NAME, "SCALE_CLEANUP", "PT24H0M0S"),
)

# The processor each rule name selects (the reference's "clock event processor registration").
PROCESSORS: Mapping[str, ClockProcessor] = {
    rollup.PROCESSOR_NAME: rollup.process_clock_event,
    load.PROCESSOR_NAME: load.process_clock_event,
    retention.PROCESSOR_NAME: retention.process_clock_event,
}


def ensure_built_in_rules(session: Session) -> list[TriggerRule]:
    """Create the built-in CLOCK rules that do not exist yet (by name); returns those created.
    An edited built-in rule (its schedule, or inactive) is left as it is."""
    existing = set(session.scalars(select(TriggerRule.name).where(TriggerRule.type == TriggerRuleType.CLOCK,
                                                                  TriggerRule.archived.is_(None))))
    now = utcnow()
    created = [TriggerRule(type=TriggerRuleType.CLOCK, name=rule.name, is_active=True, created=now,
                           last_modified=now,
                           configuration={"version": clock_trigger.CURRENT_VERSION, "event_type": rule.event_type,
                                          "schedule": rule.schedule})
               for rule in BUILT_IN_RULES if rule.name not in existing]
    session.add_all(created)
    session.flush()
    return created


def fire_due_rules(session: Session, *, now: dt.datetime | None = None) -> list[TriggerEvent]:
    """Record a trigger event for every live CLOCK rule that is due at `now`; returns them.
    Locks the rules' rows first (see the module docstring). Rules sharing an event type fire
    once between them; a rule whose name selects no processor is skipped and logged."""
    now = as_utc(now or utcnow())
    rules = session.scalars(select(TriggerRule)
                            .where(TriggerRule.type == TriggerRuleType.CLOCK, TriggerRule.is_active,
                                   TriggerRule.archived.is_(None))
                            .order_by(TriggerRule.id).with_for_update()).all()
    fired: list[TriggerEvent] = []
    for rule in rules:
        if rule.name not in PROCESSORS:
            logger.warning("clock rule %s (%r) selects no processor; skipped", rule.id, rule.name)
            continue
        configuration = clock_trigger.parse(rule.configuration)
        last = session.scalar(select(func.max(TriggerEvent.occurred))
                              .where(TriggerEvent.type == configuration.event_type))
        if not is_due(configuration.period, as_utc(last) if last is not None else None, now):
            continue
        event = TriggerEvent(type=configuration.event_type, rule_id=rule.id, occurred=now,
                             description={"rule": rule.name, "schedule": configuration.schedule,
                                          "slot": to_iso(_slot_at(configuration.period, now))})
        session.add(event)
        session.flush()  # the next rule of this event type must see it
        fired.append(event)
    return fired


def _slot_at(period: dt.timedelta, now: dt.datetime) -> dt.datetime:
    """The latest slot at or before `now`."""
    day_start = _start_of_day(now)
    return day_start + ((now - day_start) // period) * period


def process_event(session: Session, event_id: int) -> TriggerEvent:
    """Run the processor that the event's rule name selects. Processors are idempotent, so a
    redelivered event does its work once."""
    event = session.get(TriggerEvent, event_id)
    if event is None or event.rule is None or event.rule.type != TriggerRuleType.CLOCK:
        raise NotFound(f"there is no clock trigger event {event_id}")
    processor = PROCESSORS.get(event.rule.name or "")
    if processor is None:
        raise NotFound(f"clock trigger event {event_id}: no processor is named {event.rule.name!r}")
    processor(session, event)
    return event
