"""`NodeAgent.run` runs an execution once however often its message arrives."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from scale.nodes.agent import NodeAgent
from scale.scheduler.matching import Resources


def test_a_message_delivered_twice_does_not_run_the_execution_twice(tmp_path: Path):
    started, release = threading.Event(), threading.Event()
    runs: list[int] = []

    def runner(_sessions: Any, job_exe_id: int, **_kwargs: Any) -> None:
        runs.append(job_exe_id)
        started.set()
        release.wait(10)

    agent = NodeAgent(sessions=None, name="n1", total=Resources(1, 1, 1),  # type: ignore[arg-type]
                      work_root=tmp_path, runner=runner, heartbeat_seconds=1)
    first = threading.Thread(target=agent.run, args=(7,))
    first.start()
    assert started.wait(10)
    agent.run(7)  # the second delivery returns at once
    release.set()
    first.join(10)
    assert runs == [7]
    agent.run(7)  # a later one reaches the runner, which finds the execution no longer RUNNING
    assert runs == [7, 7]
