"""The host broker: files confined to the workspace root, atomic writes, and the registry."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from scale.errors import NotFound, ScaleError, Unsupported, ValidationError
from scale.workspaces.brokers import HostBroker, broker_for
from scale.workspaces.brokers import host as host_module


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


@pytest.fixture
def broker(root: Path) -> HostBroker:
    return HostBroker(root)


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


def test_symlink_out_of_the_root_is_refused_for_every_operation(broker, root, local_file, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    (root / "link").symlink_to(outside)
    with pytest.raises(ValidationError):
        broker.store(local_file, "link/new.txt")
    with pytest.raises(ValidationError):
        broker.retrieve("link/secret.txt", tmp_path / "stolen.txt")
    with pytest.raises(ValidationError):
        broker.open_read("link/secret.txt")
    with pytest.raises(ValidationError):
        broker.delete("link/secret.txt")
    assert not (outside / "new.txt").exists()
    assert (outside / "secret.txt").exists()
    assert not (tmp_path / "stolen.txt").exists()


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

    def spying_replace(src, dst):
        seen.append((os.path.basename(src), os.path.basename(dst)))
        assert Path(src).parent == Path(dst).parent  # same directory: a rename, never a copy
        real_replace(src, dst)

    monkeypatch.setattr(host_module.os, "replace", spying_replace)
    broker.store(local_file, "d/f.txt")
    assert len(seen) == 1 and seen[0][1] == "f.txt" and seen[0][0] != "f.txt"


def test_broker_for_reads_the_workspace_configuration(root):
    workspace = SimpleNamespace(name="w", json_config={"version": "1.0",
                                                       "broker": {"type": "host", "host_path": str(root)}})
    broker = broker_for(workspace)
    assert isinstance(broker, HostBroker) and broker.root == root


def test_broker_for_nfs_is_a_clear_unsupported_error():
    workspace = SimpleNamespace(name="w", json_config={"broker": {"type": "nfs", "mount": "host:/exports"}})
    with pytest.raises(Unsupported, match="nfs brokers are not supported yet"):
        broker_for(workspace)


def test_broker_for_unknown_type_is_refused():
    with pytest.raises(ScaleError, match="unknown broker type"):
        broker_for(SimpleNamespace(name="w", json_config={"broker": {"type": "s3"}}))


def test_relative_host_path_is_refused():
    with pytest.raises(ValidationError):
        HostBroker(Path("relative/dir"))
