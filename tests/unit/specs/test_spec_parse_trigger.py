"""Parse Trigger Configuration 1.0 (same shape as the ingest trigger)."""

import pytest

from scale.exceptions import ValidationError
from scale.specs import parse_trigger

# Reference, "Parse Triggers".
EXAMPLE = {
    "version": "1.0",
    "condition": {"media_type": "text/plain", "data_types": ["foo", "bar"]},
    "data": {"input_data_name": "my_file", "workspace_name": "my_workspace"},
}

# Reference, import/export example: a PARSE rule's configuration.
IMPORT_EXAMPLE = {
    "version": "1.0",
    "data": {"workspace_name": "products", "input_data_name": "input_file"},
    "condition": {"media_type": "image/png", "data_types": []},
}


def test_reference_examples():
    assert parse_trigger.parse(EXAMPLE).to_dict() == EXAMPLE
    config = parse_trigger.parse(IMPORT_EXAMPLE)
    assert config.input_data_name == "input_file"
    assert config.matches("image/png", [])


def test_defaults():
    config = parse_trigger.parse({"data": {"input_data_name": "f", "workspace_name": "w"}})
    assert (config.version, config.media_type, config.data_types) == ("1.0", "", ())


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({**EXAMPLE, "version": "0.1"}, "version"),
        ({"condition": EXAMPLE["condition"]}, "data"),
        ({"data": {"input_data_name": "f"}}, "data.workspace_name"),
        ({"data": {"input_data_name": "f", "workspace_name": "w", "workspace_id": 1}}, "data.workspace_id"),
        ({**EXAMPLE, "condition": []}, "condition"),
        ({**EXAMPLE, "condition": {"data_types": [1]}}, "condition.data_types[0]"),
    ],
)
def test_invalid_configurations_name_the_field(doc, field):
    with pytest.raises(ValidationError) as caught:
        parse_trigger.parse(doc)
    assert caught.value.field == field
