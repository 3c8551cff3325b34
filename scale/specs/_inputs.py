"""Inputs and the data given to them, shared by job interface/data and recipe definition/data.

The reference defines recipe inputs exactly like job interface inputs (property, file, files
with `required` and `media_types`), and recipe data input entries exactly like job data ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from scale.exceptions import ValidationError
from scale.specs._schema import NAME_SCHEMA, STRING_LIST_SCHEMA

InputType = Literal["property", "file", "files"]

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "type"],
    "additionalProperties": False,
    "properties": {
        "name": NAME_SCHEMA,
        "type": {"enum": ["property", "file", "files"]},
        "required": {"type": "boolean"},
        "media_types": STRING_LIST_SCHEMA,
    },
}

DATA_INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "value": {"type": "string"},
        "file_id": {"type": "integer"},
        "file_ids": {"type": "array", "minItems": 1, "items": {"type": "integer"}},
    },
}


@dataclass(frozen=True)
class InputSpec:
    """One declared input. `media_types` empty means every media type is accepted."""

    name: str
    type: InputType
    required: bool = True
    media_types: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        if self.type != "property":
            doc["media_types"] = list(self.media_types)
        return doc


@dataclass(frozen=True)
class DataInput:
    """Data for one input: exactly one of `value`, `file_id`, `file_ids` is set."""

    name: str
    value: str | None = None
    file_id: int | None = None
    file_ids: tuple[int, ...] | None = None

    @property
    def all_file_ids(self) -> tuple[int, ...]:
        """The file ids this entry passes (a `file_id` is a list of one)."""
        if self.file_id is not None:
            return (self.file_id,)
        return self.file_ids or ()

    def to_dict(self) -> dict[str, Any]:
        if self.value is not None:
            return {"name": self.name, "value": self.value}
        if self.file_id is not None:
            return {"name": self.name, "file_id": self.file_id}
        return {"name": self.name, "file_ids": list(self.file_ids or ())}


def inputs_from(items: Sequence[Mapping[str, Any]], *, field: str = "input_data") -> tuple[InputSpec, ...]:
    """Input specs from schema-valid `items`; rejects a `property` with `media_types`."""
    specs = []
    for index, item in enumerate(items):
        if item["type"] == "property" and "media_types" in item:
            raise ValidationError(f"{field}[{index}].media_types", "a property input has no media_types")
        specs.append(
            InputSpec(
                name=item["name"],
                type=item["type"],
                required=item.get("required", True),
                media_types=tuple(item.get("media_types", ())),
            )
        )
    return tuple(specs)


def data_inputs_from(items: Sequence[Mapping[str, Any]], *, field: str = "input_data") -> tuple[DataInput, ...]:
    """Data entries from schema-valid `items`; each names a unique input and gives one datum."""
    entries = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        given = [key for key in ("value", "file_id", "file_ids") if key in item]
        if len(given) != 1:
            raise ValidationError(f"{field}[{index}]", "needs exactly one of value, file_id, file_ids")
        if item["name"] in seen:
            raise ValidationError(f"{field}[{index}].name", f"{item['name']!r} is given twice")
        seen.add(item["name"])
        file_ids = item.get("file_ids")
        entries.append(
            DataInput(
                name=item["name"],
                value=item.get("value"),
                file_id=int(item["file_id"]) if "file_id" in item else None,
                file_ids=tuple(int(i) for i in file_ids) if file_ids is not None else None,
            )
        )
    return tuple(entries)


def check_data_inputs(entries: Sequence[DataInput], inputs: Iterable[InputSpec], *, field: str = "input_data") -> None:
    """Data entries fit the declared inputs: no unknown name, the datum fits the input type
    (a `files` input also takes one `file_id`), and every required input has data."""
    by_name = {spec.name: spec for spec in inputs}
    for index, entry in enumerate(entries):
        spec = by_name.get(entry.name)
        if spec is None:
            raise ValidationError(f"{field}[{index}].name", f"there is no input named {entry.name!r}")
        if spec.type == "property" and entry.value is None:
            raise ValidationError(f"{field}[{index}]", f"property input {spec.name!r} needs a value")
        if spec.type == "file" and entry.file_id is None:
            raise ValidationError(f"{field}[{index}]", f"file input {spec.name!r} needs a file_id")
        if spec.type == "files" and entry.value is not None:
            raise ValidationError(f"{field}[{index}]", f"files input {spec.name!r} needs file_ids")
    given = {entry.name for entry in entries}
    for spec in by_name.values():
        if spec.required and spec.name not in given:
            raise ValidationError(field, f"required input {spec.name!r} has no data")


def check_unique(names: Iterable[tuple[str, str]]) -> None:
    """Raise for the first repeated name; `names` yields (field, name) pairs in document order."""
    seen: set[str] = set()
    for field, name in names:
        if name in seen:
            raise ValidationError(field, f"the name {name!r} is used more than once")
        seen.add(name)
