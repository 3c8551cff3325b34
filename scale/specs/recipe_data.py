"""Recipe Data Specification 1.0: the data a recipe runs on and the workspace for its products.

`workspace_id` is optional in the document; the reference requires it only when a job of the
recipe produces output files, which `validate_against` checks when given the job type lookup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scale.exceptions import ValidationError
from scale.specs._inputs import (
    DATA_INPUT_SCHEMA,
    DataInput,
    check_data_inputs,
    data_inputs_from,
)
from scale.specs._schema import validate_document
from scale.specs.job_interface import JobInterface
from scale.specs.recipe_definition import RecipeDefinition

CURRENT_VERSION = "1.0"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "input_data": {"type": "array", "items": DATA_INPUT_SCHEMA},
        "workspace_id": {"type": "integer"},
    },
}


@dataclass(frozen=True)
class RecipeData:
    inputs: tuple[DataInput, ...] = ()
    workspace_id: int | None = None
    version: str = CURRENT_VERSION

    def get_input(self, name: str) -> DataInput | None:
        return next((entry for entry in self.inputs if entry.name == name), None)

    def file_ids(self) -> list[int]:
        """Every file id the inputs pass, in document order, each once."""
        return list(dict.fromkeys(i for entry in self.inputs for i in entry.all_file_ids))

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"version": self.version, "input_data": [entry.to_dict() for entry in self.inputs]}
        if self.workspace_id is not None:
            doc["workspace_id"] = self.workspace_id
        return doc


def parse(doc: object) -> RecipeData:
    """Validate a recipe data document on its own; raises ValidationError naming the field."""
    version = validate_document(doc, {CURRENT_VERSION: SCHEMA}, CURRENT_VERSION)
    assert isinstance(doc, dict)
    workspace_id = doc.get("workspace_id")
    return RecipeData(
        inputs=data_inputs_from(doc.get("input_data", [])),
        workspace_id=int(workspace_id) if workspace_id is not None else None,
        version=version,
    )


def validate_against(
    data: RecipeData,
    definition: RecipeDefinition,
    lookup: Callable[[str, str], JobInterface | None] | None = None,
) -> None:
    """Raise ValidationError unless `data` fits `definition` (same input rules as job data).
    With `lookup(name, version)`, also require `workspace_id` when some job has outputs."""
    check_data_inputs(data.inputs, definition.inputs)
    if lookup is None or data.workspace_id is not None:
        return
    for job in definition.jobs:
        interface = lookup(job.job_type_name, job.job_type_version)
        if interface is not None and interface.outputs:
            raise ValidationError("workspace_id", f"is required because job {job.name!r} produces output files")
