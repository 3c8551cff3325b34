"""A real `scale up` (subprocess, temporary home, free port) with real job types and jobs, and
Debian's chromium driven by Playwright (never a downloaded browser).

Screenshots go to $SCALE_BROWSER_ARTIFACTS, else a temporary directory; its path is printed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import wait_until
from tests.scale_up import Scale, free_port, responding
from tests.ui_tabs import Tab, open_tab

CHROMIUM = "/usr/bin/chromium"


SCRIPTS = {
    "make-greeting": '#!/bin/sh\necho "hello, $1" > "$2/greeting.txt"\necho "ARTIFACT:greeting:$2/greeting.txt"\n',
    "shout": '#!/bin/sh\ntr a-z A-Z < "$1" > "$2/shout.txt"\necho "ARTIFACT:shout:$2/shout.txt"\n',
    # Slow enough that the job page shows it RUNNING with part of its log, then COMPLETED.
    "count-slowly": '#!/bin/sh\nfor i in 1 2 3 4 5 6; do echo "step $i of 6"; sleep 1; done\n',
    "fail-loudly": '#!/bin/sh\necho "reading the text" >&2\necho "cannot read line 7: not UTF-8" >&2\nexit 3\n',
}


def _define(scale: Scale, algorithms: Path, products: Path) -> None:
    ids = scale.ids
    ids["workspace"] = scale.api("POST", "/workspaces/", {
        "name": "products", "title": "Products",
        "json_config": {"version": "1.0", "broker": {"type": "host", "host_path": str(products)}}})["id"]
    scale.api("POST", "/errors/", {"name": "bad-text", "title": "Bad Text",
                                   "description": "The text could not be read", "category": "DATA"})

    def job_type(name: str, args: str, inputs: list, outputs: list, **extra: Any) -> int:
        return scale.api("POST", "/job-types/", {
            "name": name, "version": "1.0", "title": name.replace("-", " ").title(),
            "interface": {"version": "1.0", "command": str(algorithms / name), "command_arguments": args,
                          "input_data": inputs, "output_data": outputs}, **extra})["id"]

    ids["make-greeting"] = job_type("make-greeting", "${message} ${job_output_dir}",
                                    [{"name": "message", "type": "property"}],
                                    [{"name": "greeting", "type": "file", "media_type": "text/plain"}])
    ids["shout"] = job_type("shout", "${text} ${job_output_dir}",
                            [{"name": "text", "type": "file", "media_types": ["text/plain"]}],
                            [{"name": "shout", "type": "file", "media_type": "text/plain"}])
    ids["count-slowly"] = job_type("count-slowly", "${job_output_dir}", [], [])
    ids["held"] = job_type("held", "${job_output_dir}", [], [])
    # Larger than any machine: its jobs stay QUEUED, flagged as never fitting.
    ids["too-large"] = job_type("too-large", "${job_output_dir}", [], [], cpus_required=4096.0)
    ids["fail-loudly"] = job_type("fail-loudly", "${job_output_dir}", [], [],
                                  error_mapping={"version": "1.0", "exit_codes": {"3": "bad-text"}})
    ids["recipe-type"] = scale.api("POST", "/recipe-types/", {
        "name": "greet-loudly", "version": "1.0", "title": "Greet loudly",
        "definition": {"version": "1.0", "input_data": [{"name": "message", "type": "property"}], "jobs": [
            {"name": "make", "job_type": {"name": "make-greeting", "version": "1.0"},
             "recipe_inputs": [{"recipe_input": "message", "job_input": "message"}]},
            {"name": "shout", "job_type": {"name": "shout", "version": "1.0"},
             "dependencies": [{"name": "make", "connections": [{"output": "greeting", "input": "text"}]}]}]}})["id"]
    ids["recipe"] = scale.api("POST", "/queue/new-recipe/", {
        "recipe_type_id": ids["recipe-type"],
        "recipe_data": {"version": "1.0", "input_data": [{"name": "message", "value": "world"}],
                        "workspace_id": ids["workspace"]}})["id"]
    ids["failed-job"] = scale.api("POST", "/queue/new-job/", {
        "job_type_id": ids["fail-loudly"], "job_data": {"version": "1.0", "input_data": [], "output_data": []}})["id"]


@pytest.fixture(scope="session")
def scale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scale]:
    root = tmp_path_factory.mktemp("scale-up")
    home, port = root / "home", free_port()
    algorithms = root / "algorithms"
    algorithms.mkdir()
    for name, text in SCRIPTS.items():
        (algorithms / name).write_text(text)
        (algorithms / name).chmod(0o755)
    log = (root / "scale-up.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "cli.main", "up", "--home", str(home), "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: responding(f"{url}/api/status/"), what="scale up to answer", timeout=120)
        running = Scale(url=url, token=(home / "admin-token").read_text().strip(), home=home)
        _define(running, algorithms, root / "products")
        wait_until(lambda: running.get(f"/recipes/{running.ids['recipe']}/")["completed"],
                   what="the recipe to complete", timeout=120)
        wait_until(lambda: running.job_status(running.ids["failed-job"]) == "FAILED",
                   what="the failing job to fail", timeout=120)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


_SCREENSHOTS: list[Path] = []


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = Path(os.environ.get("SCALE_BROWSER_ARTIFACTS") or tmp_path_factory.mktemp("browser-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    _SCREENSHOTS.append(path)
    return path


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Where the screenshots are, printed even when pytest captures the tests' output."""
    for path in _SCREENSHOTS:
        terminalreporter.write_line(f"[tests/browser] screenshots in {path}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run bin/browser-up (bin/test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: the tests may run as root, where chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def tab(browser: Any, scale: Scale) -> Iterator[Tab]:
    opened = open_tab(browser, scale, signed_in=True)
    yield opened
    opened.page.context.close()
    assert opened.errors == []
