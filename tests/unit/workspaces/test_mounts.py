"""NFS mounts: reading the mount table, keeping an existing mount, and clear errors when `mount`
cannot run or does not finish. (A real failed `mount -t nfs` and a real existing mount are in
tests/integration/test_nfs_mounts.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scale.workspaces import mounts
from scale.workspaces.mounts import MountError, ensure_nfs_mounted, mounted_at


@pytest.fixture
def mount_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A mount table file standing in for /proc/self/mounts."""
    table = tmp_path / "mounts-table"
    table.write_text("proc /proc proc rw 0 0\n")
    monkeypatch.setattr(mounts, "_MOUNTS_TABLE", table)
    return table


@pytest.fixture
def fake_mount(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `mount` command first on PATH that records its arguments and fails like a refused mount."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "mount"
    script.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "mount-calls"}\necho "mount: access denied by server" >&2\n'
                      "exit 32\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path / "mount-calls"


def test_mounted_at_reads_the_table_and_unescapes_paths(mount_table, tmp_path):
    point = tmp_path / "with space"
    escaped = str(point).replace(" ", "\\040")
    mount_table.write_text(f"proc /proc proc rw 0 0\nsrv:/data {escaped} nfs4 rw 0 0\n")
    assert mounted_at(point) == ("srv:/data", "nfs4")
    assert mounted_at(tmp_path / "elsewhere") is None


def test_the_last_mount_listed_at_a_point_is_the_one_in_use(mount_table, tmp_path):
    mount_table.write_text(f"old:/a {tmp_path} nfs rw 0 0\ntmpfs {tmp_path} tmpfs rw 0 0\n")
    assert mounted_at(tmp_path) == ("tmpfs", "tmpfs")


def test_the_same_remote_already_mounted_is_kept(mount_table, fake_mount, tmp_path):
    point = tmp_path / "point"
    mount_table.write_text(f"srv:/data/ {point} nfs rw 0 0\n")
    assert ensure_nfs_mounted("srv:/data", point) == point
    assert not fake_mount.exists()  # `mount` never ran


def test_another_remote_mounted_there_is_refused(mount_table, fake_mount, tmp_path):
    point = tmp_path / "point"
    mount_table.write_text(f"old:/exports {point} nfs rw 0 0\n")
    with pytest.raises(MountError, match=r"cannot mount srv:/data at .*point: old:/exports is mounted there"):
        ensure_nfs_mounted("srv:/data", point)
    assert not fake_mount.exists()


def test_mount_runs_with_an_argv_and_its_stderr_is_the_error(mount_table, fake_mount, tmp_path):
    point = tmp_path / "a" / "point"
    with pytest.raises(MountError) as caught:
        ensure_nfs_mounted("srv:/data", point)
    assert str(caught.value) == f"cannot mount srv:/data at {point}: mount: access denied by server"
    assert fake_mount.read_text().split() == ["-t", "nfs", "-o", mounts.NFS_OPTIONS, "srv:/data", str(point)]
    assert point.is_dir()  # made for the mount; left empty


def test_a_mount_that_does_not_finish_is_stopped(mount_table, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "mount").write_text("#!/bin/sh\nexec sleep 30\n")
    (bin_dir / "mount").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(mounts, "MOUNT_TIMEOUT_SECONDS", 0.3)
    with pytest.raises(MountError, match=r"`mount` did not finish within 0.3s"):
        ensure_nfs_mounted("srv:/data", tmp_path / "point")


def test_no_mount_command_is_a_mount_error(mount_table, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(MountError, match="cannot run `mount`"):
        ensure_nfs_mounted("srv:/data", tmp_path / "point")


def test_an_unusable_mount_point_is_a_mount_error(mount_table, tmp_path):
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(MountError, match=r"cannot mount srv:/data at .*file/point"):
        ensure_nfs_mounted("srv:/data", tmp_path / "file" / "point")
