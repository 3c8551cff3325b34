"""Which directories may be the root of a workspace, a Strike or a scan: the one rule.

Anything under a root can be read back through the API (workspace downloads) or moved and
deleted by Scale (a Strike moves the files it ingests), so a root may not be a system directory
or Scale's own home (its database, admin token and broker files):

* `SYSTEM_TREES` are refused with everything below them (`/etc`, `/etc/ssl`, ...);
* `SYSTEM_DIRS` are refused themselves, but their subdirectories are fine (`/var/data`,
  `/tmp/scale-products`, `/home/ann/data`), since each holds many unrelated programs' or users'
  files;
* the Scale home is refused, with everything inside it and every directory above it (`/srv`
  when the home is `/srv/scale`).

A local path is checked both as written (made absolute and normalized) and with its symlinks
resolved, so a symlink to `/etc` is refused like `/etc`. Then a local path with a symlink on its
way (the root itself or any folder above it) is refused, naming its real path: at every use the
root is opened by walking its configured path without following symlinks
(`scale.workspaces.confined`), so a root reached through a symlink could never be used, and a
symlink there is exactly what could later move the root somewhere else (docs/decisions.md,
"boundary rule"). The path on an NFS server is checked as
written against the system directories only: its symlinks live on the server, and the home is a
directory on this machine."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from scale.exceptions import ValidationError

SYSTEM_TREES: tuple[PurePosixPath, ...] = tuple(PurePosixPath(path) for path in (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root", "/run",
    "/sbin", "/sys", "/usr", "/var/backups", "/var/cache", "/var/lib", "/var/log", "/var/mail",
    "/var/run", "/var/spool",
))
SYSTEM_DIRS: frozenset[PurePosixPath] = frozenset(PurePosixPath(path) for path in ("/", "/home", "/tmp", "/var"))


def check_local_root(path: str, *, field: str, home: Path | None) -> None:
    """ValidationError naming `field` when the local directory `path` may not be a root (see the
    module docstring). `home` is Scale's home; None skips that part of the rule (for a caller
    re-reading a document that was checked with the home when it was stored)."""
    written = PurePosixPath(os.path.normpath(os.path.abspath(path)))
    resolved = PurePosixPath(os.path.realpath(path))
    for candidate in dict.fromkeys((written, resolved)):
        _refuse_system(candidate, path, field)
        if home is not None:
            scale_home = PurePosixPath(os.path.realpath(home))
            if candidate.is_relative_to(scale_home) or scale_home.is_relative_to(candidate):
                raise ValidationError(field, f"{_shown(path, candidate)} is Scale's home, inside it or above "
                                             "it; choose a directory of its own for data")
    if written != resolved:
        raise ValidationError(field, f"{path!r} has a symlink on its way; give its real path {str(resolved)!r}")


def check_remote_root(path: str, *, field: str) -> None:
    """ValidationError naming `field` when `path`, a directory on an NFS server, is a system
    directory of that server."""
    _refuse_system(PurePosixPath(os.path.normpath(path)), path, field)


def _refuse_system(candidate: PurePosixPath, path: str, field: str) -> None:
    # normpath keeps a leading "//" (POSIX leaves its meaning to the system); Linux treats it as "/".
    candidate = PurePosixPath("/" + str(candidate).lstrip("/"))
    shown = _shown(path, candidate)
    if candidate in SYSTEM_DIRS:
        raise ValidationError(field, f"{shown} is a system directory; use a directory of its own beneath it")
    tree = next((tree for tree in SYSTEM_TREES if candidate.is_relative_to(tree)), None)
    if tree is not None:
        raise ValidationError(field, f"{shown} is in the system directory {str(tree)!r}")


def _shown(path: str, candidate: PurePosixPath) -> str:
    return repr(path) if str(candidate) == path else f"{path!r} (that is {str(candidate)!r})"
