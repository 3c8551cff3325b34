"""A fake Mesos master for the tests: no real master can be installed here.

It speaks the Mesos v1 scheduler HTTP API (mesos.apache.org/documentation/latest/scheduler-http-api)
on a local port, so the `avmesos` client is exercised end to end: `POST /api/v1/scheduler` with
a JSON SUBSCRIBE call answers `200` with a `Mesos-Stream-Id` header and a chunked, RecordIO-framed
event stream (each record is its length in bytes, a newline, and the JSON event, with no newline
after it): SUBSCRIBED (framework_id, heartbeat_interval_seconds), OFFERS, UPDATE, RESCIND,
FAILURE, HEARTBEAT. Every other call (ACCEPT with LAUNCH operations, DECLINE, KILL, ACKNOWLEDGE,
RECONCILE, ...) must carry the stream id and is answered `202 Accepted`, its effects arriving as
events, as a real master does.

Its agents are simulated on this machine: a launched task's shell command really runs (in a
sandbox directory of its own, in a new session), and its exit becomes TASK_FINISHED (status 0),
TASK_FAILED or TASK_KILLED. The allocator is simple: every agent's free resources, not already
offered nor filtered by a decline's `refuse_seconds`, are offered every ALLOCATION_SECONDS."""

from __future__ import annotations

import base64
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ALLOCATION_SECONDS = 0.2
HEARTBEAT_SECONDS = 0.5
SCALARS = ("cpus", "mem", "disk")


def record(event: dict[str, Any]) -> bytes:
    """One RecordIO record: `<length>\\n<json>`."""
    body = json.dumps(event).encode()
    return str(len(body)).encode() + b"\n" + body


def scalars(resources: list[dict[str, Any]]) -> dict[str, float]:
    amounts = dict.fromkeys(SCALARS, 0.0)
    for resource in resources:
        if resource["name"] in amounts:
            amounts[resource["name"]] += float(resource["scalar"]["value"])
    return amounts


@dataclass
class Agent:
    agent_id: str
    hostname: str
    total: dict[str, float]
    used: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SCALARS, 0.0))
    refused_until: float = 0.0
    offered: bool = False

    def free(self) -> dict[str, float]:
        return {name: self.total[name] - self.used[name] for name in SCALARS}


@dataclass
class Task:
    task_id: str
    agent_id: str
    resources: dict[str, float]
    state: str = "TASK_STAGING"
    process: subprocess.Popen | None = None
    kill_requested: bool = False


class FakeMaster:
    """`start()` it, point the client at `url`, `stop()` it. `calls` records every call body
    received (SUBSCRIBE included) and `events` every event sent, for the tests to assert on."""

    def __init__(self, sandbox: Path, agents: dict[str, dict[str, float]]) -> None:
        self.sandbox = sandbox
        self.agents = {f"agent-{name}": Agent(f"agent-{name}", name, dict(total))
                       for name, total in agents.items()}
        self.tasks: dict[str, Task] = {}
        self.calls: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.framework_id: str | None = None
        self.stream_id: str | None = None
        self._offers: dict[str, tuple[str, dict[str, float]]] = {}
        self._stream: queue.Queue[bytes | None] | None = None
        self._backlog: list[dict[str, Any]] = []  # events for a framework with no stream open
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        master = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                master.calls.append(body)
                if self.path != "/api/v1/scheduler":
                    self._answer(404)
                elif body.get("type") == "SUBSCRIBE":
                    master._subscribe(self, body)
                elif self.headers.get("Mesos-Stream-Id") != master.stream_id:
                    self._answer(400, b"The stream ID included in this request didn't match the stream ID "
                                      b"currently associated with framework ID")
                else:
                    master._call(body)
                    self._answer(202)

            def _answer(self, status: int, text: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._threads = [threading.Thread(target=self._server.serve_forever, daemon=True),
                         threading.Thread(target=self._allocate, daemon=True)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeMaster:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.close_stream()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for task in self.tasks.values():
                if task.process is not None and task.process.poll() is None:
                    os.killpg(task.process.pid, signal.SIGKILL)

    def calls_of(self, kind: str) -> list[dict[str, Any]]:
        return [call for call in list(self.calls) if call.get("type") == kind]

    def close_stream(self) -> None:
        """End the subscription's connection (a master failover or a network cut)."""
        with self._lock:
            if self._stream is not None:
                self._stream.put(None)
            self._stream = None

    # ---- test hooks -------------------------------------------------------------------------

    def lose_task(self, task_id: str) -> None:
        """The agent loses the task: its processes die and TASK_LOST is reported."""
        with self._lock:
            task = self.tasks[task_id]
            task.state = "TASK_LOST"
        self._kill_processes(task)
        self._release(task)
        self._update(task, "TASK_LOST", reason="REASON_AGENT_DISCONNECTED")

    def forget_task(self, task_id: str) -> None:
        """The task is gone without a word (its agent was replaced while no scheduler listened):
        only a reconciliation finds out."""
        with self._lock:
            task = self.tasks.pop(task_id)
        task.state = "TASK_LOST"
        self._kill_processes(task)
        self._release(task)

    def lose_agent(self, hostname: str) -> None:
        """The agent is gone (its machine died): its tasks' processes die with it and the
        master reports the agent's FAILURE."""
        agent_id = f"agent-{hostname}"
        with self._lock:
            self.agents.pop(agent_id)
            for offer_id in [i for i, o in self._offers.items() if o[0] == agent_id]:
                del self._offers[offer_id]
            lost = [t for t in self.tasks.values() if t.agent_id == agent_id]
            for task in lost:
                task.state = "TASK_LOST"
        for task in lost:
            self._kill_processes(task)
        self._event({"type": "FAILURE", "failure": {"agent_id": {"value": agent_id}}})

    # ---- the API ----------------------------------------------------------------------------

    def _subscribe(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        info = body["subscribe"]["framework_info"]
        assert info["name"] and "user" in info, info
        stream: queue.Queue[bytes | None] = queue.Queue()
        with self._lock:
            self.close_stream()
            self.framework_id = info.get("id", {}).get("value") or f"framework-{uuid.uuid4()}"
            self.stream_id = str(uuid.uuid4())
            self._stream = stream
            for agent in self.agents.values():
                agent.offered = False
            self._offers.clear()
            backlog, self._backlog = self._backlog, []
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Mesos-Stream-Id", self.stream_id)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        self._send({"type": "SUBSCRIBED", "subscribed": {
            "framework_id": {"value": self.framework_id}, "heartbeat_interval_seconds": HEARTBEAT_SECONDS,
            "master_info": {"id": "fake-master", "ip": 0, "port": 0, "hostname": "127.0.0.1"}}})
        for event in backlog:
            self._send(event)
        while True:
            try:
                data = stream.get(timeout=HEARTBEAT_SECONDS)
            except queue.Empty:
                data = record({"type": "HEARTBEAT"})
            if data is None:
                break
            try:
                handler.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
                handler.wfile.flush()
            except OSError:
                break
        handler.close_connection = True

    def _call(self, body: dict[str, Any]) -> None:
        assert body.get("framework_id", {}).get("value") == self.framework_id, body
        kind = body["type"]
        if kind == "ACCEPT":
            self._accept(body["accept"])
        elif kind == "DECLINE":
            self._decline(body["decline"])
        elif kind == "KILL":
            self._kill(body["kill"]["task_id"]["value"])
        elif kind == "RECONCILE":
            self._reconcile(body["reconcile"]["tasks"])

    def _accept(self, accept: dict[str, Any]) -> None:
        with self._lock:
            offers = [self._offers.pop(o["value"], None) for o in accept["offer_ids"]]
            infos = [info for op in accept.get("operations", []) if op["type"] == "LAUNCH"
                     for info in op["launch"]["task_infos"]]
            if any(o is None for o in offers) or len({o[0] for o in offers if o}) != 1:
                dropped = [Task(i["task_id"]["value"], i["agent_id"]["value"], {}) for i in infos]
                for task in dropped:
                    self._update(task, "TASK_DROPPED", reason="REASON_INVALID_OFFERS")
                return
            agent = self.agents[offers[0][0]]  # type: ignore[index]
            agent.offered = False
            agent.refused_until = time.monotonic() + float(accept.get("filters", {}).get("refuse_seconds", 5))
            room = {name: sum(o[1][name] for o in offers if o) for name in SCALARS}
            for info in infos:
                need = scalars(info["resources"])
                assert info["agent_id"]["value"] == agent.agent_id, info
                task = Task(info["task_id"]["value"], agent.agent_id, need)
                if any(need[name] > room[name] + 1e-9 for name in SCALARS):
                    self._update(task, "TASK_ERROR", reason="REASON_TASK_INVALID")
                    continue
                for name in SCALARS:
                    room[name] -= need[name]
                    agent.used[name] += need[name]
                self.tasks[task.task_id] = task
                self._run(task, info)

    def _decline(self, decline: dict[str, Any]) -> None:
        refuse = float(decline.get("filters", {}).get("refuse_seconds", 5))
        with self._lock:
            for offer_id in decline["offer_ids"]:
                offer = self._offers.pop(offer_id["value"], None)
                if offer is not None:
                    agent = self.agents[offer[0]]
                    agent.offered = False
                    agent.refused_until = time.monotonic() + refuse

    def _kill(self, task_id: str) -> None:
        with self._lock:
            task = self.tasks.get(task_id)
            if task is None or task.process is None:
                unknown = Task(task_id, "", {})
                self._update(unknown, "TASK_LOST", reason="REASON_RECONCILIATION")
                return
            task.kill_requested = True
        if task.process.poll() is None:
            os.killpg(task.process.pid, signal.SIGTERM)

    def _reconcile(self, tasks: list[dict[str, Any]]) -> None:
        for wanted in tasks:
            with self._lock:
                task = self.tasks.get(wanted["task_id"]["value"])
            if task is None:
                task = Task(wanted["task_id"]["value"], wanted.get("agent_id", {}).get("value", ""), {},
                            state="TASK_LOST")
            self._update(task, task.state, reason="REASON_RECONCILIATION", with_uuid=False)

    # ---- the simulated agents ---------------------------------------------------------------

    def _run(self, task: Task, info: dict[str, Any]) -> None:
        command = info["command"]
        env = {**os.environ, **{v["name"]: v["value"] for v in command.get("environment", {}).get("variables", [])}}
        # An agent with Scale installed: `scale` is on its PATH.
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        sandbox = self.sandbox / task.task_id
        sandbox.mkdir(parents=True, exist_ok=True)
        with open(sandbox / "stdout", "wb") as out, open(sandbox / "stderr", "wb") as err:
            task.process = subprocess.Popen(command["value"], shell=command.get("shell", True), cwd=sandbox,
                                            env=env, stdout=out, stderr=err, start_new_session=True)
        task.state = "TASK_RUNNING"
        self._update(task, "TASK_RUNNING")
        threading.Thread(target=self._watch, args=(task,), daemon=True).start()

    def _watch(self, task: Task) -> None:
        assert task.process is not None
        code = task.process.wait()
        with self._lock:
            if task.state != "TASK_RUNNING":
                return  # lost or forgotten: already reported
            if task.kill_requested:
                state = "TASK_KILLED"
            else:
                state = "TASK_FINISHED" if code == 0 else "TASK_FAILED"
            task.state = state
            self._release(task)
            self._update(task, state, message=f"Command exited with status {code}")

    def _kill_processes(self, task: Task) -> None:
        if task.process is not None and task.process.poll() is None:
            os.killpg(task.process.pid, signal.SIGKILL)
            task.process.wait()

    def _release(self, task: Task) -> None:
        with self._lock:
            agent = self.agents.get(task.agent_id)
            if agent is None:  # lost with the agent
                return
            for name in SCALARS:
                agent.used[name] -= task.resources[name]

    def _update(self, task: Task, state: str, *, reason: str | None = None, message: str | None = None,
                with_uuid: bool = True) -> None:
        status: dict[str, Any] = {"task_id": {"value": task.task_id}, "state": state, "source": "SOURCE_MASTER",
                                  "timestamp": time.time()}
        if task.agent_id:
            status["agent_id"] = {"value": task.agent_id}
        if reason:
            status["reason"] = reason
        if message:
            status["message"] = message
        if with_uuid:  # updates from an agent carry one, to be acknowledged; reconciliation's do not
            status["uuid"] = base64.b64encode(uuid.uuid4().bytes).decode()
        self._event({"type": "UPDATE", "update": {"status": status}})

    def _allocate(self) -> None:
        while not self._stopping.wait(ALLOCATION_SECONDS):
            now = time.monotonic()
            offers = []
            with self._lock:
                if self._stream is None:
                    continue
                for agent in self.agents.values():
                    free = agent.free()
                    if agent.offered or now < agent.refused_until or free["cpus"] < 0.01:
                        continue
                    offer_id = str(uuid.uuid4())
                    self._offers[offer_id] = (agent.agent_id, free)
                    agent.offered = True
                    offers.append({
                        "id": {"value": offer_id}, "framework_id": {"value": self.framework_id},
                        "agent_id": {"value": agent.agent_id}, "hostname": agent.hostname,
                        "url": {"scheme": "http", "address": {"hostname": agent.hostname, "ip": "127.0.0.1",
                                                              "port": 5051}, "path": "/slave(1)"},
                        "resources": [{"name": name, "type": "SCALAR", "scalar": {"value": free[name]},
                                       "role": "*"} for name in SCALARS]})
            if offers:
                self._event({"type": "OFFERS", "offers": {"offers": offers}})

    def _event(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.events.append(event)
            if self._stream is None:
                if event["type"] == "UPDATE":  # an agent retries its updates until acknowledged
                    self._backlog.append(event)
                return
            self._stream.put(record(event))

    def _send(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.events.append(event)
            if self._stream is not None:
                self._stream.put(record(event))
