"""`scale up`: the embedded default. Migrates, makes the admin token on first start, then
runs each process as a child and stops them all on SIGINT/SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from scale import migrate, tokens
from scale.db import make_engine, make_sessions
from scale.settings import Settings

ADMIN_TOKEN_FILE = "admin-token"


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


def run_up(settings: Settings, *, host: str, port: int) -> int:
    settings.home.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    token_path = ensure_admin_token(settings)
    print(f"scale up: home {settings.home}, admin token in {token_path}", flush=True)

    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    children = {name: subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"})
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
    print("scale up: stopped", flush=True)
    return exit_code
