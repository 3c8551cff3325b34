"""The host and nfs brokers: files confined to the workspace root, atomic writes, and the registry."""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from scale.exceptions import ConfigError, Forbidden, NotFound, ScaleError, ValidationError
from scale.workspaces import brokers, confined
from scale.workspaces.brokers import HostBroker, NfsBroker, broker_for
from scale.workspaces.brokers import host as host_module
from scale.workspaces.brokers import nfs as nfs_module


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


@pytest.fixture
def broker(root: Path) -> HostBroker:
    return HostBroker(root)


@pytest.fixture(autouse=True)
def mount_root(tmp_path: Path) -> Iterator[Path]:
    """This process's brokers mount nfs workspaces under a fresh directory for each test."""
    previous = brokers._mount_root
    brokers.configure(mount_root=tmp_path / "mounts")
    yield tmp_path / "mounts"
    brokers.configure(mount_root=previous)


@pytest.fixture(params=["openat2", "walk"])
def backend(request, monkeypatch) -> str:
    """Runs a test with openat2 and again as on a kernel without it (ENOSYS: the user-space walk)."""
    if request.param == "walk":
        def no_openat2(*args: object) -> int:
            raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))

        monkeypatch.setattr(confined, "_openat2", no_openat2)
    monkeypatch.setattr(confined, "_openat2_available", True)
    return request.param


@pytest.fixture
def local_file(tmp_path: Path) -> Path:
    path = tmp_path / "local.txt"
    path.write_bytes(b"payload\n")
    return path


def test_store_creates_parents_and_returns_normalized_path(broker, root, local_file):
    stored = broker.store(local_file, "a//b/./c.txt")
    assert stored == "a/b/c.txt"
    assert (root / "a/b/c.txt").read_bytes() == b"payload\n"
    assert broker.exists(stored) and broker.size(stored) == 8


def test_retrieve_move_open_delete_round_trip(broker, root, local_file, tmp_path):
    broker.store(local_file, "in/x.txt")
    broker.retrieve("in/x.txt", tmp_path / "fetched/deep/x.txt")
    assert (tmp_path / "fetched/deep/x.txt").read_bytes() == b"payload\n"
    assert broker.move("in/x.txt", "moved/y.txt") == "moved/y.txt"
    assert not (root / "in/x.txt").exists()
    with broker.open_read("moved/y.txt") as handle:
        assert handle.read() == b"payload\n"
    broker.delete("moved/y.txt")
    broker.delete("moved/y.txt")  # already gone: not an error
    assert not broker.exists("moved/y.txt")


@pytest.mark.parametrize("bad", ["../escape.txt", "a/../../escape.txt", "a/..", "/etc/passwd", "", ".", "a\0b"])
def test_paths_that_leave_the_root_are_refused(broker, local_file, tmp_path, bad):
    with pytest.raises(ValidationError) as caught:
        broker.store(local_file, bad)
    assert caught.value.field == "path"
    assert not (tmp_path / "escape.txt").exists()


# Every way a broker reaches the disk, each aimed at `path` (a file stored earlier at "inside.txt").
OPERATIONS: dict[str, Callable[[HostBroker, str, Path], object]] = {
    "store": lambda broker, path, local: broker.store(local, path),
    "retrieve": lambda broker, path, local: broker.retrieve(path, local.parent / "fetched.txt"),
    "move from": lambda broker, path, local: broker.move(path, "moved.txt"),
    "move to": lambda broker, path, local: broker.move("inside.txt", path),
    "delete": lambda broker, path, local: broker.delete(path),
    "open_read": lambda broker, path, local: broker.open_read(path).close(),
    "exists": lambda broker, path, local: broker.exists(path),
    "size": lambda broker, path, local: broker.size(path),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("layout", ["parent directory", "last component", "dangling last component", "chained"])
def test_symlinks_out_of_the_root_are_refused(broker, root, local_file, tmp_path, operation, layout, backend):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    broker.store(local_file, "inside.txt")
    if layout == "parent directory":
        (root / "link").symlink_to(outside)
        path = "link/secret.txt"
    elif layout == "last component":
        (root / "link.txt").symlink_to(outside / "secret.txt")
        path = "link.txt"
    elif layout == "dangling last component":
        (root / "link.txt").symlink_to(outside / "not-yet.txt")
        path = "link.txt"
    else:  # a link inside the root to a directory inside the root that links out
        (root / "inner").mkdir()
        (root / "inner" / "out").symlink_to(outside)
        (root / "hop").symlink_to(root / "inner")
        path = "hop/out/secret.txt"
    with pytest.raises(ValidationError, match="resolves outside the workspace") as caught:
        OPERATIONS[operation](broker, path, local_file)
    assert caught.value.field == "path"
    assert sorted(os.listdir(outside)) == ["secret.txt"]  # nothing written or moved out there
    assert (outside / "secret.txt").read_bytes() == b"secret"
    assert (root / "inside.txt").read_bytes() == b"payload\n"  # the move's source stayed put
    assert not (local_file.parent / "fetched.txt").exists()


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("swapped", ["the root", "a folder above it"])
def test_a_root_swapped_for_a_symlink_is_refused_at_use(tmp_path, local_file, operation, swapped, backend, caplog):
    """A workspace made while its root did not exist: that root, or a folder above it, is then
    replaced by a symlink to a directory holding a secret. Nothing there is read or written."""
    root = tmp_path / "data" / "workspace"
    broker = HostBroker(root, name="raw")
    outside = tmp_path / "outside"
    (outside / "workspace").mkdir(parents=True)
    for folder in (outside, outside / "workspace"):
        (folder / "inside.txt").write_bytes(b"secret")
        (folder / "moved.txt").write_bytes(b"secret")
    if swapped == "the root":
        root.parent.mkdir()
        root.symlink_to(outside)
    else:
        root.parent.symlink_to(outside)
    before = {path: path.read_bytes() for path in outside.rglob("*") if path.is_file()}
    with caplog.at_level(logging.WARNING), pytest.raises(Forbidden) as caught:
        OPERATIONS[operation](broker, "inside.txt", local_file)
    assert str(caught.value) == ("workspace 'raw': its root is not the directory it was configured with "
                                 "(a symlink is on its way); nothing was read or written")
    assert str(tmp_path) not in str(caught.value)
    assert {path: path.read_bytes() for path in outside.rglob("*") if path.is_file()} == before
    assert not (local_file.parent / "fetched.txt").exists()
    assert "workspace 'raw': refused" in caplog.text


def test_a_restored_root_is_used_again(tmp_path, local_file):
    root = tmp_path / "workspace"
    broker = HostBroker(root, name="raw")
    broker.store(local_file, "a.txt")
    root.rename(tmp_path / "real")
    root.symlink_to(tmp_path / "real")
    with pytest.raises(Forbidden):
        broker.exists("a.txt")
    root.unlink()
    (tmp_path / "real").rename(root)
    assert broker.exists("a.txt") and broker.size("a.txt") == 8


@pytest.mark.parametrize("path", ["alias.txt", "dir_alias/f.txt", "absolute_alias/f.txt"])
def test_a_symlink_that_stays_inside_is_followed(broker, root, local_file, tmp_path, path, backend):
    broker.store(local_file, "real/f.txt")
    (root / "alias.txt").symlink_to("real/f.txt")
    (root / "dir_alias").symlink_to("real")
    (root / "absolute_alias").symlink_to(root / "real")
    assert broker.exists(path) and broker.size(path) == 8
    with broker.open_read(path) as handle:
        assert handle.read() == b"payload\n"
    broker.retrieve(path, tmp_path / "fetched.txt")
    assert (tmp_path / "fetched.txt").read_bytes() == b"payload\n"
    tmp_path.joinpath("new.txt").write_bytes(b"new")
    broker.store(tmp_path / "new.txt", path)
    assert (root / "real" / "f.txt").read_bytes() == b"new"


def test_a_refusal_is_logged_naming_the_workspace_and_the_path(root, tmp_path, caplog):
    (tmp_path / "secret.txt").write_bytes(b"secret")
    (root / "leak.txt").symlink_to(tmp_path / "secret.txt")
    with caplog.at_level(logging.WARNING), pytest.raises(ValidationError, match="resolves outside"):
        HostBroker(root, name="raw").open_read("leak.txt")
    assert "workspace 'raw': refused 'leak.txt'" in caplog.text


@pytest.mark.parametrize("operation", ["exists", "open_read", "delete", "size"])
def test_a_symlink_loop_is_refused_as_a_bad_path(broker, root, local_file, operation):
    (root / "loop1").symlink_to(root / "loop2")
    (root / "loop2").symlink_to(root / "loop1")
    with pytest.raises(ValidationError, match="'loop1/f.txt' cannot be resolved"):
        OPERATIONS[operation](broker, "loop1/f.txt", local_file)


@pytest.mark.parametrize("path", ["x" * 256, "a/" + "é" * 128 + "/b.txt", "/".join(["d" * 250] * 17)])
def test_names_and_paths_the_kernel_cannot_take_are_refused(broker, local_file, path):
    with pytest.raises(ValidationError, match="longer than"):
        broker.exists(path)
    with pytest.raises(ValidationError, match="longer than"):
        broker.store(local_file, path)


def test_symlink_inside_the_root_is_followed(broker, root, local_file):
    (root / "real").mkdir()
    (root / "alias").symlink_to(root / "real")
    broker.store(local_file, "alias/f.txt")
    assert (root / "real/f.txt").read_bytes() == b"payload\n"


def test_missing_files_are_not_found(broker, tmp_path):
    with pytest.raises(NotFound):
        broker.retrieve("nope.txt", tmp_path / "x")
    with pytest.raises(NotFound):
        broker.size("nope.txt")
    with pytest.raises(NotFound):
        broker.move("nope.txt", "other.txt")
    assert not broker.exists("nope.txt")


def test_store_is_atomic_when_the_copy_fails(broker, root, local_file, monkeypatch):
    broker.store(local_file, "f.txt")
    bigger = local_file.parent / "bigger.txt"
    bigger.write_bytes(b"new contents that never fully arrive")

    def failing_copy(src, dst, length=0):
        dst.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(host_module.shutil, "copyfileobj", failing_copy)
    with pytest.raises(OSError, match="disk full"):
        broker.store(bigger, "f.txt")
    assert (root / "f.txt").read_bytes() == b"payload\n"  # the old file, whole
    assert os.listdir(root) == ["f.txt"]  # no temporary file left behind


def test_stored_file_is_written_under_a_temporary_name_then_replaced(broker, root, local_file, monkeypatch):
    seen: list[tuple[str, str]] = []
    real_replace = host_module.os.replace

    def spying_replace(src, dst, *, src_dir_fd, dst_dir_fd):
        seen.append((src, dst))
        assert "/" not in src and "/" not in dst  # names in folders held open, never host paths
        assert src_dir_fd == dst_dir_fd  # same folder: a rename, never a copy
        real_replace(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)

    monkeypatch.setattr(host_module.os, "replace", spying_replace)
    broker.store(local_file, "d/f.txt")
    assert len(seen) == 1 and seen[0][1] == "f.txt" and seen[0][0] != "f.txt"


def test_broker_for_reads_the_workspace_configuration(root):
    workspace = SimpleNamespace(name="w", json_config={"version": "1.0",
                                                       "broker": {"type": "host", "host_path": str(root)}})
    broker = broker_for(workspace)
    assert isinstance(broker, HostBroker) and broker.root == root


def test_broker_for_nfs_places_the_mount_under_the_mount_root_without_mounting(mount_root):
    workspace = SimpleNamespace(name="w", json_config={"broker": {"type": "nfs", "mount": "host:/exports"}})
    broker = broker_for(workspace)
    assert isinstance(broker, NfsBroker)
    assert broker.root == mount_root / "workspaces" / "w" and broker.remote == "host:/exports"
    assert not (mount_root / "workspaces").exists()  # building a broker mounts nothing


def test_broker_for_nfs_without_a_mount_root_is_a_config_error():
    brokers.configure(mount_root=None)
    workspace = SimpleNamespace(name="w", json_config={"broker": {"type": "nfs", "mount": "host:/exports"}})
    with pytest.raises(ConfigError, match="'w' is on NFS, but this process has no mount root"):
        broker_for(workspace)


@pytest.mark.parametrize("name", [".", ".."])
def test_nfs_workspace_named_like_a_parent_directory_is_refused(mount_root, name):
    workspace = SimpleNamespace(name=name, json_config={"broker": {"type": "nfs", "mount": "host:/exports"}})
    with pytest.raises(ConfigError, match="cannot name a mount point"):
        broker_for(workspace)


def test_nfs_broker_refuses_a_bad_path_before_mounting(mount_root, local_file, monkeypatch):
    def no_mount(*args, **kwargs):
        raise AssertionError("mounted for a path that was refused")

    monkeypatch.setattr(nfs_module, "ensure_nfs_mounted", no_mount)
    broker = NfsBroker("w", "host:/exports", mount_root / "workspaces" / "w")
    with pytest.raises(ValidationError, match="'..' segment"):
        broker.store(local_file, "../x.txt")


def test_broker_for_unknown_type_is_refused():
    with pytest.raises(ScaleError, match="unknown broker type"):
        broker_for(SimpleNamespace(name="w", json_config={"broker": {"type": "s3"}}))


def test_relative_host_path_is_refused():
    with pytest.raises(ValidationError):
        HostBroker(Path("relative/dir"))
