"""Ingest Trigger Configuration 1.0."""

import pytest

from scale.exceptions import ValidationError
from scale.specs import ingest_trigger

# Reference, "Ingest Triggers".
EXAMPLE = {
    "version": "1.0",
    "condition": {"media_type": "text/plain", "data_types": ["foo", "bar"]},
    "data": {"input_data_name": "my_file", "workspace_name": "my_workspace"},
}


def test_reference_example():
    config = ingest_trigger.parse(EXAMPLE)
    assert config.to_dict() == EXAMPLE
    assert config.matches("text/plain", ["bar", "foo", "baz"])
    assert not config.matches("text/plain", ["foo"])
    assert not config.matches("image/png", ["foo", "bar"])


def test_condition_defaults_match_every_file():
    config = ingest_trigger.parse({"data": {"input_data_name": "f", "workspace_name": "w"}})
    assert config.to_dict() == {
        "version": "1.0",
        "condition": {"media_type": "", "data_types": []},
        "data": {"input_data_name": "f", "workspace_name": "w"},
    }
    assert config.matches("anything/at-all", [])


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({**EXAMPLE, "version": "1.1"}, "version"),
        ({"condition": {}}, "data"),
        ({"data": {"workspace_name": "w"}}, "data.input_data_name"),
        ({"data": {"input_data_name": "f"}}, "data.workspace_name"),
        ({"data": {"input_data_name": "", "workspace_name": "w"}}, "data.input_data_name"),
        ({**EXAMPLE, "condition": {"media_type": 1}}, "condition.media_type"),
        ({**EXAMPLE, "condition": {"data_types": "foo"}}, "condition.data_types"),
        ({**EXAMPLE, "condition": {"mediatype": "x"}}, "condition.mediatype"),
        ({**EXAMPLE, "extra": {}}, "extra"),
    ],
)
def test_invalid_configurations_name_the_field(doc, field):
    with pytest.raises(ValidationError) as caught:
        ingest_trigger.parse(doc)
    assert caught.value.field == field
