"""Job Data 1.0: parsing, defaults, and fitting a job interface."""

import copy

import pytest

from scale.exceptions import ValidationError
from scale.specs import job_data, job_interface

# Reference, "Job Data": the make_geotiff.py example.
EXAMPLE = {
    "version": "1.0",
    "input_data": [{"name": "image", "file_id": 1234}, {"name": "georeference_data", "file_id": 1235}],
    "output_data": [{"name": "geo_image", "workspace_id": 12}],
}

MAKE_GEOTIFF = job_interface.parse(
    {
        "version": "1.0",
        "command": "python make_geotiff.py",
        "command_arguments": "${image} ${georeference_data} ${job_output_dir}",
        "input_data": [
            {"name": "image", "type": "file", "media_types": ["image/png"]},
            {"name": "georeference_data", "type": "file", "media_types": ["text/csv"]},
        ],
        "output_data": [{"name": "geo_image", "type": "file", "media_type": "image/tiff"}],
    }
)

MIXED = job_interface.parse(
    {
        "command": "run",
        "command_arguments": "${p} ${f} ${many} ${opt}",
        "input_data": [
            {"name": "p", "type": "property"},
            {"name": "f", "type": "file"},
            {"name": "many", "type": "files"},
            {"name": "opt", "type": "property", "required": False},
        ],
        "output_data": [{"name": "out", "type": "files", "required": False}],
    }
)


def mixed(**replace):
    doc = {
        "input_data": [
            {"name": "p", "value": "a b"},
            {"name": "f", "file_id": 1},
            {"name": "many", "file_ids": [2, 3]},
        ],
        "output_data": [{"name": "out", "workspace_id": 7}],
    }
    doc.update(replace)
    return job_data.parse(doc)


def test_reference_example_parses_and_fits_its_interface():
    data = job_data.parse(EXAMPLE)
    job_data.validate_against(data, MAKE_GEOTIFF)
    assert data.to_dict() == EXAMPLE
    assert data.get_input("image").file_id == 1234
    assert data.get_output("geo_image").workspace_id == 12
    assert data.file_ids() == [1234, 1235]


def test_defaults_and_version():
    assert job_data.parse({}).to_dict() == {"version": "1.0", "input_data": [], "output_data": []}


def test_every_input_kind_fits():
    data = mixed()
    job_data.validate_against(data, MIXED)
    assert data.file_ids() == [1, 2, 3]


def test_files_input_accepts_a_single_file_id():
    data = mixed(input_data=[{"name": "p", "value": "v"}, {"name": "f", "file_id": 1}, {"name": "many", "file_id": 9}])
    job_data.validate_against(data, MIXED)
    assert data.get_input("many").all_file_ids == (9,)


def test_file_ids_are_listed_once():
    data = mixed(
        input_data=[{"name": "p", "value": "v"}, {"name": "f", "file_id": 2}, {"name": "many", "file_ids": [2, 3, 3]}]
    )
    assert data.file_ids() == [2, 3]


def with_(**changes):
    doc = copy.deepcopy(EXAMPLE)
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (with_(version="0.9"), "version"),
        (with_(extra=1), "extra"),
        (with_(input_data=[{"file_id": 1}]), "input_data[0].name"),
        (with_(input_data=[{"name": "image", "file_id": "1234"}]), "input_data[0].file_id"),
        (with_(input_data=[{"name": "image", "file_ids": []}]), "input_data[0].file_ids"),
        (with_(input_data=[{"name": "image", "value": 3}]), "input_data[0].value"),
        (with_(input_data=[{"name": "image"}]), "input_data[0]"),
        (with_(input_data=[{"name": "image", "file_id": 1, "value": "x"}]), "input_data[0]"),
        (with_(input_data=[{"name": "image", "file_id": 1}, {"name": "image", "file_id": 2}]), "input_data[1].name"),
        (with_(output_data=[{"name": "geo_image"}]), "output_data[0].workspace_id"),
        (with_(output_data=[{"name": "geo_image", "workspace_id": True}]), "output_data[0].workspace_id"),
        (with_(output_data=[{"name": "image", "workspace_id": 1}]), "output_data[0].name"),
    ],
)
def test_invalid_documents_name_the_field(doc, field):
    with pytest.raises(ValidationError) as caught:
        job_data.parse(doc)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (mixed(input_data=[{"name": "p", "value": "v"}, {"name": "many", "file_ids": [2]}]), "input_data"),
        (
            mixed(
                input_data=[{"name": "p", "file_id": 1}, {"name": "f", "file_id": 1}, {"name": "many", "file_ids": [2]}]
            ),
            "input_data[0]",
        ),
        (
            mixed(
                input_data=[
                    {"name": "p", "value": "v"},
                    {"name": "f", "file_ids": [1]},
                    {"name": "many", "file_ids": [2]},
                ]
            ),
            "input_data[1]",
        ),
        (
            mixed(
                input_data=[{"name": "p", "value": "v"}, {"name": "f", "file_id": 1}, {"name": "many", "value": "x"}]
            ),
            "input_data[2]",
        ),
        (
            mixed(
                input_data=[
                    {"name": "p", "value": "v"},
                    {"name": "f", "file_id": 1},
                    {"name": "many", "file_ids": [2]},
                    {"name": "ghost", "value": "x"},
                ]
            ),
            "input_data[3].name",
        ),
        (mixed(output_data=[]), "output_data"),
        (
            mixed(output_data=[{"name": "out", "workspace_id": 1}, {"name": "other", "workspace_id": 1}]),
            "output_data[1].name",
        ),
    ],
)
def test_data_not_fitting_the_interface_names_the_field(data, field):
    with pytest.raises(ValidationError) as caught:
        job_data.validate_against(data, MIXED)
    assert caught.value.field == field


def test_optional_input_may_be_left_out():
    job_data.validate_against(mixed(), MIXED)
    assert mixed().get_input("opt") is None
