"""`scale up`: the embedded default. Migrates, makes the admin token on first start, then
runs each process as a child and stops them all on SIGINT, SIGTERM or SIGHUP.

The children die with `scale up` however it ends: each asks the kernel for SIGTERM when its
parent dies (`PR_SET_PDEATHSIG`), so a `kill -9` of `scale up` stops them as a clean shutdown
would. They run in a process group of their own, so a terminal's Ctrl-C or hang-up reaches
only `scale up`, which stops them in order. One `scale up` at a time per home: it holds an
exclusive lock on HOME/scale.lock, which the children inherit, so the home stays busy until
the last of them has gone."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from scale import migrate, tokens
from scale.db import make_engine, make_sessions
from scale.settings import Settings

ADMIN_TOKEN_FILE = "admin-token"
LOCK_FILE = "scale.lock"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def ensure_admin_token(settings: Settings) -> Path:
    """Write an admin token to HOME/admin-token unless one is there already."""
    path = settings.home / ADMIN_TOKEN_FILE
    if path.exists():
        return path
    engine = make_engine(settings.database_url)
    try:
        with make_sessions(engine).begin() as session:
            name, n = "admin", 1
            while tokens.find_token_by_name(session, name) is not None:
                n += 1
                name = f"admin-{n}"
            value = tokens.create_token(session, name)
    finally:
        engine.dispose()
    path.touch(mode=0o600)
    path.write_text(value + "\n")
    return path


def process_commands(settings: Settings, *, host: str, port: int) -> dict[str, list[str]]:
    """The processes of the Procfile, as commands for this home and port."""
    scale = [sys.executable, "-m", "cli.main"]
    home = ["--home", str(settings.home)]
    return {
        "web": [*scale, "web", *home, "--host", host, "--port", str(port)],
        "scheduler": [*scale, "scheduler", *home],
        "worker": [*scale, "worker", *home],
        "clock": [*scale, "clock", *home],
    }


def lock_home(home: Path) -> IO[bytes] | None:
    """HOME/scale.lock, open and exclusively locked; None when another `scale up` holds it."""
    lock = (home / LOCK_FILE).open("ab")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock


def port_in_use(host: str, port: int) -> bool:
    """Whether the web process could not listen on `host:port` (with SO_REUSEADDR, as waitress)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def die_with_parent() -> Callable[[], None]:
    """A `preexec_fn` that makes the child receive SIGTERM when this process dies."""
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before the fork: nothing to load after it
    parent = os.getpid()

    def arm() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return arm


def run_up(settings: Settings, *, host: str, port: int) -> int:
    settings.home.mkdir(parents=True, exist_ok=True)
    lock = lock_home(settings.home)
    if lock is None:
        print(f"scale up: {settings.home} is in use by another `scale up`", file=sys.stderr, flush=True)
        return 1
    if port_in_use(host, port):
        print(f"scale up: port {port} on {host} is already in use; choose another with --port",
              file=sys.stderr, flush=True)
        return 1
    migrate.upgrade(settings.database_url)
    token_path = ensure_admin_token(settings)
    print(f"scale up: home {settings.home}, admin token in {token_path}", flush=True)

    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    arm = die_with_parent()
    children = {name: subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=arm,
                                       process_group=0, pass_fds=(lock.fileno(),))
                for name, cmd in process_commands(settings, host=host, port=port).items()}
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"scale up: {name} exited with {child.returncode}; stopping", flush=True)
                exit_code, stopping = child.returncode or 1, True
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for child in children.values():
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
    lock.close()
    print("scale up: stopped", flush=True)
    return exit_code
