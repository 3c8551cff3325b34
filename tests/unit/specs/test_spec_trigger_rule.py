"""Trigger rules: dispatch on the rule type, and the rule object of job and recipe types."""

import pytest

from scale.exceptions import ValidationError
from scale.specs import clock_trigger, ingest_trigger, trigger_rule

FILE_CONFIGURATION = {
    "version": "1.0",
    "condition": {"media_type": "image/png", "data_types": []},
    "data": {"input_data_name": "input_file", "workspace_name": "rs"},
}

# Reference, job type creation: the trigger_rule object.
RULE_EXAMPLE = {
    "type": "PARSE",
    "is_active": True,
    "configuration": {
        "version": "1.0",
        "condition": {"media_type": "image/png", "data_types": []},
        "data": {"input_data_name": "input_file", "workspace_name": "rs"},
    },
}


@pytest.mark.parametrize("rule_type", ["INGEST", "PARSE"])
def test_file_rule_types(rule_type):
    config = trigger_rule.parse_configuration(rule_type, FILE_CONFIGURATION)
    assert isinstance(config, ingest_trigger.FileTriggerConfiguration)
    assert config.to_dict() == FILE_CONFIGURATION


def test_clock_rule_type():
    config = trigger_rule.parse_configuration("CLOCK", {"event_type": "E", "schedule": "PT1H"})
    assert isinstance(config, clock_trigger.ClockTriggerConfiguration)


def test_unknown_rule_type():
    with pytest.raises(ValidationError) as caught:
        trigger_rule.parse_configuration("CRON", FILE_CONFIGURATION)
    assert caught.value.field == "type"


def test_configuration_errors_are_under_configuration():
    with pytest.raises(ValidationError) as caught:
        trigger_rule.parse_configuration("INGEST", {"data": {"input_data_name": "f"}})
    assert caught.value.field == "configuration.data.workspace_name"
    with pytest.raises(ValidationError) as caught:
        trigger_rule.parse_configuration("CLOCK", FILE_CONFIGURATION)
    assert caught.value.field == "configuration.event_type"


def test_rule_example_and_defaults():
    rule = trigger_rule.parse_rule(RULE_EXAMPLE)
    assert rule.to_dict() == RULE_EXAMPLE
    named = trigger_rule.parse_rule({"type": "PARSE", "name": "my-rule", "configuration": FILE_CONFIGURATION})
    assert named.is_active is True
    assert named.to_dict()["name"] == "my-rule"


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"configuration": FILE_CONFIGURATION}, "type"),
        ({"type": "PARSE"}, "configuration"),
        ({"type": "PARSE", "configuration": FILE_CONFIGURATION, "is_active": "yes"}, "is_active"),
        ({"type": "BOGUS", "configuration": FILE_CONFIGURATION}, "type"),
        ({"type": "PARSE", "configuration": {"version": "9"}}, "configuration.version"),
        ({"type": "PARSE", "configuration": FILE_CONFIGURATION, "id": 3}, "id"),
    ],
)
def test_invalid_rules_name_the_field(doc, field):
    with pytest.raises(ValidationError) as caught:
        trigger_rule.parse_rule(doc)
    assert caught.value.field == field
