"""Trigger rules: a `type` (INGEST, PARSE, CLOCK) and the configuration document of that type.

The rule object, as a job type or recipe type carries it (reference "Trigger Rule Details" in
the job type services): `type` and `configuration` are required, `name` is optional and
`is_active` defaults to true. Field paths of configuration errors start at `configuration`,
the sibling of `type`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scale.exceptions import ValidationError
from scale.specs import clock_trigger, ingest_trigger, parse_trigger
from scale.specs._schema import validate

TriggerConfiguration = ingest_trigger.FileTriggerConfiguration | clock_trigger.ClockTriggerConfiguration

PARSERS: dict[str, Callable[[object], TriggerConfiguration]] = {
    "INGEST": ingest_trigger.parse,
    "PARSE": parse_trigger.parse,
    "CLOCK": clock_trigger.parse,
}

RULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "configuration"],
    "additionalProperties": False,
    "properties": {
        "type": {"type": "string"},
        "name": {"type": "string"},
        "is_active": {"type": "boolean"},
        "configuration": {"type": "object"},
    },
}


@dataclass(frozen=True)
class TriggerRule:
    type: str
    configuration: TriggerConfiguration
    name: str | None = None
    is_active: bool = True

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type}
        if self.name is not None:
            doc["name"] = self.name
        doc["is_active"] = self.is_active
        doc["configuration"] = self.configuration.to_dict()
        return doc


def parse_configuration(rule_type: str, configuration: object) -> TriggerConfiguration:
    """Parse `configuration` as the document of `rule_type`; an unknown type is a
    ValidationError on field `type`, a bad document one under `configuration`."""
    parser = PARSERS.get(rule_type)
    if parser is None:
        raise ValidationError("type", f"{rule_type!r} is not a trigger type ({', '.join(PARSERS)})")
    try:
        return parser(configuration)
    except ValidationError as error:
        raise error.within("configuration") from None


def parse_rule(doc: object) -> TriggerRule:
    """Validate a trigger rule object (`type`, `name`, `is_active`, `configuration`)."""
    validate(doc, RULE_SCHEMA)
    assert isinstance(doc, dict)
    return TriggerRule(
        type=doc["type"],
        configuration=parse_configuration(doc["type"], doc["configuration"]),
        name=doc.get("name"),
        is_active=doc.get("is_active", True),
    )
