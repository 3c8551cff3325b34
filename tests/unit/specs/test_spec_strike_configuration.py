"""Strike Configuration 1.0: mount, transfer suffix and the ingest rules."""

import copy
from pathlib import Path

import pytest

from scale.exceptions import ValidationError
from scale.specs import strike_configuration

HOME = Path("/srv/scale-home")

# Reference, "Strike".
EXAMPLE = {
    "version": "1.0",
    "mount": "host:/my/path",
    "transfer_suffix": "_tmp",
    "files_to_ingest": [
        {"filename_regex": ".*h5", "data_types": [], "workspace_path": "/wrksp/path", "workspace_name": "rs"}
    ],
}


def with_(**changes):
    doc = copy.deepcopy(EXAMPLE)
    doc.update(changes)
    return doc


def rule(**changes):
    item = {"filename_regex": ".*", "workspace_path": "in", "workspace_name": "rs", **changes}
    return with_(files_to_ingest=[item])


def test_reference_example():
    config = strike_configuration.parse(EXAMPLE, home=HOME)
    assert config.mount_type == "nfs"
    assert config.mount_host == "host"
    assert config.mount_path == "/my/path"
    assert config.transfer_suffix == "_tmp"
    # The example's leading '/' means the workspace root, never the file system root.
    assert config.files_to_ingest[0].workspace_path == "wrksp/path"
    assert config.rule_for("data.h5") is config.files_to_ingest[0]
    assert config.rule_for("data.txt") is None


def test_local_directory_mount_and_defaults():
    config = strike_configuration.parse(
        {
            "mount": "/data/incoming",
            "files_to_ingest": [{"filename_regex": "x", "workspace_path": "a/b", "workspace_name": "w"}],
        },
        home=HOME,
    )
    assert (config.mount_type, config.mount_host, config.mount_path) == ("host", None, "/data/incoming")
    assert config.transfer_suffix is None
    assert config.to_dict() == {
        "version": "1.0",
        "mount": "/data/incoming",
        "files_to_ingest": [{"filename_regex": "x", "data_types": [], "workspace_path": "a/b", "workspace_name": "w"}],
    }


def test_rules_apply_in_order_first_match_wins():
    config = strike_configuration.parse(
        with_(
            files_to_ingest=[
                {"filename_regex": r".*\.h5$", "data_types": ["H5"], "workspace_path": "h5", "workspace_name": "a"},
                {"filename_regex": ".*", "workspace_path": "rest", "workspace_name": "b"},
            ]
        ),
        home=HOME,
    )
    assert config.rule_for("x.h5").workspace_path == "h5"
    assert config.rule_for("x.h5_tmp").workspace_path == "rest"


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (with_(version="2.0"), "version"),
        ({"files_to_ingest": EXAMPLE["files_to_ingest"]}, "mount"),
        (with_(mount="relative/dir"), "mount"),
        (with_(mount="host:relative"), "mount"),
        (with_(mount="host:/a/../../etc"), "mount"),
        (with_(mount="/data/../etc"), "mount"),
        (with_(mount="/data/\ud800"), "mount"),
        (with_(mount=""), "mount"),
        (with_(transfer_suffix=""), "transfer_suffix"),
        (with_(transfer_suffix=5), "transfer_suffix"),
        (with_(files_to_ingest=[]), "files_to_ingest"),
        (with_(unknown=1), "unknown"),
        (rule(filename_regex="*.h5"), "files_to_ingest[0].filename_regex"),
        (rule(filename_regex="(unclosed"), "files_to_ingest[0].filename_regex"),
        (rule(workspace_path="../outside"), "files_to_ingest[0].workspace_path"),
        (rule(workspace_path="a/../../b"), "files_to_ingest[0].workspace_path"),
        (rule(workspace_name=""), "files_to_ingest[0].workspace_name"),
        (rule(data_types="H5"), "files_to_ingest[0].data_types"),
        (
            with_(files_to_ingest=[{"filename_regex": ".*", "workspace_name": "rs"}]),
            "files_to_ingest[0].workspace_path",
        ),
    ],
)
def test_invalid_configurations_name_the_field(doc, field):
    with pytest.raises(ValidationError) as caught:
        strike_configuration.parse(doc, home=HOME)
    assert caught.value.field == field


@pytest.mark.parametrize("mount", ["/", "/etc", "/proc/self", "/var", "/usr/lib", "host:/", "host:/etc/ssl",
                                   "/srv/scale-home", "/srv/scale-home/mounts/strikes/x", "/srv", "host://"])
def test_a_system_directory_or_the_home_is_refused_as_the_mount(mount):
    with pytest.raises(ValidationError) as caught:
        strike_configuration.parse(with_(mount=mount), home=HOME)
    assert caught.value.field == "mount"


def test_the_home_of_another_scale_on_an_nfs_server_is_not_this_home():
    assert strike_configuration.parse(with_(mount="host:/srv/scale-home"), home=HOME).mount_path == "/srv/scale-home"
