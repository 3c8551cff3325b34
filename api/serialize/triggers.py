from __future__ import annotations

from typing import Any

from scale.models.triggers import TriggerRule
from scale.timeutil import to_iso


def trigger_rule_detail(rule: TriggerRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "id": rule.id, "type": rule.type, "name": rule.name, "is_active": rule.is_active,
        "configuration": rule.configuration, "created": to_iso(rule.created),
        "archived": to_iso(rule.archived), "last_modified": to_iso(rule.last_modified),
    }
