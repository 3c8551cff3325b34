"""`NodeAgent.run` runs an execution once however often its message arrives."""

from __future__ import annotations

import threading
from collections.abc import Callable

from scale.execution.base import ExecutionResult, Outcome
from scale.execution.tasks import RunningTask
from scale.nodes.agent import NodeAgent
from scale.resources import Resources


class BlockingRunner:
    """A `Runner` whose runs wait for `release`."""

    def __init__(self) -> None:
        self.started, self.release = threading.Event(), threading.Event()
        self.runs: list[int] = []
        self.stops: list[Callable[[], bool]] = []

    def run_execution(self, job_exe_id: int, *, should_stop: Callable[[], bool]) -> ExecutionResult:
        self.runs.append(job_exe_id)
        self.stops.append(should_stop)
        self.started.set()
        self.release.wait(10)
        return ExecutionResult(job_exe_id, Outcome.COMPLETED)

    def resume_execution(self, job_exe_id: int, task: RunningTask, *,
                         should_stop: Callable[[], bool]) -> ExecutionResult:
        raise AssertionError("a node agent never resumes")


def test_a_message_delivered_twice_does_not_run_the_execution_twice():
    runner = BlockingRunner()
    agent = NodeAgent(sessions=None, name="n1", total=Resources(1, 1, 1),  # type: ignore[arg-type]
                      runner=runner, heartbeat_seconds=1)
    first = threading.Thread(target=agent.run, args=(7,))
    first.start()
    assert runner.started.wait(10)
    agent.run(7)  # the second delivery returns at once
    runner.release.set()
    first.join(10)
    assert runner.runs == [7]
    agent.run(7)  # a later one reaches the runner, which finds the execution no longer RUNNING
    assert runner.runs == [7, 7]


def test_a_stopping_node_takes_no_more_executions_and_stops_those_it_runs():
    runner = BlockingRunner()
    agent = NodeAgent(sessions=None, name="n1", total=Resources(1, 1, 1),  # type: ignore[arg-type]
                      runner=runner, heartbeat_seconds=1)
    first = threading.Thread(target=agent.run, args=(7,))
    first.start()
    assert runner.started.wait(10)
    assert not runner.stops[0]()
    agent.stop_runs()
    assert runner.stops[0]()
    agent.run(8)  # refused: the node is stopping
    runner.release.set()
    first.join(10)
    assert runner.runs == [7]
