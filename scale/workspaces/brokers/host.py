"""The `host` broker: a workspace that is a directory on this machine (`host_path`).

Confinement, at every use (`scale.workspaces.confined`): each operation opens the root afresh by
walking its configured path from `/` without following symlinks, so a root (or a folder on its
way) that is or has become a symlink is Forbidden and nothing is read or written; everything
beneath it is then reached from the root's descriptor with `openat2(RESOLVE_BENEATH)`. A symlink
inside the workspace is followed while it stays inside; one that leads out is refused with
ValidationError (field `path`), as is a relative path that is empty, absolute, holds a `..`
segment or a NUL. Every refusal is logged as a WARNING naming the workspace and the path.

Writes are atomic: the bytes go to a hidden temporary name created in the destination's folder
(by its descriptor), are synced, and then replace the destination with `os.replace` between
descriptors, so readers see the old file or the whole new one. Removal and moves also act by
name in a folder's descriptor, so they never touch a file outside the root.

Errors name the workspace-relative path, never the host path: they reach API callers, who may
have no token. A file (or a folder on its way) that this process may not read is Forbidden."""

from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from scale.exceptions import Forbidden, NotFound, ValidationError
from scale.workspaces import confined
from scale.workspaces.brokers.base import Space

log = logging.getLogger(__name__)

# Linux limits on one name and on a whole path, in bytes; longer ones fail in the kernel
# (ENAMETOOLONG), so they are refused up front as bad input.
NAME_MAX = 255
PATH_MAX = 4096
# Temporary files of atomic writes, and anything else hidden, are not workspace files yet.
HIDDEN_PREFIX = "."


class HostBroker:
    """Files under `root`, a local directory (created on first store). `name` is the workspace's
    name, for messages and logs."""

    def __init__(self, root: Path, *, name: str | None = None) -> None:
        if not root.is_absolute():
            raise ValidationError("broker.host_path", f"{str(root)!r} is not an absolute path")
        self.root = root
        self.name = name

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, name: str | None = None) -> HostBroker:
        """A broker for the `{"type": "host", "host_path": ...}` configuration."""
        return cls(Path(config["host_path"]), name=name)

    def store(self, local: Path | BinaryIO, rel_path: str) -> str:
        relative = self._relative(rel_path)
        with self._root(rel_path, create=True) as root, \
                self._parent(root, rel_path, create=True, doing="written") as (folder, name):
            _atomic_copy(local, folder, name)
        return relative

    def retrieve(self, rel_path: str, local_path: Path) -> None:
        with self.open_read(rel_path) as source:
            local_path.parent.mkdir(parents=True, exist_ok=True)
            with local_path.open("wb") as target:
                shutil.copyfileobj(source, target, 1024 * 1024)

    def move(self, src_rel: str, dst_rel: str) -> str:
        self._relative(src_rel)
        relative = self._relative(dst_rel)
        with self._root(src_rel, create=False) as root, \
                self._parent(root, src_rel, doing="moved") as (src_folder, src_name):
            with self._refusals(src_rel, doing="moved"):
                if not _is_file(src_folder, src_name):
                    raise NotFound(f"no file {src_rel!r} in the workspace")
            with self._parent(root, dst_rel, create=True, doing="written") as (dst_folder, dst_name), \
                    self._refusals(dst_rel, doing="written"):
                os.replace(src_name, dst_name, src_dir_fd=src_folder, dst_dir_fd=dst_folder)
        return relative

    def delete(self, rel_path: str) -> None:
        self._relative(rel_path)
        try:
            with self._root(rel_path, create=False) as root, \
                    self._parent(root, rel_path, doing="removed") as (folder, name), \
                    self._refusals(rel_path, doing="removed"):
                os.unlink(name, dir_fd=folder)
        except NotFound:
            pass  # already gone (or never there): removing it is done

    def open_read(self, rel_path: str) -> BinaryIO:
        fd = self._open_file(rel_path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO never blocks the open
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")

    def exists(self, rel_path: str) -> bool:
        try:
            os.close(self._open_file(rel_path, os.O_PATH))
        except NotFound:
            return False
        return True

    def size(self, rel_path: str) -> int:
        fd = self._open_file(rel_path, os.O_PATH)
        try:
            return os.fstat(fd).st_size
        finally:
            os.close(fd)

    def space(self) -> Space | None:
        try:
            fd = confined.open_root(self.root)
        except confined.SymlinkOnTheWay as error:
            log.warning("workspace %r: no space figures: its root %s is not a directory of its own: %s is a "
                        "symlink", self.name, self.root, error.component)
            return None
        except OSError:  # missing, not a directory, not searchable, or a stale mount
            return None
        try:
            figures = os.fstatvfs(fd)
        except OSError:
            return None
        finally:
            os.close(fd)
        return Space(used=(figures.f_blocks - figures.f_bfree) * figures.f_frsize,
                     total=figures.f_blocks * figures.f_frsize)

    def walk_files(self) -> Iterator[tuple[str, int]]:
        """(relative path, size) of the regular, visible files this process may read, walking the
        workspace's folders by descriptor without following symlinks (a file or folder reached only
        through a symlink is not listed). Folders and files that cannot be looked at are skipped
        with a logged warning; a root that is a symlink is Forbidden."""
        with self._root("", create=False, missing_ok=True) as root:
            if root is not None:
                yield from self._walk_folder(root, ".", "")

    def _walk_folder(self, parent: int, name: str, prefix: str) -> Iterator[tuple[str, int]]:
        """The files of the folder `name` in `parent` (a descriptor); `prefix` is its relative path."""
        try:
            folder = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        except OSError as error:  # may not be read, or replaced by a symlink since it was listed
            log.warning("workspace %r: skipping the folder %r: %s", self.name, prefix or ".", error.strerror)
            return
        try:
            with os.scandir(folder) as entries:
                names = sorted(entry.name for entry in entries if not entry.name.startswith(HIDDEN_PREFIX))
            for entry_name in names:
                rel = f"{prefix}{entry_name}"
                try:
                    info = os.stat(entry_name, dir_fd=folder, follow_symlinks=False)
                except FileNotFoundError:
                    continue
                except OSError as error:  # a folder that may be listed but not searched
                    log.warning("workspace %r: skipping %r: %s", self.name, rel, error.strerror)
                    continue
                if stat.S_ISDIR(info.st_mode):
                    yield from self._walk_folder(folder, entry_name, rel + "/")
                elif not stat.S_ISREG(info.st_mode):
                    continue
                # The effective ids are the ones that count (a root process that gave up its file
                # system privileges cannot read).
                elif os.access(entry_name, os.R_OK, dir_fd=folder, effective_ids=True, follow_symlinks=False):
                    yield rel, info.st_size
                else:
                    log.warning("workspace %r: skipping %r: this process may not read it", self.name, rel)
        finally:
            os.close(folder)

    def _relative(self, rel_path: str) -> str:
        """`rel_path` checked and normalized (`a//b/./c` -> `a/b/c`)."""
        if not rel_path or "\0" in rel_path:
            raise ValidationError("path", "must be a non-empty path without NUL characters")
        if rel_path.startswith(("/", "\\")) or PurePosixPath(rel_path).is_absolute():
            raise ValidationError("path", f"{rel_path!r} must be relative to the workspace root")
        parts = [part for part in rel_path.replace("\\", "/").split("/") if part not in ("", ".")]
        if ".." in parts:
            raise ValidationError("path", f"{rel_path!r} may not contain a '..' segment")
        if not parts:
            raise ValidationError("path", f"{rel_path!r} names the workspace root, not a file")
        if any(len(os.fsencode(part)) > NAME_MAX for part in parts):
            raise ValidationError("path", f"{rel_path[:80]!r}... is longer than {NAME_MAX} bytes")
        relative = "/".join(parts)
        if len(os.fsencode(os.path.join(self.root, relative))) >= PATH_MAX:
            raise ValidationError("path", f"{rel_path[:80]!r}... makes a path longer than {PATH_MAX} bytes")
        return relative

    @contextmanager
    def _root(self, rel_path: str, *, create: bool, missing_ok: bool = False) -> Iterator[Any]:
        """The root's descriptor, opened now from its configured path (see the module docstring).
        A missing root is NotFound for `rel_path` (None with `missing_ok`); `create` makes it."""
        try:
            fd = confined.open_root(self.root, create=create)
        except confined.SymlinkOnTheWay as error:
            log.warning("workspace %r: refused: its root %s is not a directory of its own: %s is a symlink",
                        self.name, self.root, error.component)
            raise Forbidden(f"{self._owner()}: its root is not the directory it was configured with (a symlink "
                            "is on its way); nothing was read or written") from None
        except (FileNotFoundError, NotADirectoryError):
            if missing_ok:
                yield None
                return
            raise NotFound(f"no file {rel_path!r} in the workspace") from None
        except PermissionError:
            raise Forbidden(f"{self._owner()}: its root cannot be reached: permission denied") from None
        try:
            yield fd
        finally:
            os.close(fd)

    @contextmanager
    def _parent(self, root: int, rel_path: str, *, create: bool = False,
                doing: str = "read") -> Iterator[tuple[int, str]]:
        """(the folder's descriptor, the name) where `rel_path` is, or would be, stored."""
        with self._refusals(rel_path, doing=doing):
            folder, name = confined.open_parent(root, self._relative(rel_path), create=create, root_path=self.root)
        try:
            yield folder, name
        finally:
            os.close(folder)

    def _open_file(self, rel_path: str, flags: int) -> int:
        """The regular file at `rel_path` opened beneath the root with `flags`; NotFound otherwise."""
        relative = self._relative(rel_path)
        with self._root(rel_path, create=False) as root, self._refusals(rel_path):
            fd = confined.open_beneath(root, relative, flags, root_path=self.root)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise NotFound(f"no file {rel_path!r} in the workspace")
        return fd

    @contextmanager
    def _refusals(self, rel_path: str, *, doing: str = "read") -> Iterator[None]:
        """OSErrors inside become errors naming `rel_path` (their own text names the host path);
        `doing` is what was refused for lack of permission (read, written, moved, removed)."""
        try:
            yield
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise NotFound(f"no file {rel_path!r} in the workspace") from None
        except PermissionError:
            raise Forbidden(f"{rel_path!r} in the workspace cannot be {doing}: permission denied") from None
        except OSError as error:
            if error.errno == errno.EXDEV:
                log.warning("workspace %r: refused %r: it leads outside the workspace %s", self.name, rel_path,
                            self.root)
                raise ValidationError("path", f"{rel_path!r} resolves outside the workspace") from None
            if error.errno == errno.ELOOP:
                log.warning("workspace %r: refused %r: a symlink loop", self.name, rel_path)
                raise ValidationError("path", f"{rel_path!r} cannot be resolved: a symlink loop") from None
            raise

    def _owner(self) -> str:
        return f"workspace {self.name!r}" if self.name is not None else "the workspace"


def _is_file(folder: int, name: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return False


def _atomic_copy(source: Path | BinaryIO, folder: int, name: str) -> None:
    """`source` (a path, or an open file) copied to `name` in the folder `folder` through a hidden
    temporary file there."""
    temp_name = f"{HIDDEN_PREFIX}{name[:200]}.{secrets.token_hex(6)}.part"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    handle = os.open(temp_name, flags, 0o600, dir_fd=folder)
    try:
        reading = source.open("rb") if isinstance(source, Path) else nullcontext(source)  # a stream stays open
        with os.fdopen(handle, "wb") as out, reading as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
            os.fchmod(out.fileno(), 0o644)  # stored files are readable like copies, whatever the umask
        os.replace(temp_name, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        try:
            os.unlink(temp_name, dir_fd=folder)
        except FileNotFoundError:
            pass
        raise
