"""Parse Trigger Configuration Specification 1.0: which parsed source files trigger a rule.

Its shape, defaults and rules are those of the ingest trigger configuration, so this module
shares that implementation rather than copying it."""

from __future__ import annotations

from scale.specs.ingest_trigger import CURRENT_VERSION, SCHEMA, FileTriggerConfiguration
from scale.specs.ingest_trigger import parse as _parse_file_trigger

__all__ = ["CURRENT_VERSION", "SCHEMA", "ParseTriggerConfiguration", "parse"]

ParseTriggerConfiguration = FileTriggerConfiguration


def parse(doc: object) -> ParseTriggerConfiguration:
    """Validate a parse trigger configuration; raises ValidationError naming the field."""
    return _parse_file_trigger(doc)
