"""Job Interface 1.0: parsing, defaults, rules and the argv it builds."""

import copy

import pytest

from scale.exceptions import ValidationError
from scale.specs import job_interface
from scale.specs.job_interface import InputSpec, OutputSpec

# Reference, "Job Interface": the make_geotiff.py example.
MAKE_GEOTIFF = {
    "version": "1.0",
    "command": "python make_geotiff.py",
    "command_arguments": "${image} ${georeference_data} ${job_output_dir}",
    "input_data": [
        {"name": "image", "type": "file", "media_types": ["image/png"]},
        {"name": "georeference_data", "type": "file", "media_types": ["text/csv"]},
    ],
    "output_data": [{"name": "geo_image", "type": "file", "media_type": "image/tiff"}],
}

# Reference, job type creation: an interface with shared_resources.
CREATE_EXAMPLE = {
    "version": "1.0",
    "command": "test_cmd",
    "command_arguments": "test_arg",
    "input_data": [{"media_types": ["image/png"], "type": "file", "name": "input_file"}],
    "output_data": [],
    "shared_resources": [],
}


def interface(command_arguments, *inputs, outputs=()):
    return job_interface.parse(
        {
            "command": "run",
            "command_arguments": command_arguments,
            "input_data": list(inputs),
            "output_data": list(outputs),
        }
    )


def rejected(doc):
    with pytest.raises(ValidationError) as caught:
        job_interface.parse(doc)
    return caught.value


def test_reference_example_parses_with_defaults_applied():
    parsed = job_interface.parse(MAKE_GEOTIFF)
    assert parsed.inputs == (
        InputSpec("image", "file", True, ("image/png",)),
        InputSpec("georeference_data", "file", True, ("text/csv",)),
    )
    assert parsed.outputs == (OutputSpec("geo_image", "file", True, "image/tiff"),)
    assert parsed.get_input("image").media_types == ("image/png",)
    assert parsed.get_output("geo_image").media_type == "image/tiff"
    assert parsed.get_input("geo_image") is None
    assert parsed.to_dict()["input_data"][0] == {
        "name": "image",
        "type": "file",
        "required": True,
        "media_types": ["image/png"],
    }
    assert parsed.to_dict()["output_data"][0]["required"] is True


def test_create_example_with_shared_resources_parses():
    assert job_interface.parse(CREATE_EXAMPLE).to_dict()["shared_resources"] == []


def test_missing_version_and_lists_default():
    parsed = job_interface.parse({"command": "run", "command_arguments": ""})
    assert parsed.to_dict() == {
        "version": "1.0",
        "command": "run",
        "command_arguments": "",
        "input_data": [],
        "output_data": [],
        "shared_resources": [],
    }


def test_defaults_for_each_input_type():
    parsed = interface(
        "", {"name": "p", "type": "property"}, {"name": "f", "type": "files"}, outputs=[{"name": "o", "type": "files"}]
    )
    assert parsed.to_dict()["input_data"] == [
        {"name": "p", "type": "property", "required": True},
        {"name": "f", "type": "files", "required": True, "media_types": []},
    ]
    assert parsed.to_dict()["output_data"] == [{"name": "o", "type": "files", "required": True}]


def test_parse_is_idempotent_on_its_output():
    parsed = job_interface.parse(MAKE_GEOTIFF)
    assert job_interface.parse(parsed.to_dict()) == parsed


def with_(**changes):
    doc = copy.deepcopy(MAKE_GEOTIFF)
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (with_(version="2.0"), "version"),
        ({"command_arguments": ""}, "command"),
        ({"command": "run"}, "command_arguments"),
        (with_(command=""), "command"),
        (with_(bogus=1), "bogus"),
        (with_(input_data=[{"name": "x", "type": "blob"}]), "input_data[0].type"),
        (with_(input_data=[{"name": "x"}]), "input_data[0].type"),
        (with_(input_data=[{"type": "file"}]), "input_data[0].name"),
        (with_(input_data=[{"name": "bad/name", "type": "file"}]), "input_data[0].name"),
        (with_(input_data=[{"name": "x" * 256, "type": "file"}]), "input_data[0].name"),
        (with_(input_data=[{"name": "x", "type": "file", "required": "yes"}]), "input_data[0].required"),
        (with_(input_data=[{"name": "x", "type": "file", "media_types": "image/png"}]), "input_data[0].media_types"),
        (with_(input_data=[{"name": "x", "type": "property", "media_types": []}]), "input_data[0].media_types"),
        (with_(output_data=[{"name": "o", "type": "property"}]), "output_data[0].type"),
        (with_(output_data=[{"name": "o", "type": "file", "media_types": []}]), "output_data[0].media_types"),
        (with_(output_data=[{"name": "image", "type": "file"}]), "output_data[0].name"),
        (with_(command_arguments="${image} ${image2}"), "command_arguments"),
        (with_(command_arguments="${geo_image}"), "command_arguments"),
        (with_(command_arguments="${}"), "command_arguments"),
        (with_(command_arguments="${image"), "command_arguments"),
        (with_(command_arguments="${:image}"), "command_arguments"),
        (with_(command_arguments="x${-f:image}"), "command_arguments"),
        (with_(command_arguments=["${image}"]), "command_arguments"),
        (with_(shared_resources=[{"type": "db"}]), "shared_resources[0].name"),
    ],
)
def test_invalid_interfaces_name_the_field(doc, field):
    assert rejected(doc).field == field


def test_duplicate_input_names_are_rejected():
    doc = with_(input_data=[{"name": "a", "type": "file"}, {"name": "a", "type": "property"}], command_arguments="")
    assert rejected(doc).field == "input_data[1].name"


def test_job_output_dir_is_a_reserved_input_name():
    doc = with_(input_data=[{"name": "job_output_dir", "type": "property"}], command_arguments="")
    assert rejected(doc).field == "input_data[0].name"


def test_unknown_placeholder_message_names_it():
    assert "${nope}" in str(rejected(with_(command_arguments="${nope}")))


# --- argv building ---------------------------------------------------------------------------


def test_reference_example_argv():
    parsed = job_interface.parse(MAKE_GEOTIFF)
    argv = parsed.command_argv({"image": "/in/a.png", "georeference_data": "/in/b.csv"}, "/out")
    assert argv == ["python", "make_geotiff.py", "/in/a.png", "/in/b.csv", "/out"]


def test_property_value_with_spaces_and_shell_syntax_stays_one_argument():
    parsed = interface("--name ${p} ${job_output_dir}", {"name": "p", "type": "property"})
    assert parsed.build_argv({"p": "a b; rm -rf /"}, "/out") == ["--name", "a b; rm -rf /", "/out"]


def test_values_are_not_substituted_again():
    parsed = interface("${a} ${b}", {"name": "a", "type": "property"}, {"name": "b", "type": "property"})
    assert parsed.build_argv({"a": "${b}", "b": "$(whoami)"}, "/out") == ["${b}", "$(whoami)"]


def test_flag_with_trailing_space_is_a_separate_element():
    parsed = interface("${-f :p}", {"name": "p", "type": "property"})
    assert parsed.build_argv({"p": "v"}, "/out") == ["-f", "v"]


def test_flag_ending_in_equals_is_joined():
    parsed = interface("${--level=:p}", {"name": "p", "type": "property"})
    assert parsed.build_argv({"p": "3 4"}, "/out") == ["--level=3 4"]


def test_optional_absent_input_omits_flag_and_argument():
    parsed = interface(
        "${-v:p} --x=${p} ${p} keep ${job_output_dir}",
        {"name": "p", "type": "property", "required": False},
    )
    assert parsed.build_argv({}, "/out") == ["keep", "/out"]
    assert parsed.build_argv({"p": None}, "/out") == ["keep", "/out"]
    assert parsed.build_argv({"p": "1"}, "/out") == ["-v", "1", "--x=1", "1", "keep", "/out"]


def test_files_input_is_its_directory():
    parsed = interface("${-d :many} ${job_output_dir}", {"name": "many", "type": "files"})
    assert parsed.build_argv({"many": "/work/inputs/many"}, "/out") == ["-d", "/work/inputs/many", "/out"]


def test_job_output_dir_inside_an_argument_and_as_flag_value():
    parsed = interface("--out=${job_output_dir} ${-o:job_output_dir}")
    assert parsed.build_argv({}, "/out dir") == ["--out=/out dir", "-o", "/out dir"]


def test_input_names_with_spaces_are_single_placeholders():
    parsed = interface("${my input} ${-f :my input}", {"name": "my input", "type": "property"})
    assert parsed.build_argv({"my input": "v"}, "/o") == ["v", "-f", "v"]


def test_missing_required_input_at_build_time():
    parsed = interface("${p}", {"name": "p", "type": "property"})
    with pytest.raises(ValidationError) as caught:
        parsed.build_argv({}, "/out")
    assert caught.value.field == "p"


def test_required_input_not_in_arguments_still_needs_a_value():
    parsed = interface("", {"name": "p", "type": "property"})
    with pytest.raises(ValidationError):
        parsed.build_argv({"other": "x"}, "/out")


def test_empty_property_value_is_an_empty_argument():
    parsed = interface("${p}", {"name": "p", "type": "property"})
    assert parsed.build_argv({"p": ""}, "/out") == [""]


def test_command_is_split_but_not_substituted():
    parsed = job_interface.parse({"command": "python  ${x}.py", "command_arguments": ""})
    assert parsed.command_argv({}, "/out") == ["python", "${x}.py"]
