"""The shared helper of the spec modules: JSON Schema validation whose error names the field.

Every spec module validates the shape of its document here first, then checks the rules a
schema cannot express (unique names, references, cycles) in Python with the same field paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from scale.exceptions import ValidationError

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


# Deeper than any Scale document nests; a deeper one is refused before it can exhaust the stack.
MAX_JSON_DEPTH = 64


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is too large for a number")
    return value


def parse_json_text(raw: bytes | str, *, field: str = "body") -> Any:
    """JSON text as Python values, refusing what would be stored and then break: NaN, Infinity
    and numbers too large for a double (1e400), lone surrogates (PostgreSQL cannot encode them),
    NUL characters (PostgreSQL text cannot hold them), and nesting deeper than MAX_JSON_DEPTH.
    Anything refused is a ValidationError naming `field` (or the path within it)."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValidationError(field, f"is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except UnicodeDecodeError:
        raise ValidationError(field, "is not UTF-8 text") from None
    except ValueError as error:
        raise ValidationError(field, f"is not valid JSON ({error})") from None
    _refuse_unstorable(value, field)
    return value


def _refuse_unstorable(value: Any, field: str) -> None:
    """Walk `value` with a stack of its own (it may be deep) and refuse what parse_json_text says."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if len(path) > MAX_JSON_DEPTH:
            raise ValidationError(field, f"is nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(item, str):
            _refuse_bad_text(item, field, path)
        elif isinstance(item, dict):
            for key, child in item.items():
                _refuse_bad_text(key, field, path)
                stack.append((child, (*path, key)))
        elif isinstance(item, list):
            stack.extend((child, (*path, index)) for index, child in enumerate(item))


def _refuse_bad_text(text: str, field: str, path: tuple[str | int, ...]) -> None:
    # Fields of a request body are named from its top (`name`, not `body.name`).
    where = field_path(path if field == "body" else (field, *path)) or field
    if "\x00" in text:  # PostgreSQL text cannot hold NUL
        raise ValidationError(where, "must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(where, "must not contain lone surrogates (\\ud800-\\udfff)") from None


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
        return f"must be of type {_choices(value, ' or ')}"
    if error.validator == "minItems":
        return f"must have at least {value} item(s)"
    if error.validator == "minLength":
        return "must not be empty" if value == 1 else f"must have at least {value} characters"
    if error.validator == "pattern" and "x-message" in error.schema:  # plain words beat a regex
        return f"{_short(error.instance)}: {error.schema['x-message']}"
    if error.validator == "enum":
        return f"{_short(error.instance)} is not one of {_choices(value, ', ')}"
    if error.validator == "const":
        return f"{_short(error.instance)} is not {_choices([value], '')}"
    if error.validator == "pattern":
        return f"{_short(error.instance)} is not valid (pattern {_short(value)})"
    message = str(error.message)
    return message if len(message) <= 300 else message[:297] + "..."


def _choices(values: object, separator: str) -> str:
    """The allowed values as a client reads them (`QUEUED, RUNNING`): `str()` of each, so a
    StrEnum member reads as its value, never as Python's repr of it."""
    if not isinstance(values, list | tuple):
        values = [values]
    return separator.join(json.dumps(v) if v is None or isinstance(v, bool) else str(v) for v in values)


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
