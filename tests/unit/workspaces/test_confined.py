"""scale.workspaces.confined: roots opened without following symlinks, and opens beneath a root
that never leave it, through openat2 and through the user-space walk that replaces it where the
kernel lacks it (both give the same answers)."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scale.workspaces import confined


@pytest.fixture(params=["openat2", "walk"])
def backend(request, monkeypatch) -> str:
    """Each test runs with openat2 and again as on a kernel without it (ENOSYS)."""
    if request.param == "walk":
        def no_openat2(*args: object) -> int:
            raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))

        monkeypatch.setattr(confined, "_openat2", no_openat2)
    monkeypatch.setattr(confined, "_openat2_available", True)
    return request.param


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/{real/file.txt, rel_in -> real, abs_in -> <root>/real, rel_out -> ../outside,
    abs_out -> <outside>, up_and_back -> ../root/real, loop -> loop}; outside/secret.txt."""
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    (root / "real" / "file.txt").write_bytes(b"inside")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_bytes(b"secret")
    (root / "rel_in").symlink_to("real")
    (root / "abs_in").symlink_to(root / "real")
    (root / "file_link.txt").symlink_to("real/file.txt")
    (root / "rel_out").symlink_to("../outside")
    (root / "abs_out").symlink_to(tmp_path / "outside")
    (root / "up_and_back").symlink_to("../root/real")
    (root / "loop").symlink_to("loop")
    return root


@pytest.fixture
def root_fd(tree: Path) -> Iterator[int]:
    fd = confined.open_root(tree)
    yield fd
    os.close(fd)


def read(root_fd: int, tree: Path, rel: str) -> bytes:
    fd = confined.open_beneath(root_fd, rel, os.O_RDONLY, root_path=tree)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


@pytest.mark.parametrize("rel", ["real/file.txt", "rel_in/file.txt", "abs_in/file.txt", "file_link.txt",
                                 "real/../real/file.txt", "rel_in/../real/file.txt"])
def test_paths_that_stay_inside_are_opened(backend, tree, root_fd, rel):
    assert read(root_fd, tree, rel) == b"inside"


@pytest.mark.parametrize("rel", ["rel_out/secret.txt", "abs_out/secret.txt", "../outside/secret.txt",
                                 "real/../../outside/secret.txt", "up_and_back/file.txt",
                                 str(Path("/etc/passwd"))])
def test_paths_that_leave_are_refused_with_exdev(backend, tree, root_fd, rel):
    with pytest.raises(OSError) as caught:
        read(root_fd, tree, rel)
    assert caught.value.errno == errno.EXDEV


def test_an_absolute_link_into_the_root_is_refused_without_the_roots_path(backend, root_fd):
    with pytest.raises(OSError) as caught:
        confined.open_beneath(root_fd, "abs_in/file.txt", os.O_RDONLY)
    assert caught.value.errno == errno.EXDEV


def test_a_symlink_loop_is_eloop(backend, tree, root_fd):
    with pytest.raises(OSError) as caught:
        read(root_fd, tree, "loop/x")
    assert caught.value.errno == errno.ELOOP


def test_the_walk_is_taken_once_openat2_is_missing(tree, root_fd, monkeypatch):
    calls: list[str] = []

    def no_openat2(*args: object) -> int:
        calls.append("openat2")
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))

    monkeypatch.setattr(confined, "_openat2", no_openat2)
    monkeypatch.setattr(confined, "_openat2_available", True)
    assert read(root_fd, tree, "rel_in/file.txt") == b"inside"
    assert read(root_fd, tree, "real/file.txt") == b"inside"
    assert calls == ["openat2"]  # asked once; the walk answers from then on


def test_open_parent_resolves_a_last_symlink_beneath_the_root(backend, tree, root_fd):
    folder, name = confined.open_parent(root_fd, "file_link.txt", root_path=tree)
    try:
        assert name == "file.txt" and os.path.samestat(os.fstat(folder), os.stat(tree / "real"))
    finally:
        os.close(folder)
    with pytest.raises(OSError) as caught:
        confined.open_parent(root_fd, "rel_out/new.txt", create=True, root_path=tree)
    assert caught.value.errno == errno.EXDEV


def test_open_parent_makes_missing_folders_beneath_the_root(backend, tree, root_fd):
    folder, name = confined.open_parent(root_fd, "rel_in/a/b/new.txt", create=True, root_path=tree)
    os.close(folder)
    assert name == "new.txt" and (tree / "real" / "a" / "b").is_dir()


def test_open_root_refuses_a_root_that_is_a_symlink(tree, tmp_path):
    (tmp_path / "alias").symlink_to(tree)
    with pytest.raises(confined.SymlinkOnTheWay) as caught:
        confined.open_root(tmp_path / "alias")
    assert caught.value.component == str(tmp_path / "alias")


def test_open_root_refuses_a_symlinked_folder_on_the_way(tree, tmp_path):
    (tmp_path / "alias").symlink_to(tmp_path)
    with pytest.raises(confined.SymlinkOnTheWay) as caught:
        confined.open_root(tmp_path / "alias" / "root", create=True)
    assert caught.value.component == str(tmp_path / "alias")


def test_open_root_makes_a_missing_root_on_request(tmp_path):
    with pytest.raises(FileNotFoundError):
        confined.open_root(tmp_path / "new" / "root")
    os.close(confined.open_root(tmp_path / "new" / "root", create=True))
    assert (tmp_path / "new" / "root").is_dir()
