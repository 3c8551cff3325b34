"""Workspace Configuration 1.0: nfs (reference) and host (DESIGN.md) brokers."""

import pytest

from scale.errors import ValidationError
from scale.specs import workspace_configuration
from scale.specs.workspace_configuration import HostBroker, NfsBroker

# Reference, "Workspaces".
EXAMPLE = {"version": "1.0", "broker": {"type": "nfs", "mount": "host:/my/path"}}


def test_reference_example():
    config = workspace_configuration.parse(EXAMPLE)
    assert config.broker == NfsBroker("host:/my/path", "host", "/my/path")
    assert config.to_dict() == EXAMPLE


def test_host_broker_and_default_version():
    config = workspace_configuration.parse({"broker": {"type": "host", "host_path": "/srv/scale/ws"}})
    assert config.broker == HostBroker("/srv/scale/ws")
    assert config.to_dict() == {"version": "1.0", "broker": {"type": "host", "host_path": "/srv/scale/ws"}}


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({**EXAMPLE, "version": "2.0"}, "version"),
        ({}, "broker"),
        ({"broker": {}}, "broker.type"),
        ({"broker": {"type": "ftp"}}, "broker.type"),
        ({"broker": {"type": "nfs"}}, "broker.mount"),
        ({"broker": {"type": "nfs", "mount": "/local/path"}}, "broker.mount"),
        ({"broker": {"type": "nfs", "mount": "host:/a/../b"}}, "broker.mount"),
        ({"broker": {"type": "nfs", "mount": "host:/a", "host_path": "/x"}}, "broker.host_path"),
        ({"broker": {"type": "host"}}, "broker.host_path"),
        ({"broker": {"type": "host", "host_path": "relative"}}, "broker.host_path"),
        ({"broker": {"type": "host", "host_path": "/srv/../etc"}}, "broker.host_path"),
        ({"broker": {"type": "host", "host_path": 5}}, "broker.host_path"),
        ({**EXAMPLE, "extra": 1}, "extra"),
    ],
)
def test_invalid_configurations_name_the_field(doc, field):
    with pytest.raises(ValidationError) as caught:
        workspace_configuration.parse(doc)
    assert caught.value.field == field
