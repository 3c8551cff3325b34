"""Clock Trigger Configuration Specification 1.0: an event fired on a schedule within each day.

`schedule` is an ISO-8601 period of hours, minutes and seconds (`PT1H0M0S`). As the reference
says, days are not supported and the clock cannot fire more often than once a minute, so a
period with a date part (`P1D`) or shorter than a minute is refused."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from scale.exceptions import ValidationError
from scale.specs._schema import validate_document
from scale.timeutil import parse_duration

CURRENT_VERSION = "1.0"
MINIMUM_PERIOD = dt.timedelta(minutes=1)
# The clock event processors Scale registers (reference: "clock event processor registration"),
# selected by a CLOCK rule's name; `scale.triggers.clock.PROCESSORS` maps each to its code.
METRICS_PROCESSOR = "scale-metrics"
LOAD_PROCESSOR = "scale-load"
CLEANUP_PROCESSOR = "scale-cleanup"
PROCESSOR_NAMES = (METRICS_PROCESSOR, LOAD_PROCESSOR, CLEANUP_PROCESSOR)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["event_type", "schedule"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "event_type": {"type": "string", "minLength": 1},
        "schedule": {"type": "string", "minLength": 1},
    },
}


@dataclass(frozen=True)
class ClockTriggerConfiguration:
    event_type: str
    schedule: str
    period: dt.timedelta
    version: str = CURRENT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "event_type": self.event_type, "schedule": self.schedule}


def parse(doc: object) -> ClockTriggerConfiguration:
    """Validate a clock trigger configuration; raises ValidationError naming the field."""
    version = validate_document(doc, {CURRENT_VERSION: SCHEMA}, CURRENT_VERSION)
    assert isinstance(doc, dict)
    schedule = doc["schedule"]
    if not schedule.upper().startswith("PT"):
        raise ValidationError("schedule", f"{schedule!r} must be a period of hours, minutes and seconds (PT1H0M0S)")
    period = parse_duration(schedule, field="schedule")
    if period < MINIMUM_PERIOD:
        raise ValidationError("schedule", f"{schedule!r} is shorter than the clock's one minute resolution")
    return ClockTriggerConfiguration(doc["event_type"], schedule, period, version)


def check_processor_name(name: str | None, *, field: str = "name") -> None:
    """A CLOCK rule's name must select a registered processor; raises ValidationError on `field`."""
    if name not in PROCESSOR_NAMES:
        raise ValidationError(field, f"{name!r} is not a clock event processor; choose from "
                              f"{', '.join(sorted(PROCESSOR_NAMES))}")
