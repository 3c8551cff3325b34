"""Workspace Configuration 1.0: nfs (reference) and host (DESIGN.md) brokers."""

from pathlib import Path

import pytest

from scale.exceptions import ValidationError
from scale.specs import workspace_configuration
from scale.specs.workspace_configuration import HostBroker, NfsBroker

HOME = Path("/srv/scale-home")

# Reference, "Workspaces".
EXAMPLE = {"version": "1.0", "broker": {"type": "nfs", "mount": "host:/my/path"}}


def test_reference_example():
    config = workspace_configuration.parse(EXAMPLE, home=HOME)
    assert config.broker == NfsBroker("host:/my/path", "host", "/my/path")
    assert config.to_dict() == EXAMPLE


def test_host_broker_and_default_version():
    config = workspace_configuration.parse({"broker": {"type": "host", "host_path": "/srv/scale/ws"}}, home=HOME)
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
        ({"broker": {"type": "host", "host_path": "/srv/\ud800"}}, "broker.host_path"),
        ({"broker": {"type": "host", "host_path": 5}}, "broker.host_path"),
        ({**EXAMPLE, "extra": 1}, "extra"),
    ],
)
def test_invalid_configurations_name_the_field(doc, field):
    with pytest.raises(ValidationError) as caught:
        workspace_configuration.parse(doc, home=HOME)
    assert caught.value.field == field


@pytest.mark.parametrize(("broker", "field"), [
    ({"type": "host", "host_path": "/"}, "broker.host_path"),
    ({"type": "host", "host_path": "/etc"}, "broker.host_path"),
    ({"type": "host", "host_path": "/root/data"}, "broker.host_path"),
    ({"type": "host", "host_path": "/srv/scale-home"}, "broker.host_path"),
    ({"type": "nfs", "mount": "host:/"}, "broker.mount"),
    ({"type": "nfs", "mount": "host:/proc"}, "broker.mount"),
])
def test_a_system_directory_or_the_home_is_refused_as_the_root(broker, field):
    with pytest.raises(ValidationError) as caught:
        workspace_configuration.parse({"broker": broker}, home=HOME)
    assert caught.value.field == field
