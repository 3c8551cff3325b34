"""A real Celery worker (`cli.worker.run_worker`) in a child process, for integration tests.

Its own process group, so `kill()` (SIGKILL) reaches the parent and its pool child at once, as
a crashed machine would; `stop()` is a warm shutdown (SIGTERM), then SIGKILL if it hangs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import redis

from scale.settings import Settings

REPO = Path(__file__).resolve().parents[1]
_SCRIPT = ("import sys; from pathlib import Path; from cli.worker import run_worker; "
           "from scale.settings import Settings; home = Path(sys.argv[1]); "
           "sys.exit(run_worker(Settings(home=home, database_url=sys.argv[2], broker_url=sys.argv[3], "
           "work_root=home / 'work'), concurrency=1))")


class CeleryWorker:
    """One worker child process for `settings` (database and broker), logging to `log_path`."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _SCRIPT, str(self.settings.home), self.settings.database_url,
                 self.settings.broker_url], cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


@contextmanager
def running_worker(settings: Settings, log_path: Path) -> Iterator[CeleryWorker]:
    """A started worker, always stopped when the block ends."""
    worker = CeleryWorker(settings, log_path)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def redis_settings(home: Path, database_url: str, redis_url: str, **overrides: Any) -> Settings:
    """The embedded settings under `home` on `database_url`, with Redis database `redis_url`
    (a test module's own, emptied here) as the broker."""
    redis.Redis.from_url(redis_url).flushdb()
    return replace(Settings.embedded(home), database_url=database_url, broker_url=redis_url, **overrides)
