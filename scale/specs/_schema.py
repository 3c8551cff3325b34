"""The shared helper of the spec modules: JSON Schema validation whose error names the field.

Every spec module validates the shape of its document here first, then checks the rules a
schema cannot express (unique names, references, cycles) in Python with the same field paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from scale.errors import ValidationError

# Input, output, recipe input and recipe job names: "less than 256 of alphanumeric, ' ', '_', '-'".
NAME_PATTERN = r"^[a-zA-Z0-9\-_ ]{1,255}$"

# In a schema, Python's `$` would also match before a trailing newline; `\Z` does not.
NAME_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": NAME_PATTERN.removesuffix("$") + r"\Z",
    "x-message": "must be 1 to 255 letters, digits, spaces, '_' or '-'",
}
STRING_LIST_SCHEMA: dict[str, Any] = {"type": "array", "items": {"type": "string"}}


def field_path(parts: Iterable[str | int]) -> str:
    """`["input_data", 2, "type"]` -> `input_data[2].type`."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def refuse_nul(value: Any, path: tuple[str | int, ...] = ()) -> None:
    """PostgreSQL text cannot hold NUL, so any string with one is bad input, named by its path."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError(field_path(path) or "body", "must not contain NUL characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key, path)
            refuse_nul(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            refuse_nul(item, (*path, index))


def validate(doc: object, schema: Mapping[str, Any]) -> None:
    """Raise ValidationError for the most relevant way `doc` breaks `schema` (jsonschema's
    best_match), its field being the path to the offending place."""
    error = best_match(_validator(schema).iter_errors(doc))
    if error is None:
        return
    parts: list[str | int] = list(error.absolute_path)
    problem = _problem(error)
    if error.validator == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = [name for name in error.validator_value if name not in instance]
        parts.append(missing[0])
        problem = "is required"
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        unknown = sorted(name for name in error.instance if name not in allowed)
        parts.append(unknown[0])
        problem = "is not an allowed field"
    raise ValidationError(field_path(parts) or None, problem)


def validate_document(doc: object, schemas: Mapping[str, Mapping[str, Any]], current: str) -> str:
    """Validate a versioned document and return its version.

    `schemas` maps each supported version to its schema; a missing `version` means `current`
    (every spec in the reference says so). An unknown version is refused with field `version`."""
    if not isinstance(doc, dict):
        raise ValidationError(None, "the document must be a JSON object")
    version = doc.get("version", current)
    if not isinstance(version, str) or version not in schemas:
        supported = ", ".join(sorted(schemas))
        raise ValidationError("version", f"{version!r} is not a supported version ({supported})")
    validate(doc, schemas[version])
    return version


def _problem(error: jsonschema.ValidationError) -> str:
    """A short message; jsonschema's own repeats the whole instance, which can be huge."""
    value = error.validator_value
    if error.validator == "type":
        return f"must be of type {value}"
    if error.validator == "minItems":
        return f"must have at least {value} item(s)"
    if error.validator == "minLength":
        return "must not be empty" if value == 1 else f"must have at least {value} characters"
    if error.validator == "pattern" and "x-message" in error.schema:  # plain words beat a regex
        return f"{_short(error.instance)}: {error.schema['x-message']}"
    if error.validator in ("pattern", "enum", "const"):
        return f"{_short(error.instance)} is not valid ({error.validator} {_short(value)})"
    message = str(error.message)
    return message if len(message) <= 300 else message[:297] + "..."


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


# Compiling a validator is costly and schemas are module constants: cache by identity, keeping
# the schema itself in the entry so its id cannot be reused while cached.
_VALIDATORS: dict[int, tuple[Mapping[str, Any], jsonschema.Draft7Validator]] = {}


def _validator(schema: Mapping[str, Any]) -> jsonschema.Draft7Validator:
    entry = _VALIDATORS.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = (schema, jsonschema.Draft7Validator(schema))
        _VALIDATORS[id(schema)] = entry
    return entry[1]
