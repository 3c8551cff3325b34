"""Job Interface Specification 1.0: a job type's inputs, outputs and command line.

Command line contract (the reference only names the placeholders; the rest is decided here):

* `command_arguments` is cut into arguments on whitespace *before* anything is substituted, so
  a value such as `a b; rm -rf /` is always exactly one argv element and nothing is ever given
  to a shell. A `${...}` placeholder is never cut, even when the input name holds a space.
* `${name}` is replaced by the input's value: a property's string, a file input's absolute
  path, a files input's directory. It may sit inside a longer argument (`--in=${image}`).
* `${FLAG:name}` must be a whole argument. The text before the last colon is the flag, with
  surrounding whitespace removed. A flag ending in `=` is joined to the value (`${--level=:n}`
  gives `--level=3`); any other flag becomes its own element (`${-f :n}` gives `-f`, `3`).
* When an optional input has no value, every argument that mentions it is left out (the flag
  too). A required input without a value is an error when the argv is built.
* `${job_output_dir}` is the output directory; no input may be named `job_output_dir`.
* A placeholder naming no input is rejected at parse time (field `command_arguments`).

`shared_resources` appears only as `[]` in the reference; entries are accepted as objects with
a `name` and optional `type` and `required` (default true) and are kept as given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from scale.exceptions import ValidationError
from scale.specs._inputs import INPUT_SCHEMA, InputSpec, check_unique, inputs_from
from scale.specs._schema import NAME_SCHEMA, validate_document

__all__ = ["CURRENT_VERSION", "InputSpec", "JobInterface", "OutputSpec", "SharedResource", "parse"]

CURRENT_VERSION = "1.0"
JOB_OUTPUT_DIR = "job_output_dir"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["command", "command_arguments"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "command": {"type": "string", "minLength": 1},
        "command_arguments": {"type": "string"},
        "input_data": {"type": "array", "items": INPUT_SCHEMA},
        "output_data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "type"],
                "additionalProperties": False,
                "properties": {
                    "name": NAME_SCHEMA,
                    "type": {"enum": ["file", "files"]},
                    "required": {"type": "boolean"},
                    "media_type": {"type": "string"},
                },
            },
        },
        "shared_resources": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "type": {"type": "string"},
                    "required": {"type": "boolean"},
                },
            },
        },
    },
}

# An argument is a run of non-space characters in which a whole `${...}` counts as one character.
_ARGUMENT = re.compile(r"(?:\$\{[^}]*\}|\S)+")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class OutputSpec:
    """One declared output. `media_type` None means Scale guesses it from the file extension."""

    name: str
    type: Literal["file", "files"]
    required: bool = True
    media_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        if self.media_type is not None:
            doc["media_type"] = self.media_type
        return doc


@dataclass(frozen=True)
class SharedResource:
    name: str
    type: str | None = None
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "required": self.required}
        if self.type is not None:
            doc["type"] = self.type
        return doc


@dataclass(frozen=True)
class _Placeholder:
    name: str
    flag: str | None = None


_Part = str | _Placeholder


@dataclass(frozen=True)
class JobInterface:
    """A parsed job interface. Constructing one checks the command line against the inputs."""

    command: str
    command_arguments: str
    inputs: tuple[InputSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()
    shared_resources: tuple[SharedResource, ...] = ()
    version: str = CURRENT_VERSION
    _arguments: tuple[tuple[_Part, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        arguments = _compile(self.command_arguments, {spec.name for spec in self.inputs})
        object.__setattr__(self, "_arguments", arguments)

    def get_input(self, name: str) -> InputSpec | None:
        return next((spec for spec in self.inputs if spec.name == name), None)

    def get_output(self, name: str) -> OutputSpec | None:
        return next((spec for spec in self.outputs if spec.name == name), None)

    def build_argv(self, values: Mapping[str, str | None], job_output_dir: str) -> list[str]:
        """The arguments, with `values` (input name -> property value, file path or files
        directory; None or absent means no value) substituted per argument, never re-split.

        Raises ValidationError (field: the input name) when a required input has no value."""
        for spec in self.inputs:
            if spec.required and values.get(spec.name) is None:
                raise ValidationError(spec.name, "required input has no value")
        resolved = {**values, JOB_OUTPUT_DIR: job_output_dir}
        argv: list[str] = []
        for parts in self._arguments:
            argv.extend(_render(parts, resolved))
        return argv

    def command_argv(self, values: Mapping[str, str | None], job_output_dir: str) -> list[str]:
        """The full argv: `command` split on whitespace (no substitution), then build_argv."""
        return self.command.split() + self.build_argv(values, job_output_dir)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "command": self.command,
            "command_arguments": self.command_arguments,
            "input_data": [spec.to_dict() for spec in self.inputs],
            "output_data": [spec.to_dict() for spec in self.outputs],
            "shared_resources": [resource.to_dict() for resource in self.shared_resources],
        }


def parse(doc: object) -> JobInterface:
    """Validate a job interface document; raises ValidationError naming the field."""
    version = validate_document(doc, {CURRENT_VERSION: SCHEMA}, CURRENT_VERSION)
    assert isinstance(doc, dict)
    input_items = doc.get("input_data", [])
    output_items = doc.get("output_data", [])
    check_unique(
        [(f"input_data[{i}].name", item["name"]) for i, item in enumerate(input_items)]
        + [(f"output_data[{i}].name", item["name"]) for i, item in enumerate(output_items)]
    )
    for index, item in enumerate(input_items):
        if item["name"] == JOB_OUTPUT_DIR:
            raise ValidationError(f"input_data[{index}].name", f"{JOB_OUTPUT_DIR!r} is reserved")
    return JobInterface(
        command=doc["command"],
        command_arguments=doc["command_arguments"],
        inputs=inputs_from(input_items),
        outputs=tuple(
            OutputSpec(item["name"], item["type"], item.get("required", True), item.get("media_type"))
            for item in output_items
        ),
        shared_resources=tuple(
            SharedResource(item["name"], item.get("type"), item.get("required", True))
            for item in doc.get("shared_resources", [])
        ),
        version=version,
    )


def _compile(template: str, input_names: set[str]) -> tuple[tuple[_Part, ...], ...]:
    """Cut `template` into arguments, each a sequence of literal text and placeholders."""
    arguments = []
    for match in _ARGUMENT.finditer(template):
        text = match.group(0)
        parts: list[_Part] = []
        position = 0
        for placeholder in _PLACEHOLDER.finditer(text):
            parts.append(text[position : placeholder.start()])
            parts.append(_placeholder(placeholder.group(1), input_names))
            position = placeholder.end()
        parts.append(text[position:])
        parts = [part for part in parts if part != ""]
        if any(isinstance(part, str) and "${" in part for part in parts):
            raise ValidationError("command_arguments", f"{text!r} has a '${{' without a closing '}}'")
        flagged = [part for part in parts if isinstance(part, _Placeholder) and part.flag is not None]
        if flagged and len(parts) != 1:
            raise ValidationError("command_arguments", f"{text!r}: a ${{FLAG:name}} must be a whole argument")
        arguments.append(tuple(parts))
    return tuple(arguments)


def _placeholder(body: str, input_names: set[str]) -> _Placeholder:
    flag, colon, name = body.rpartition(":")
    if colon and not flag.strip():
        raise ValidationError("command_arguments", f"'${{{body}}}' has an empty flag")
    if name != JOB_OUTPUT_DIR and name not in input_names:
        raise ValidationError("command_arguments", f"'${{{body}}}' names no input")
    return _Placeholder(name, flag.strip() if colon else None)


def _render(parts: tuple[_Part, ...], values: Mapping[str, str | None]) -> list[str]:
    """One template argument as zero, one or two argv elements."""
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
            continue
        value = values.get(part.name)
        if value is None:
            return []  # an optional input without a value drops its whole argument
        if part.flag is None:
            text += value
        elif part.flag.endswith("="):
            return [part.flag + value]
        else:
            return [part.flag, value]
    return [text]
