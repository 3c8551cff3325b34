"""The production stack for end-to-end tests: PostgreSQL, Redis and the real web, scheduler and
worker processes (`scale web|scheduler|worker`), each its own process as the Procfile runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scale import tokens
from scale.db import make_engine, make_sessions
from tests.conftest import recreate_pg_database
from tests.helpers import wait_until
from tests.scale_up import free_port, responding


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """web + scheduler + worker on a fresh PostgreSQL database and Redis; yields the API base
    URL and headers carrying a token."""
    url = recreate_pg_database(f"scale_e2e_{os.getpid()}")
    env = {**os.environ, "SCALE_DATABASE_URL": url, "SCALE_BROKER_URL": "redis://127.0.0.1:6379/9",
           "SCALE_WORK_ROOT": str(tmp_path / "work"), "SCALE_MOUNT_ROOT": str(tmp_path / "mounts"),
           "PYTHONUNBUFFERED": "1"}
    home = ["--home", str(tmp_path / "home")]
    subprocess.run([sys.executable, "-m", "cli.main", "db", "upgrade", *home], env=env, check=True,
                   capture_output=True)
    engine = make_engine(url)
    with make_sessions(engine).begin() as session:
        token = tokens.create_token(session, "e2e")
    engine.dispose()
    port = free_port()
    processes = [subprocess.Popen([sys.executable, "-m", "cli.main", *cmd, *home], env=env,
                                  stdout=open(tmp_path / f"{cmd[0]}.log", "w"), stderr=subprocess.STDOUT)
                 for cmd in (["web", "--port", str(port)], ["scheduler"], ["worker"])]
    base = f"http://127.0.0.1:{port}/api"
    try:
        wait_until(lambda: responding(f"{base}/status/"), what="the web process", timeout=60)
        yield base, token
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in tmp_path.glob("*.log"):
            print(f"--- {log.name}\n{log.read_text()[-3000:]}")
