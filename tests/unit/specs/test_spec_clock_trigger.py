"""Clock Trigger Configuration 1.0."""

import datetime as dt

import pytest

from scale.exceptions import ValidationError
from scale.specs import clock_trigger

# Reference, "Clock Triggers".
EXAMPLE = {"version": "1.0", "event_type": "MY_METRICS", "schedule": "PT1H0M0S"}


def test_reference_example():
    config = clock_trigger.parse(EXAMPLE)
    assert config.period == dt.timedelta(hours=1)
    assert config.to_dict() == EXAMPLE


def test_version_defaults_and_minute_schedules():
    config = clock_trigger.parse({"event_type": "E", "schedule": "PT5M"})
    assert config.to_dict()["version"] == "1.0"
    assert config.period == dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({**EXAMPLE, "version": "2"}, "version"),
        ({"schedule": "PT1H"}, "event_type"),
        ({"event_type": "E"}, "schedule"),
        ({"event_type": "", "schedule": "PT1H"}, "event_type"),
        ({"event_type": "E", "schedule": "hourly"}, "schedule"),
        ({"event_type": "E", "schedule": "P1D"}, "schedule"),
        ({"event_type": "E", "schedule": "P1DT1H"}, "schedule"),
        ({"event_type": "E", "schedule": "PT30S"}, "schedule"),
        ({"event_type": "E", "schedule": "PT0H0M0S"}, "schedule"),
        ({"event_type": "E", "schedule": 3600}, "schedule"),
        ({**EXAMPLE, "name": "x"}, "name"),
    ],
)
def test_invalid_configurations_name_the_field(doc, field):
    with pytest.raises(ValidationError) as caught:
        clock_trigger.parse(doc)
    assert caught.value.field == field
