"""NFS mounts (`host:/path`) of workspaces and Strike directories, made with the system `mount`.

A mount is made once per machine and reused: when something is already mounted at the mount
point it is kept (an operator may have mounted it by hand, or another Scale process did).
An NFS mount there of a *different* remote is refused rather than silently used, so editing a
workspace's `mount` never writes to the old server. Mounting needs root (CAP_SYS_ADMIN) and
an NFS client on the machine (Debian: `nfs-common`, and the kernel's `nfs` module).

Options: `soft,timeo=100,retrans=3` so an unreachable server fails a file operation after
about 30 seconds instead of hanging the process forever; `retry=0` so `mount` itself tries
once instead of retrying in the foreground for two minutes; `nolock` because Scale never
relies on NFS byte-range locks (and they need `rpc.statd`); `nosuid,nodev` because workspace
and Strike files are data, never programs to trust."""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

from scale.exceptions import ConfigError, ScaleError

NFS_OPTIONS = "soft,timeo=100,retrans=3,retry=0,nolock,nosuid,nodev"
MOUNT_TIMEOUT_SECONDS = 60.0
_MOUNTS_TABLE = Path("/proc/self/mounts")


class MountError(ScaleError):
    """A mount that could not be made; the message names the remote, the mount point and
    what `mount` said (`problem`)."""

    def __init__(self, remote: str, mount_point: Path, problem: str, *, owner: str | None = None) -> None:
        self.remote = remote
        self.mount_point = mount_point
        self.problem = problem
        # Told about its owner (`workspace 'raw'`), the message leaves the mount point out: it
        # may be an API answer to a caller without a token, who has no business with host paths.
        super().__init__(f"{owner}: cannot mount {remote}: {problem}" if owner
                         else f"cannot mount {remote} at {mount_point}: {problem}")

    def for_owner(self, owner: str) -> MountError:
        """The same error, told about its owner and without the mount point (`mount` names it
        in its own words too: there it becomes `<mount point>`)."""
        problem = self.problem.replace(str(self.mount_point), "<mount point>")
        return MountError(self.remote, self.mount_point, problem, owner=owner)


def mount_point(mount_root: Path, kind: str, name: str) -> Path:
    """Where the NFS mount of the workspace or Strike (`kind`: "workspaces", "strikes") called
    `name` goes: `<mount root>/<kind>/<name>`. Names are validated when they are created, but a
    row written by hand could hold one that is not a single path component (`..` would mount over
    the mount root's parent), so it is refused here too with ConfigError."""
    if name in ("", ".", "..") or "/" in name or "\0" in name:
        raise ConfigError(f"{kind.removesuffix('s')} {name!r}: its name cannot name a mount point")
    return mount_root.absolute() / kind / name


def ensure_nfs_mounted(remote: str, mount_point: Path) -> Path:
    """`remote` (`host:/path`) mounted at `mount_point`, mounting it unless something already is.

    Concurrent callers (threads or processes) take turns on a lock file beside the mount point,
    so one mount is made, not one stacked on another. Raises MountError."""
    mount_point = Path(os.path.abspath(mount_point))
    try:
        mount_point.mkdir(parents=True, exist_ok=True)
        lock = os.open(mount_point.parent / f".{mount_point.name}.mount-lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise MountError(remote, mount_point, str(error)) from error
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = mounted_at(mount_point)
        if current is None:
            _mount(remote, mount_point)
        elif current[1].startswith("nfs") and current[0].rstrip("/") != remote.rstrip("/"):
            raise MountError(remote, mount_point, f"{current[0]} is mounted there; unmount it first")
    finally:
        os.close(lock)  # closing the descriptor releases the lock
    return mount_point


def mounted_at(mount_point: Path) -> tuple[str, str] | None:
    """(source, filesystem type) of the mount at `mount_point`, or None when nothing is mounted there.

    `/proc/self/mounts` is the authority (it also lists bind mounts of the same filesystem, which
    `os.path.ismount` cannot see); `os.path.ismount` covers a machine without `/proc`."""
    target = os.path.abspath(mount_point)
    try:
        lines = _MOUNTS_TABLE.read_text().splitlines()
    except OSError:
        return ("unknown", "unknown") if os.path.ismount(target) else None
    found = None
    for line in lines:
        fields = line.split()
        if len(fields) >= 3 and _unescape(fields[1]) == target:
            found = (_unescape(fields[0]), fields[2])  # the last one listed is the one on top
    return found


def _unescape(field: str) -> str:
    """The kernel writes space, tab, newline and backslash in mount table fields as octal escapes."""
    for escaped, plain in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(escaped, plain)
    return field


def _mount(remote: str, mount_point: Path) -> None:
    argv = ["mount", "-t", "nfs", "-o", NFS_OPTIONS, remote, str(mount_point)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=MOUNT_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise MountError(remote, mount_point,
                         f"`mount` did not finish within {MOUNT_TIMEOUT_SECONDS:g}s") from None
    except OSError as error:
        raise MountError(remote, mount_point, f"cannot run `mount`: {error}") from error
    if done.returncode != 0:
        said = " ".join((done.stderr or done.stdout).split()) or f"exit code {done.returncode}"
        hint = ""
        if "unknown filesystem type" in said or "No such device" in said:
            hint = " (this machine has no NFS client: install nfs-common and load the kernel's nfs module)"
        raise MountError(remote, mount_point, f"{said}{hint}")
