"""Files reached only beneath a directory this process holds open: the file boundary at every use.

A root (a workspace's `host_path`, a Strike's or a scan's directory, an NFS mount point) is
opened with `open_root`, which walks its absolute path from `/` one component at a time without
following symlinks (`O_PATH|O_DIRECTORY|O_NOFOLLOW`, each relative to the last): a root, or any
folder on its way, that is (or has become) a symlink is refused with `SymlinkOnTheWay`. The
descriptor it returns is the root as it is now; whatever is renamed or swapped afterwards, what
is opened beneath it stays beneath it.

Everything beneath a root is reached from its descriptor with `open_beneath`: Linux `openat2(2)`
with `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`, so the kernel refuses (EXDEV) any resolution
that leaves the root, through `..` or a symlink, atomically with the open. Symlinks that stay
inside are followed. Where `openat2` does not exist (ENOSYS: a kernel before 5.6, or a seccomp
profile that hides it) the same rule is kept in user space: each component is opened with
`O_NOFOLLOW` relative to its parent's descriptor, a symlink's target is read and resolved the
same way, and `..` steps back to a descriptor already held, never above the root.

An absolute symlink is followed only when it names a place under the root's configured path
(`/data/raw/in` inside the workspace `/data/raw`); it is then resolved from the root's
descriptor, not from `/`, so it cannot be redirected by a later swap. The kernel refuses every
absolute link, so such a path is resolved in user space after the kernel's EXDEV.

Refusals are OSErrors, as the kernel reports them: EXDEV (leaves the root), ELOOP (a symlink
loop); callers turn them into errors that name the path inside the root, never the host path.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import sys
from pathlib import Path

# <linux/openat2.h>
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_BENEATH = 0x08
_SYS_OPENAT2 = 437  # the same on every architecture since Linux 5.6 (the unified syscall table)
# The kernel's limit on symlinks followed in one resolution (MAXSYMLINKS).
MAX_SYMLINKS = 40

_DIRECTORY = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC


class SymlinkOnTheWay(OSError):
    """A root, or a folder on the way to it, is a symlink: the root is not where it was configured.
    `component` is the absolute path of the first such symlink."""

    def __init__(self, component: str) -> None:
        super().__init__(errno.ELOOP, "a symlink is on the way to the root", component)
        self.component = component


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
# False once openat2 answered ENOSYS: every later open takes the user-space walk at once.
_openat2_available = _libc is not None


def open_root(path: str | Path, *, create: bool = False, flags: int = os.O_PATH) -> int:
    """A descriptor of the absolute directory `path`, walked from `/` without following any
    symlink. `create` makes missing folders on the way (mode 0777 less the umask). `flags` open
    the directory itself: `O_PATH` (the default) to reach what is beneath it, `O_RDONLY` to list it
    as well (which needs read permission on it, not search permission).

    Raises SymlinkOnTheWay, FileNotFoundError (missing, without `create`), NotADirectoryError,
    PermissionError. The caller closes the descriptor."""
    text = os.fspath(path)
    if not os.path.isabs(text):
        raise ValueError(f"{text!r} is not an absolute path")
    fd = os.open("/", _DIRECTORY)
    walked = ""
    try:
        names = _components(os.path.normpath(text))
        for depth, name in enumerate(names, start=1):
            walked += "/" + name
            opening = flags if depth == len(names) else os.O_PATH
            try:
                following = _open_directory(fd, name, walked, opening)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(name, dir_fd=fd)
                except FileExistsError:
                    pass  # made meanwhile by another process, or a dangling symlink: opening tells
                following = _open_directory(fd, name, walked, opening)
            os.close(fd)
            fd = following
        return fd
    except BaseException:
        os.close(fd)
        raise


def open_file(path: str | Path, flags: int) -> int:
    """The file at the absolute `path` opened with `flags`, with no symlink anywhere on its way,
    the file itself included (ELOOP when it is one; SymlinkOnTheWay for a folder)."""
    folder = open_root(os.path.dirname(os.fspath(path)))
    try:
        return os.open(os.path.basename(os.fspath(path)), flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    finally:
        os.close(folder)


def open_beneath(root_fd: int, rel: str, flags: int, *, root_path: str | Path | None = None) -> int:
    """`rel` opened with `flags` beneath the directory `root_fd`; the result never lies outside it.

    `root_path`, the root's configured absolute path, lets absolute symlinks that name a place
    under it be followed (see the module docstring). Raises OSError: EXDEV when the path leaves
    the root, ELOOP for a symlink loop, and what opening the file itself raises (ENOENT, EACCES,
    ENOTDIR, ...). `O_CREAT` is not supported: create files by name in a parent's descriptor."""
    if flags & os.O_CREAT:
        raise ValueError("open_beneath does not create files")
    global _openat2_available
    if _openat2_available:
        try:
            return _openat2(root_fd, rel or ".", flags | os.O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
        except OSError as error:
            if error.errno == errno.ENOSYS:
                _openat2_available = False
            elif error.errno != errno.EXDEV or root_path is None:
                raise
            # EXDEV with a root path: perhaps an absolute symlink back into the root; the walk decides.
    return _walk(root_fd, rel, flags, _root_parts(root_path))


def open_parent(root_fd: int, rel: str, *, create: bool = False,
                root_path: str | Path | None = None) -> tuple[int, str]:
    """(an `O_PATH` descriptor of the folder that holds `rel`, the name in it), beneath `root_fd`.

    A last component that is a symlink is resolved (beneath the root), so the name returned is
    the file a write replaces or a removal removes; it may not exist yet. `create` makes missing
    folders on the way. Raises what `open_beneath` raises, and IsADirectoryError when `rel`
    resolves to a directory rather than a name in one."""
    root_parts = _root_parts(root_path)
    if rel.startswith("/"):
        rel = _inside(rel, root_parts, rel)
    links = 0
    while True:
        parts = _components(rel)
        if not parts or parts[-1] in (".", ".."):
            raise IsADirectoryError(errno.EISDIR, "names a directory", rel)
        head, name = "/".join(parts[:-1]), parts[-1]
        parent = _folder(root_fd, parts[:-1], create=create, root_path=root_path)
        try:
            info = os.lstat(name, dir_fd=parent)
        except FileNotFoundError:
            return parent, name
        except BaseException:
            os.close(parent)
            raise
        if not stat.S_ISLNK(info.st_mode):
            return parent, name
        try:
            target = os.readlink(name, dir_fd=parent)
        finally:
            os.close(parent)
        links += 1
        if links > MAX_SYMLINKS:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), rel)
        rel = _inside(target, root_parts, rel) if target.startswith("/") else f"{head}/{target}"


def _folder(root_fd: int, parts: list[str], *, create: bool, root_path: str | Path | None) -> int:
    """The folder `parts` (a list of names) beneath the root, made component by component when
    missing and `create`: each made with `mkdir(name, dir_fd=...)` in its parent, then opened
    beneath the root again (a name that is a symlink is resolved, not trusted)."""
    try:
        return open_beneath(root_fd, "/".join(parts), _DIRECTORY, root_path=root_path)
    except FileNotFoundError:
        if not create:
            raise
    fd = os.dup(root_fd)
    try:
        for depth, name in enumerate(parts, start=1):
            rel = "/".join(parts[:depth])
            try:
                following = open_beneath(root_fd, rel, _DIRECTORY, root_path=root_path)
            except FileNotFoundError:
                try:
                    os.mkdir(name, dir_fd=fd)
                except FileExistsError:
                    pass  # made meanwhile, or a dangling symlink: opening it tells
                following = open_beneath(root_fd, rel, _DIRECTORY, root_path=root_path)
            os.close(fd)
            fd = following
        return fd
    except BaseException:
        os.close(fd)
        raise


def _openat2(dir_fd: int, path: str, flags: int, resolve: int) -> int:
    if _libc is None:
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))
    how = _OpenHow(flags, 0, resolve)
    fd = _libc.syscall(ctypes.c_long(_SYS_OPENAT2), ctypes.c_int(dir_fd), ctypes.c_char_p(os.fsencode(path)),
                       ctypes.byref(how), ctypes.c_size_t(ctypes.sizeof(how)))
    if fd < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), path)
    return int(fd)


def _walk(root_fd: int, rel: str, flags: int, root_parts: list[str] | None) -> int:
    """`open_beneath` without openat2: resolve `rel` one component at a time with O_NOFOLLOW."""
    pending = _components(_inside(rel, root_parts, rel) if rel.startswith("/") else rel)
    if not pending:
        return os.open(".", flags | os.O_CLOEXEC, dir_fd=root_fd)
    # The folders from the root down to the current one; `..` pops one, so it never climbs above
    # the root and never asks the file system for a parent that a rename may have moved.
    stack = [os.dup(root_fd)]
    links = 0
    try:
        while pending:
            name = pending.pop(0)
            if name == ".":
                continue
            if name == "..":
                if len(stack) == 1:
                    raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), rel)
                os.close(stack.pop())
                continue
            last = not pending
            opened = _open_no_follow(stack[-1], name, flags if last else _DIRECTORY)
            if opened is not None:
                if last:
                    return opened
                stack.append(opened)
                continue
            links += 1
            if links > MAX_SYMLINKS:
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), rel)
            target = os.readlink(name, dir_fd=stack[-1])
            if target.startswith("/"):
                inside = _components(_inside(target, root_parts, rel))
                for fd in stack[1:]:
                    os.close(fd)
                del stack[1:]
                pending = inside + pending
            else:
                pending = _components(target) + pending
        # `rel` ended with `..` or `.`: the folder reached is the file.
        return os.open(".", flags | os.O_CLOEXEC, dir_fd=stack[-1])
    finally:
        for fd in stack:
            os.close(fd)


def _open_no_follow(dir_fd: int, name: str, flags: int) -> int | None:
    """`name` in `dir_fd` opened with `flags` and O_NOFOLLOW; None when it is a symlink."""
    try:
        fd = os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as error:
        # O_NOFOLLOW on a symlink: ELOOP, or ENOTDIR when O_DIRECTORY is asked for as well.
        if error.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        if not stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode):
            raise
        return None
    if flags & os.O_PATH and stat.S_ISLNK(os.fstat(fd).st_mode):  # O_PATH|O_NOFOLLOW opens the link itself
        os.close(fd)
        return None
    return fd


def _open_directory(dir_fd: int, name: str, walked: str, flags: int) -> int:
    try:
        return os.open(name, flags | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except NotADirectoryError:
        if stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode):
            raise SymlinkOnTheWay(walked) from None
        raise


def _inside(target: str, root_parts: list[str] | None, rel: str) -> str:
    """The absolute path `target` (a symlink's, or one asked for) relative to the root, when it
    names a place under the root's configured path (`root_parts`); EXDEV otherwise."""
    parts = _components(target)
    if root_parts is None or parts[:len(root_parts)] != root_parts:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), rel)
    return "/".join(parts[len(root_parts):]) or "."


def _root_parts(root_path: str | Path | None) -> list[str] | None:
    return _components(os.path.normpath(os.fspath(root_path))) if root_path is not None else None


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]
