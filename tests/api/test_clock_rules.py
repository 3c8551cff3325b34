"""A job type may carry a CLOCK rule whose name selects a clock processor; a bad schedule or
event type, or a name that selects nothing, is a 400 naming the field."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from scale.models.triggers import TriggerRule
from tests.factories import job_type_body


def clock_rule(name="scale-metrics", **configuration):
    return {"type": "CLOCK", "name": name,
            "configuration": {"version": "1.0", "event_type": "MY_METRICS", "schedule": "PT1H0M0S", **configuration}}


def test_a_clock_rule_naming_a_processor_is_accepted(client, token, db):
    resp = client.post("/api/job-types/", json=job_type_body(trigger_rule=clock_rule()), headers=token)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["trigger_rule"]["configuration"]["schedule"] == "PT1H0M0S"
    assert db.scalar(select(func.count()).select_from(TriggerRule).where(TriggerRule.type == "CLOCK")) == 1


@pytest.mark.parametrize("rule, field", [
    (clock_rule(schedule=""), "trigger_rule.configuration.schedule"),
    (clock_rule(schedule="invalid"), "trigger_rule.configuration.schedule"),
    (clock_rule(schedule="1H0M0S"), "trigger_rule.configuration.schedule"),
    (clock_rule(schedule="PT30S"), "trigger_rule.configuration.schedule"),
    (clock_rule(event_type=""), "trigger_rule.configuration.event_type"),
    (clock_rule(name="not-a-processor"), "trigger_rule.name"),
    ({"type": "CLOCK", "configuration": clock_rule()["configuration"]}, "trigger_rule.name"),
], ids=["empty-schedule", "invalid-schedule", "no-period-designator", "under-a-minute", "empty-event-type",
        "unregistered-name", "no-name"])
def test_a_bad_clock_rule_is_400_naming_the_field(client, token, db, rule, field):
    before = db.scalar(select(func.count()).select_from(TriggerRule))
    resp = client.post("/api/job-types/", json=job_type_body(trigger_rule=rule), headers=token)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["field"] == field
    assert db.scalar(select(func.count()).select_from(TriggerRule)) == before
