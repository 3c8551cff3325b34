"""Recipe Data 1.0: parsing, defaults, and fitting a recipe definition."""

import pytest

from scale.exceptions import ValidationError
from scale.specs import job_interface, recipe_data, recipe_definition

# Reference, "Recipe Data".
EXAMPLE = {
    "version": "1.0",
    "input_data": [{"name": "image", "file_id": 1234}, {"name": "georeference_data", "file_id": 1235}],
    "workspace_id": 12,
}

DEFINITION = recipe_definition.parse(
    {
        "input_data": [
            {"name": "image", "type": "file", "media_types": ["image/png"]},
            {"name": "georeference_data", "type": "file", "media_types": ["text/csv"]},
            {"name": "label", "type": "property", "required": False},
            {"name": "extras", "type": "files", "required": False},
        ],
        "jobs": [{"name": "make", "job_type": {"name": "maker", "version": "1"}}],
    }
)

MAKER = job_interface.parse(
    {
        "command": "run",
        "command_arguments": "",
        "output_data": [{"name": "out", "type": "file"}],
    }
)


def test_reference_example_parses_and_fits():
    data = recipe_data.parse(EXAMPLE)
    recipe_data.validate_against(data, DEFINITION)
    recipe_data.validate_against(data, DEFINITION, lambda name, version: MAKER)
    assert data.to_dict() == EXAMPLE
    assert data.workspace_id == 12
    assert data.file_ids() == [1234, 1235]


def test_defaults_and_optional_workspace():
    assert recipe_data.parse({}).to_dict() == {"version": "1.0", "input_data": []}
    assert recipe_data.parse({}).workspace_id is None


def test_all_input_kinds():
    data = recipe_data.parse(
        {
            "input_data": [
                {"name": "image", "file_id": 1},
                {"name": "georeference_data", "file_id": 2},
                {"name": "label", "value": "x y"},
                {"name": "extras", "file_ids": [3, 4]},
            ]
        }
    )
    recipe_data.validate_against(data, DEFINITION)
    assert data.get_input("label").value == "x y"
    assert data.file_ids() == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"version": "3"}, "version"),
        ({"workspace_id": "12"}, "workspace_id"),
        ({"workspace": 12}, "workspace"),
        ({"input_data": [{"name": "image"}]}, "input_data[0]"),
        ({"input_data": [{"name": "image", "file_id": 1}, {"name": "image", "file_id": 2}]}, "input_data[1].name"),
        ({"input_data": [{"name": "image", "file_ids": ["a"]}]}, "input_data[0].file_ids[0]"),
        ({"input_data": {"name": "image"}}, "input_data"),
    ],
)
def test_invalid_documents_name_the_field(doc, field):
    with pytest.raises(ValidationError) as caught:
        recipe_data.parse(doc)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"input_data": [{"name": "image", "file_id": 1}]}, "input_data"),
        (
            {"input_data": [{"name": "image", "value": "x"}, {"name": "georeference_data", "file_id": 2}]},
            "input_data[0]",
        ),
        (
            {
                "input_data": [
                    {"name": "image", "file_id": 1},
                    {"name": "georeference_data", "file_id": 2},
                    {"name": "label", "file_id": 3},
                ]
            },
            "input_data[2]",
        ),
        (
            {
                "input_data": [
                    {"name": "image", "file_id": 1},
                    {"name": "georeference_data", "file_id": 2},
                    {"name": "nope", "value": "x"},
                ]
            },
            "input_data[2].name",
        ),
    ],
)
def test_data_not_fitting_the_definition_names_the_field(doc, field):
    with pytest.raises(ValidationError) as caught:
        recipe_data.validate_against(recipe_data.parse(doc), DEFINITION)
    assert caught.value.field == field


def test_workspace_is_required_when_a_job_produces_files():
    data = recipe_data.parse({"input_data": EXAMPLE["input_data"]})
    recipe_data.validate_against(data, DEFINITION)  # without a lookup it cannot know
    with pytest.raises(ValidationError) as caught:
        recipe_data.validate_against(data, DEFINITION, lambda name, version: MAKER)
    assert caught.value.field == "workspace_id"
    no_outputs = job_interface.parse({"command": "run", "command_arguments": ""})
    recipe_data.validate_against(data, DEFINITION, lambda name, version: no_outputs)
