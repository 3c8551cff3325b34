"""`scale up`: the embedded default in the foreground, as a newcomer runs it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.scale_up import free_port, request, responding, start_up, stop

pytestmark = pytest.mark.integration


def announce_oversized_body(port: int) -> tuple[bytes, bytes, bytes]:
    """(status line, headers, body) of the answer to a POST announcing 200 MB and sending none."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"POST /api/errors/ HTTP/1.1\r\nHost: scale\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 209715200\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, _, headers = head.partition(b"\r\n")
    return status, headers, body


def test_up_serves_the_api_and_stops_cleanly(tmp_path: Path):
    home, port = tmp_path / "home", free_port()
    base = f"http://127.0.0.1:{port}/api"
    process = start_up(home, port)
    try:
        wait_until(lambda: responding(f"{base}/errors/"), what="the API to answer", timeout=60)
        token = (home / "admin-token").read_text().strip()
        assert (home / "admin-token").stat().st_mode & 0o077 == 0

        status, _ = request("POST", f"{base}/workspaces/", {"name": "x", "json_config": {}})
        assert status == 401
        status, created = request("POST", f"{base}/workspaces/", {
            "name": "products", "json_config": {"version": "1.0", "broker": {
                "type": "host", "host_path": str(tmp_path / "products")}}}, token)
        assert status == 201, created
        assert responding(f"{base}/docs")
        assert responding(f"{base}/swagger.json")
        assert responding(f"http://127.0.0.1:{port}/")
        status, headers, body = announce_oversized_body(port)
        assert status.startswith(b"HTTP/1.1 413") and b"Content-Type: application/json" in headers
        assert set(json.loads(body)) == {"message"}
        wait_until(lambda: request("GET", f"{base}/status/")[1]["clock"]["is_online"],
                   what="the clock to tick", timeout=60)
    finally:
        code, out = stop(process)
    assert code == 0, out
    assert f"web UI at http://127.0.0.1:{port}/, API docs at http://127.0.0.1:{port}/api/docs" in out
    assert "stopped" in out
    # A clean start: Scale's own lines, not the libraries' internals (issue 16).
    assert "[clock] scale.clock INFO clock started" in out
    for noise in ("SecurityWarning", "superuser privileges", "Adding job tentatively", "apscheduler",
                  "No hostname was supplied", "celery.app.trace"):
        assert noise not in out, noise

    # A second start keeps the data and the admin token.
    process = start_up(home, port)
    try:
        wait_until(lambda: responding(f"{base}/errors/"), what="the API to answer again", timeout=60)
        status, listing = request("GET", f"{base}/workspaces/?name=products")
        assert status == 200 and listing["count"] == 1
        assert (home / "admin-token").read_text().strip() == token
    finally:
        code, out = stop(process, signal.SIGINT)
    assert code == 0, out


def test_token_create_prints_a_usable_token_once(tmp_path: Path):
    home = tmp_path / "home"
    subprocess.run([sys.executable, "-m", "cli.main", "db", "upgrade", "--home", str(home)],
                   check=True, capture_output=True)
    made = subprocess.run([sys.executable, "-m", "cli.main", "token", "create", "ci", "--home", str(home)],
                          capture_output=True, text=True)
    assert made.returncode == 0 and len(made.stdout.strip()) > 30
    again = subprocess.run([sys.executable, "-m", "cli.main", "token", "create", "ci", "--home", str(home)],
                           capture_output=True, text=True)
    assert again.returncode != 0
    assert "already exists" in again.stderr


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (zombies count as gone: only a reaper is missing)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if state != "Z":
            children.setdefault(int(ppid), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def still_running(pids: set[int]) -> set[int]:
    running = set()
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                running.add(pid)
        except OSError:
            continue
    return running


def refused(process: subprocess.Popen) -> tuple[int, list[str]]:
    """Exit code and stderr lines of a `scale up` that should stop at once."""
    _, err = process.communicate(timeout=60)
    return process.returncode, err.strip().splitlines()


def test_kill_9_of_up_takes_its_children_with_it_and_the_home_can_start_again(tmp_path: Path):
    home, port = tmp_path / "home", free_port()
    process = start_up(home, port)
    try:
        wait_until(lambda: responding(f"http://127.0.0.1:{port}/api/errors/"), what="the API to answer", timeout=60)
        children = wait_until(lambda: found if len(found := descendants(process.pid)) >= 4 else None,
                              what="web, scheduler, worker and clock to start", timeout=30)
        process.kill()
        process.wait(timeout=10)
        wait_until(lambda: not still_running(children), what=f"the children {children} to end", timeout=45)
    finally:
        for pid in still_running(descendants(process.pid)):
            os.kill(pid, signal.SIGKILL)
    again = start_up(home, port)
    try:
        wait_until(lambda: responding(f"http://127.0.0.1:{port}/api/errors/"), what="the API to answer again",
                   timeout=60)
    finally:
        code, out = stop(again)
    assert code == 0, out


def test_a_second_up_on_a_busy_home_says_so_in_one_line_and_sighup_stops_the_first(tmp_path: Path):
    home, port = tmp_path / "home", free_port()
    first = start_up(home, port)
    try:
        wait_until(lambda: responding(f"http://127.0.0.1:{port}/api/errors/"), what="the API to answer", timeout=60)
        second = subprocess.Popen([sys.executable, "-m", "cli.main", "up", "--home", str(home),
                                   "--port", str(free_port())], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        code, lines = refused(second)
        assert code != 0
        assert len(lines) == 1 and "in use by another `scale up`" in lines[0], lines
    finally:
        code, out = stop(first, signal.SIGHUP)
    assert code == 0, out
    assert "stopped" in out


def test_up_on_a_busy_port_says_so_in_one_line(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = subprocess.Popen([sys.executable, "-m", "cli.main", "up", "--home", str(tmp_path / "home"),
                                    "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        code, lines = refused(process)
    assert code != 0
    assert len(lines) == 1 and f"port {port}" in lines[0] and "in use" in lines[0], lines
