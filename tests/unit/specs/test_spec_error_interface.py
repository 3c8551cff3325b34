"""Error Interface 1.0: exit codes mapped to error names."""

import pytest

from scale.exceptions import ValidationError
from scale.specs import error_interface

# Reference, "Errors Interface".
EXAMPLE = {"version": "1.0", "exit_codes": {"1": "unknown"}}


def test_reference_example():
    parsed = error_interface.parse(EXAMPLE)
    assert parsed.error_for_exit_code(1) == "unknown"
    assert parsed.error_for_exit_code(2) is None
    assert parsed.error_names() == ["unknown"]
    assert parsed.to_dict() == EXAMPLE


def test_version_defaults_and_codes_normalize():
    parsed = error_interface.parse({"exit_codes": {"02": "b", "-1": "a", "1": "a"}})
    assert parsed.to_dict() == {"version": "1.0", "exit_codes": {"-1": "a", "1": "a", "2": "b"}}
    assert parsed.error_names() == ["a", "b"]
    assert parsed.error_for_exit_code(2) == "b"


def test_empty_mapping_is_valid():
    assert error_interface.parse({"exit_codes": {}}).error_names() == []


def test_parsed_interfaces_compare_and_hash():
    assert error_interface.parse(EXAMPLE) == error_interface.parse({"exit_codes": {"1": "unknown"}})
    assert hash(error_interface.parse(EXAMPLE)) == hash(error_interface.parse(EXAMPLE))


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"version": "2.0", "exit_codes": {}}, "version"),
        ({}, "exit_codes"),
        ({"exit_codes": []}, "exit_codes"),
        ({"exit_codes": {"1": 5}}, "exit_codes.1"),
        ({"exit_codes": {"1": ""}}, "exit_codes.1"),
        ({"exit_codes": {"one": "unknown"}}, "exit_codes.one"),
        ({"exit_codes": {"1": "a", "01": "b"}}, "exit_codes.01"),
        ({"exit_codes": {}, "codes": {}}, "codes"),
    ],
)
def test_invalid_documents_name_the_field(doc, field):
    with pytest.raises(ValidationError) as caught:
        error_interface.parse(doc)
    assert caught.value.field == field
