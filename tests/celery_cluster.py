"""`scale node` and `scale scheduler` processes of the celery resource manager on this machine,
for integration tests: each process its own group, so `kill -9` takes a node's whole process at
once, as a crashed machine would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import redis
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from scale.models.nodes import Node
from scale.nodes import service as nodes_service


class Cluster:
    """Node and scheduler processes on `pg_url` and Redis `redis_url`, their homes and logs
    under `tmp_path`."""

    def __init__(self, pg_url: str, tmp_path: Path, *, redis_url: str, heartbeat_seconds: float = 0.5,
                 lost_seconds: float = 3) -> None:
        self.tmp_path = tmp_path
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("SCALE_")},
                    "SCALE_DATABASE_URL": pg_url, "SCALE_BROKER_URL": redis_url,
                    "SCALE_RESOURCE_MANAGER": "celery", "SCALE_NODE_HEARTBEAT_SECONDS": str(heartbeat_seconds),
                    "SCALE_NODE_LOST_SECONDS": str(lost_seconds), "PYTHONUNBUFFERED": "1"}
        self.processes: dict[str, subprocess.Popen] = {}

    def work_root(self, name: str) -> Path:
        return self.tmp_path / name / "work"

    def start_node(self, name: str, *, cpus: float, mem: float = 1024, via: Sequence[str] = (),
                   env: Mapping[str, str] | None = None) -> None:
        """`scale node --name name`, run through the command prefix `via` (`ip netns exec NS`)
        with `env` over the cluster's environment."""
        self._start(name, ["node", "--name", name, "--cpus", str(cpus), "--mem", str(mem), "--disk", "10000"],
                    via=via, env=env)

    def start_scheduler(self) -> None:
        self._start("scheduler", ["scheduler"])

    def _start(self, name: str, command: list[str], *, via: Sequence[str] = (),
               env: Mapping[str, str] | None = None) -> None:
        with (self.tmp_path / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [*via, sys.executable, "-m", "cli.main", *command, "--home", str(self.tmp_path / name)],
                env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill_9(self, name: str) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                assert process.wait(timeout=30) == 0, f"{name} exited with {process.returncode}"
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                raise
        self.processes.clear()

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in self.tmp_path.glob("*.log"))


@contextmanager
def running_cluster(pg_url: str, tmp_path: Path, *, redis_url: str, heartbeat_seconds: float = 0.5,
                    lost_seconds: float = 3) -> Iterator[Cluster]:
    """A Cluster on an emptied Redis database, stopped cleanly when the block ends (SIGKILLed
    if it fails), its logs printed."""
    redis.Redis.from_url(redis_url).flushdb()
    cluster = Cluster(pg_url, tmp_path, redis_url=redis_url, heartbeat_seconds=heartbeat_seconds,
                      lost_seconds=lost_seconds)
    try:
        yield cluster
        cluster.stop()
    finally:
        for process in cluster.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        print(cluster.logs())


def online(sessions: sessionmaker, *names: str) -> bool:
    """Whether every node in `names` has a fresh heartbeat."""
    with sessions() as session:
        found = {n.hostname: n for n in session.scalars(select(Node).where(Node.hostname.in_(names)))}
        return len(found) == len(names) and all(nodes_service.is_online(n) for n in found.values())
