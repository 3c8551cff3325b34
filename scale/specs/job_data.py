"""Job Data Specification 1.0: the data a job runs on and where its outputs go.

`parse` checks the document alone; `validate_against` checks it against the job interface.
Whether the files exist and have acceptable media types is a database question, left to the
services (`file_ids()` lists what they must look up)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scale.exceptions import ValidationError
from scale.specs._inputs import (
    DATA_INPUT_SCHEMA,
    DataInput,
    check_data_inputs,
    check_unique,
    data_inputs_from,
)
from scale.specs._schema import validate_document
from scale.specs.job_interface import JobInterface

CURRENT_VERSION = "1.0"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "input_data": {"type": "array", "items": DATA_INPUT_SCHEMA},
        "output_data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "workspace_id"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "workspace_id": {"type": "integer"},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class DataOutput:
    name: str
    workspace_id: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "workspace_id": self.workspace_id}


@dataclass(frozen=True)
class JobData:
    inputs: tuple[DataInput, ...] = ()
    outputs: tuple[DataOutput, ...] = ()
    version: str = CURRENT_VERSION

    def get_input(self, name: str) -> DataInput | None:
        return next((entry for entry in self.inputs if entry.name == name), None)

    def get_output(self, name: str) -> DataOutput | None:
        return next((entry for entry in self.outputs if entry.name == name), None)

    def file_ids(self) -> list[int]:
        """Every file id the inputs pass, in document order, each once."""
        return list(dict.fromkeys(i for entry in self.inputs for i in entry.all_file_ids))

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "input_data": [entry.to_dict() for entry in self.inputs],
            "output_data": [entry.to_dict() for entry in self.outputs],
        }


def parse(doc: object) -> JobData:
    """Validate a job data document on its own; raises ValidationError naming the field."""
    version = validate_document(doc, {CURRENT_VERSION: SCHEMA}, CURRENT_VERSION)
    assert isinstance(doc, dict)
    input_items = doc.get("input_data", [])
    output_items = doc.get("output_data", [])
    # "The name of every input and output in the job data must be unique."
    check_unique(
        [(f"input_data[{i}].name", item["name"]) for i, item in enumerate(input_items)]
        + [(f"output_data[{i}].name", item["name"]) for i, item in enumerate(output_items)]
    )
    return JobData(
        inputs=data_inputs_from(input_items),
        outputs=tuple(DataOutput(item["name"], int(item["workspace_id"])) for item in output_items),
        version=version,
    )


def validate_against(data: JobData, interface: JobInterface) -> None:
    """Raise ValidationError unless `data` fits `interface`: known input names, a value for a
    property, a file_id for a file, file_ids (or one file_id) for files, every required input
    given, and a workspace_id for every output of the interface and for nothing else."""
    check_data_inputs(data.inputs, interface.inputs)
    for index, entry in enumerate(data.outputs):
        if interface.get_output(entry.name) is None:
            raise ValidationError(f"output_data[{index}].name", f"there is no output named {entry.name!r}")
    given = {entry.name for entry in data.outputs}
    for spec in interface.outputs:
        if spec.name not in given:
            raise ValidationError("output_data", f"output {spec.name!r} has no workspace_id")
