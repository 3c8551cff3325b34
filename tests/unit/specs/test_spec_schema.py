"""The shared schema helper names the offending field as a path."""

import re

import pytest

from scale.exceptions import ValidationError
from scale.specs._schema import NAME_PATTERN, field_path, validate, validate_document

SCHEMA = {
    "type": "object",
    "required": ["items"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "type"],
                "additionalProperties": False,
                "properties": {"name": {"type": "string"}, "type": {"enum": ["a", "b"]}},
            },
        },
    },
}


def error_of(doc, schema=SCHEMA):
    with pytest.raises(ValidationError) as caught:
        validate(doc, schema)
    return caught.value


def test_field_path_joins_names_and_indexes():
    assert field_path(["input_data", 2, "type"]) == "input_data[2].type"
    assert field_path([0, "a"]) == "[0].a"
    assert field_path([]) == ""


def test_valid_document_passes():
    validate({"items": [{"name": "x", "type": "a"}]}, SCHEMA)


def test_required_error_names_the_missing_property():
    error = error_of({"items": [{"name": "x", "type": "a"}, {"name": "y"}]})
    assert error.field == "items[1].type"
    assert str(error) == "items[1].type: is required"


def test_additional_property_error_names_the_unknown_field():
    assert error_of({"items": [], "bogus": 1}).field == "bogus"
    assert error_of({"items": [{"name": "x", "type": "a", "zzz": 1}]}).field == "items[0].zzz"


def test_type_and_enum_errors_name_the_value_place():
    assert error_of({"items": [{"name": 3, "type": "a"}]}).field == "items[0].name"
    error = error_of({"items": [{"name": "x", "type": "c"}]})
    assert error.field == "items[0].type"
    assert "'c'" in error.problem


def test_root_errors_have_no_field():
    assert error_of([]).field is None


def test_huge_instances_are_not_repeated_in_the_message():
    error = error_of({"items": "x" * 10_000})
    assert len(str(error)) < 200


def test_validate_document_defaults_to_the_current_version():
    assert validate_document({"items": []}, {"1.0": SCHEMA}, "1.0") == "1.0"


@pytest.mark.parametrize("version", ["2.0", 1.0, None, ""])
def test_validate_document_rejects_unknown_versions(version):
    with pytest.raises(ValidationError) as caught:
        validate_document({"version": version, "items": []}, {"1.0": SCHEMA}, "1.0")
    assert caught.value.field == "version"


def test_validate_document_wants_an_object():
    with pytest.raises(ValidationError):
        validate_document(["not", "an", "object"], {"1.0": SCHEMA}, "1.0")


@pytest.mark.parametrize("name", ["a", "input_file", "my-input 2", "x" * 255])
def test_name_pattern_accepts(name):
    assert re.match(NAME_PATTERN, name)


@pytest.mark.parametrize("name", ["", "x" * 256, "a.b", "a/b", "a:b", "${x}", "ü"])
def test_name_pattern_rejects(name):
    assert not re.match(NAME_PATTERN, name)
