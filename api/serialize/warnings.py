from __future__ import annotations

from typing import Any

from scale.definitions.fields import ValidationWarning


def validation_result(warnings: list[ValidationWarning]) -> dict[str, Any]:
    """The validation response of job types, recipe types and configuration imports."""
    return {"warnings": [warning.to_dict() for warning in warnings]}
