"""Job processes left behind by a scheduler that died are reaped by their installation and
execution ids together: another Scale home on the same machine, whose executions are numbered
alike, keeps its processes."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from scale.execution.processes import ProcessTask, start_process
from scale.execution.runner import JobRunner
from scale.execution.tasks import TaskSpec
from scale.nodes.service import get_scheduler
from scale.resources import Resources
from scale.scheduler.managers.local import LocalManager
from tests.helpers import wait_until

pytestmark = pytest.mark.integration

JOB_EXE_ID = 7


def sleeper(tmp_path: Path, installation_id: str) -> ProcessTask:
    work = tmp_path / installation_id
    (work / "inputs").mkdir(parents=True)
    (work / "outputs").mkdir()
    spec = TaskSpec(installation_id=installation_id, job_exe_id=JOB_EXE_ID,
                    argv=["sh", "-c", "sleep 60 & wait"], work_dir=work, inputs_dir=work / "inputs",
                    outputs_dir=work / "outputs", stdout_path=work / "stdout.log", stderr_path=work / "stderr.log")
    task = start_process(spec)
    assert isinstance(task, ProcessTask)
    return task


def group_alive(task: ProcessTask) -> bool:
    try:
        os.killpg(int(task.ident), 0)
    except ProcessLookupError:
        return False
    return True


def test_reaping_an_execution_leaves_another_installations_processes_alive(sessions: sessionmaker, tmp_path: Path):
    with sessions() as session:
        installation = get_scheduler(session).installation_id
    mine = sleeper(tmp_path, installation)
    theirs = sleeper(tmp_path, secrets.token_hex(16))
    try:
        manager = LocalManager(sessions=sessions, work_root=tmp_path / "work",
                               runner=JobRunner(sessions, tmp_path / "work"),
                               total=Resources(cpus=1, mem=64))
        manager.reap(JOB_EXE_ID)
        manager.shutdown()
        assert mine.wait(10) is not None
        wait_until(lambda: not group_alive(mine), what="this installation's process group to be killed")
        assert theirs.poll() is None and group_alive(theirs)
    finally:
        mine.kill()
        theirs.kill()
