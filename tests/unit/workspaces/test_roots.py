"""The one rule of which directories may be workspace, Strike or scan roots (scale.workspaces.roots)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scale.exceptions import ValidationError
from scale.workspaces.roots import check_local_root, check_remote_root


@pytest.mark.parametrize("path", [
    "/", "//", "/etc", "/etc/", "/etc/ssl", "/proc", "/proc/self", "/sys", "/dev", "/boot", "/root", "/root/data",
    "/bin", "/sbin", "/lib", "/lib64", "/usr", "/usr/local/data", "/var", "/var/lib/postgresql", "/var/log",
    "/var/backups", "/run/secrets", "/home", "/tmp", "/tmp/../etc",
])
def test_system_directories_are_refused(path):
    with pytest.raises(ValidationError) as caught:
        check_local_root(path, field="json_config.broker.host_path", home=None)
    assert caught.value.field == "json_config.broker.host_path"
    with pytest.raises(ValidationError):
        check_remote_root(path, field="mount")


@pytest.mark.parametrize("path", ["/var/data", "/var/tmp/x", "/tmp/scale-products", "/home/ann/data", "/srv",
                                  "/data/incoming", "/mnt", "/opt/scale-data", "/etcetera", "/usrdata"])
def test_directories_of_their_own_are_fine(path):
    check_local_root(path, field="mount", home=None)
    check_remote_root(path, field="mount")


def test_the_home_itself_inside_it_and_above_it_are_refused(tmp_path):
    home = tmp_path / "home"
    for path in (home, home / "mounts" / "strikes" / "x", tmp_path, tmp_path.parent):
        with pytest.raises(ValidationError, match="Scale's home"):
            check_local_root(str(path), field="mount", home=home)
    check_local_root(str(tmp_path / "beside"), field="mount", home=home)


def test_symlinks_are_resolved_before_deciding(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "to-etc").symlink_to("/etc")
    (tmp_path / "to-home").symlink_to(home)
    (tmp_path / "to-root").symlink_to("/")
    for link in ("to-etc", "to-home", "to-root"):
        with pytest.raises(ValidationError) as caught:
            check_local_root(str(tmp_path / link), field="mount", home=home)
        assert "that is" in str(caught.value)
    # A symlinked home is found through its real path too.
    (tmp_path / "home-link").symlink_to(home)
    with pytest.raises(ValidationError, match="Scale's home"):
        check_local_root(str(home / "data"), field="mount", home=tmp_path / "home-link")


def test_a_relative_home_is_compared_as_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError, match="Scale's home"):
        check_local_root(str(tmp_path / ".scale"), field="mount", home=Path(".scale"))
