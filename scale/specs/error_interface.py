"""Error Interface Specification 1.0: a job type's exit codes mapped to Scale error names.

Exit codes are JSON object keys, so strings; each must be an integer (`"1"`, `"-2"`). They are
normalized (`"01"` becomes `"1"`), and two keys meaning the same code are refused. Whether each
error name exists is a database question, left to the services (`error_names()`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scale.exceptions import ValidationError
from scale.specs._schema import validate_document

CURRENT_VERSION = "1.0"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["exit_codes"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "exit_codes": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}},
    },
}


@dataclass(frozen=True)
class ErrorInterface:
    exit_codes: dict[int, str] = field(default_factory=dict)
    version: str = CURRENT_VERSION

    def __hash__(self) -> int:
        return hash((self.version, tuple(sorted(self.exit_codes.items()))))

    def error_names(self) -> list[str]:
        """The distinct error names mapped, sorted."""
        return sorted(set(self.exit_codes.values()))

    def error_for_exit_code(self, code: int) -> str | None:
        """The error name for `code`, or None when the code is not mapped."""
        return self.exit_codes.get(code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "exit_codes": {str(code): name for code, name in sorted(self.exit_codes.items())},
        }


def parse(doc: object) -> ErrorInterface:
    """Validate an error interface document; raises ValidationError naming the field."""
    version = validate_document(doc, {CURRENT_VERSION: SCHEMA}, CURRENT_VERSION)
    assert isinstance(doc, dict)
    exit_codes: dict[int, str] = {}
    for key, name in doc["exit_codes"].items():
        try:
            code = int(key.strip())
        except ValueError:
            raise ValidationError(f"exit_codes.{key}", f"{key!r} is not an integer exit code") from None
        if code in exit_codes:
            raise ValidationError(f"exit_codes.{key}", f"exit code {code} is mapped twice")
        exit_codes[code] = name
    return ErrorInterface(exit_codes, version)
