"""Celery Flower against a real Scale worker: `celery -A workers.monitor:celery flower` (the
Procfile's `flower` line) sees the worker and follows a system task through its task events."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scale.settings import Settings
from tests.celery_worker import REPO, CeleryWorker, redis_settings, running_worker
from tests.helpers import wait_until
from workers.app import make_celery
from workers.tasks import SWEEP_RECIPES

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/11"
USER, PASSWORD = "scale", "flower-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broker_settings(tmp_path: Path, database_url: str) -> Settings:
    return redis_settings(tmp_path / "home", database_url, REDIS_URL)


@pytest.fixture
def worker(broker_settings: Settings, tmp_path: Path) -> Iterator[CeleryWorker]:
    with running_worker(broker_settings, tmp_path / "worker.log") as running:
        yield running


@pytest.fixture
def flower(broker_settings: Settings, tmp_path: Path) -> Iterator[str]:
    """Flower as an operator starts it, configured by the same environment as every process."""
    port = free_port()
    env = {**os.environ, **broker_settings.to_env(), "SCALE_HOME": str(broker_settings.home)}
    with (tmp_path / "flower.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.monitor:celery", "flower", f"--port={port}",
             "--address=127.0.0.1", f"--basic-auth={USER}:{PASSWORD}"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def get_json(url: str) -> Any:
    credentials = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {credentials}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
        return None


def test_flower_sees_the_worker_and_follows_a_task_to_success(broker_settings: Settings, worker: CeleryWorker,
                                                              flower: str):
    workers = wait_until(lambda: get_json(f"{flower}/api/workers?refresh=1"), what="Flower to list the worker",
                         timeout=60)
    assert len(workers) == 1, workers

    sent = make_celery(broker_settings).send_task(SWEEP_RECIPES)

    def task_state() -> str | None:
        task = (get_json(f"{flower}/api/tasks") or {}).get(sent.id)
        return task["state"] if task and task["state"] in ("SUCCESS", "FAILURE") else None

    assert wait_until(task_state, what="Flower to see the sweep succeed", timeout=60) == "SUCCESS", worker.log()
    task = get_json(f"{flower}/api/tasks")[sent.id]
    assert task["name"] == SWEEP_RECIPES
    assert task["worker"] in workers
