"""Test helpers: waiting on a condition with a deadline (never sleeping then asserting), and
counting the SQL statements a block of code runs."""

from __future__ import annotations

import ctypes
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

T = TypeVar("T")


def closed_port() -> int:
    """A local TCP port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check: Callable[[], T], *, what: str, timeout: float = 10.0) -> T:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout}s waiting for {what}")
        time.sleep(0.05)
    return result


@contextmanager
def statements(target: Any) -> Iterator[list[str]]:
    """The SQL statements run inside the block through `target` (a Session's connection, a
    Connection or an Engine), transaction control (BEGIN, SAVEPOINT, ...) left out."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")):
            seen.append(statement)

    bind = target.connection() if isinstance(target, Session) else target
    event.listen(bind, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", record)


NOBODY = 65534


@contextmanager
def unprivileged_files() -> Iterator[None]:
    """Let the calling thread touch files as `nobody` (its filesystem uid), as a Scale that does
    not run as root would: a root process can read anything, so without this no file is ever
    unreadable to the tests. Changing the filesystem uid from 0 drops CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH for this thread only (capabilities(7)); changing it back restores them.
    The database connections the test uses are already open, so they are not affected."""
    libc = ctypes.CDLL(None, use_errno=True)
    if os.geteuid() != 0:
        yield  # already unprivileged: a file with mode 000 is unreadable as it is
        return
    libc.setfsuid(NOBODY)
    try:
        yield
    finally:
        libc.setfsuid(0)


@contextmanager
def open_folder() -> Iterator[Path]:
    """A fresh folder that `nobody` may reach (under /var/tmp, mode 755), removed afterwards:
    pytest's tmp_path is private to root, so under `unprivileged_files` nothing in it is reachable."""
    folder = Path(tempfile.mkdtemp(dir="/var/tmp", prefix="scale-test-"))
    try:
        folder.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder)
