"""Trigger rules linked to job types and recipe types through their `trigger_rule` field.

A rule body is `{"type", "configuration", "is_active"?, "name"?}`; `type` and
`configuration` are required when setting a rule (reference, Job Type Details)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from scale.exceptions import ValidationError
from scale.models.triggers import TriggerRule, TriggerRuleType
from scale.specs import trigger_rule as trigger_rule_spec
from scale.specs._fields import BOOLEAN, body_schema
from scale.specs._schema import validate
from scale.timeutil import utcnow

RULE_NAME_LENGTH = 50  # the trigger_rule.name column
# Only these events carry a file to feed a job or recipe input; a CLOCK event has none.
FILE_RULE_TYPES = (TriggerRuleType.INGEST, TriggerRuleType.PARSE)
RULE_SCHEMA = body_schema({
    "type": {"type": "string", "enum": ["INGEST", "PARSE", "CLOCK"]},
    "name": {"type": ["string", "null"], "maxLength": RULE_NAME_LENGTH},
    "is_active": BOOLEAN,
    "configuration": {"type": "object"},
}, required=("type", "configuration"))


def parse_rule(body: Any, *, field: str = "trigger_rule") -> dict[str, Any]:
    """The rule body validated and its configuration normalized; errors name `field.…`."""
    try:
        validate(body, RULE_SCHEMA)
        configuration = trigger_rule_spec.parse_configuration(body["type"], body["configuration"])
    except ValidationError as error:
        raise error.within(field) from None
    return {**body, "configuration": configuration.to_dict()}


def rule_input_name(rule: dict[str, Any]) -> str | None:
    """The input that a triggering file is fed to (`data.input_data_name`), if the rule has one."""
    return (rule["configuration"].get("data") or {}).get("input_data_name")


def rule_workspace_name(rule: dict[str, Any]) -> str | None:
    return (rule["configuration"].get("data") or {}).get("workspace_name")


def rule_media_type(rule: dict[str, Any]) -> str:
    """The media type a triggering file must have (`condition.media_type`); "" matches any."""
    return (rule["configuration"].get("condition") or {}).get("media_type") or ""


def rule_body(rule: TriggerRule) -> dict[str, Any]:
    """A stored rule as a rule body, the shape `parse_rule` returns."""
    return {"type": rule.type, "name": rule.name, "is_active": rule.is_active,
            "configuration": rule.configuration}


def create_rule(session: Session, rule: dict[str, Any], *, default_name: str) -> TriggerRule:
    """Store a rule parsed by `parse_rule`; one without a name gets `default_name`, cut to
    the column's length."""
    now = utcnow()
    record = TriggerRule(type=rule["type"], name=rule.get("name") or default_name[:RULE_NAME_LENGTH],
                         configuration=rule["configuration"], is_active=rule.get("is_active", True),
                         created=now, last_modified=now)
    session.add(record)
    session.flush()
    return record


def archive_rule(rule: TriggerRule) -> None:
    """A replaced or removed rule is archived, not deleted: events keep pointing at it."""
    now = utcnow()
    rule.is_active = False
    rule.archived = now
    rule.last_modified = now
