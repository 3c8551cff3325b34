"""The `host` broker: a workspace that is a directory on this machine (`host_path`).

Confinement: a relative path is refused when it is empty, absolute, holds a `..` segment or a
NUL, or when it resolves (following symlinks already on disk) outside the root. Writes are
atomic: the bytes go to a hidden temporary name in the destination's directory, which then
replaces the destination with `os.replace`, so readers see the old file or the whole new one.

Errors name the workspace-relative path, never the host path: they reach API callers, who may
have no token. A file (or a folder on its way) that this process may not read is Forbidden."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from scale.errors import Forbidden, NotFound, ValidationError

# Linux limits on one name and on a whole path, in bytes; longer ones fail in the kernel
# (ENAMETOOLONG), so they are refused up front as bad input.
NAME_MAX = 255
PATH_MAX = 4096


class HostBroker:
    """Files under `root`, a local directory (created on first store)."""

    def __init__(self, root: Path) -> None:
        if not root.is_absolute():
            raise ValidationError("broker.host_path", f"{str(root)!r} is not an absolute path")
        self.root = root

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HostBroker:
        """A broker for the `{"type": "host", "host_path": ...}` configuration."""
        return cls(Path(config["host_path"]))

    def store(self, local_path: Path, rel_path: str) -> str:
        target = self._path(rel_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        _atomic_copy(local_path, target)
        return self._relative(rel_path)

    def retrieve(self, rel_path: str, local_path: Path) -> None:
        source = self._existing(rel_path)
        local_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, local_path)

    def move(self, src_rel: str, dst_rel: str) -> str:
        source = self._existing(src_rel)
        target = self._path(dst_rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        return self._relative(dst_rel)

    def delete(self, rel_path: str) -> None:
        self._path(rel_path).unlink(missing_ok=True)

    def open_read(self, rel_path: str) -> BinaryIO:
        path = self._existing(rel_path)
        with _readable(rel_path):
            return path.open("rb")

    def exists(self, rel_path: str) -> bool:
        path = self._path(rel_path)
        with _readable(rel_path):
            return path.is_file()

    def size(self, rel_path: str) -> int:
        path = self._existing(rel_path)
        with _readable(rel_path):
            return path.stat().st_size

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
            raise ValidationError("path", f"a name in {rel_path[:80]!r}... is longer than {NAME_MAX} bytes")
        return "/".join(parts)

    def _path(self, rel_path: str) -> Path:
        """The absolute path of `rel_path`, refused if symlinks on disk lead it out of the root.
        Every operation reaches the disk through here (the nfs broker mounts in its override)."""
        root = self.root.resolve()
        relative = self._relative(rel_path)
        try:
            candidate = (root / relative).resolve()
        except RuntimeError:  # a symlink loop (before Python 3.13)
            raise ValidationError("path", f"{rel_path!r} cannot be resolved: a symlink loop") from None
        except OSError as error:  # its str() would name the host path
            raise ValidationError("path", f"{rel_path!r} cannot be resolved: {error.strerror}") from None
        if not candidate.is_relative_to(root) or candidate == root:
            raise ValidationError("path", f"{rel_path!r} resolves outside the workspace")
        if len(os.fsencode(candidate)) >= PATH_MAX:
            raise ValidationError("path", f"{rel_path[:80]!r}... makes a path longer than {PATH_MAX} bytes")
        return candidate

    def _existing(self, rel_path: str) -> Path:
        path = self._path(rel_path)
        with _readable(rel_path):
            if not path.is_file():
                raise NotFound(f"no file {rel_path!r} in the workspace")
        return path


@contextmanager
def _readable(rel_path: str) -> Iterator[None]:
    """PermissionError inside becomes Forbidden naming `rel_path` (its own text names the host path)."""
    try:
        yield
    except PermissionError:
        raise Forbidden(f"{rel_path!r} in the workspace cannot be read: permission denied") from None


def _atomic_copy(source: Path, target: Path) -> None:
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp_name, 0o644)  # mkstemp makes 0600; stored files are readable like copies
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
