"""Path rules shared by the Strike and workspace specs: mounts and paths may not escape their roots."""

from __future__ import annotations

import os
import re

from scale.exceptions import ValidationError

# `host:/file/path`, the reference's NFS mount format. The host part has no '/' so that an
# absolute local path containing a colon is not mistaken for a mount.
_NFS_MOUNT = re.compile(r"^(?P<host>[^:/\s]+):(?P<path>/.*)$")


def parse_nfs_mount(text: str, *, field: str) -> tuple[str, str]:
    """Split `host:/file/path` into (host, path); the path must be absolute without `..`."""
    match = _NFS_MOUNT.match(text)
    if match is None:
        raise ValidationError(field, f"{text!r} is not an NFS mount of the form host:/file/path")
    return match["host"], check_absolute_path(match["path"], field=field)


def is_nfs_mount(text: str) -> bool:
    """True when `text` looks like `host:/file/path` rather than a local path."""
    return _NFS_MOUNT.match(text) is not None


def check_absolute_path(text: str, *, field: str) -> str:
    """`text` if it is an absolute path with no `..` segment, else ValidationError."""
    if not text.startswith("/"):
        raise ValidationError(field, f"{text!r} is not an absolute path")
    _refuse_parent_segments(text, field)
    return text


def check_relative_path(text: str, *, field: str) -> str:
    """`text` as a path relative to a root it cannot leave: no `..` segment, and leading
    slashes are dropped (the reference's own Strike example writes `/wrksp/path` and means a
    path inside the workspace)."""
    _refuse_parent_segments(text, field)
    return text.lstrip("/")


def _refuse_parent_segments(text: str, field: str) -> None:
    if "\0" in text:
        raise ValidationError(field, "a path may not contain a NUL character")
    try:
        os.fsencode(text)
    except UnicodeEncodeError:  # a lone surrogate: no file system name is spelled so
        raise ValidationError(field, f"{text[:80]!r} cannot be a file system path") from None
    if ".." in text.replace("\\", "/").split("/"):
        raise ValidationError(field, f"{text!r} may not contain a '..' segment")
