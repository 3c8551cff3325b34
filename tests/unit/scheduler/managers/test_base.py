"""What every resource manager shares (scale/scheduler/managers/base.py): failing an execution
quietly, and the bookkeeping of the executions a process runs itself."""

from __future__ import annotations

import logging

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from scale.execution.running import RunningExecutions
from scale.models.errors import SystemErrorName
from scale.models.jobs import JobExecution
from scale.scheduler.managers.base import fail_quietly
from tests.factories import make_job_type, make_node, queued_job, run_job


def test_fail_quietly_fails_a_running_execution_with_its_error(db, sessions):
    exe = run_job(db, queued_job(db, make_job_type(db)), make_node(db))
    fail_quietly(sessions, exe.id, SystemErrorName.TASK_LAUNCH)
    db.expire_all()
    failed = db.get(JobExecution, exe.id)
    assert (failed.status, failed.error.name) == ("FAILED", "task-launch")


def test_fail_quietly_without_a_database_logs_and_returns(caplog):
    unreachable = sessionmaker(bind=create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none",
                                                  connect_args={"connect_timeout": 2}))
    with caplog.at_level(logging.ERROR, logger="scale.scheduler.managers.base"):
        fail_quietly(unreachable, 41, SystemErrorName.NODE_LOST)
    assert [r.getMessage() for r in caplog.records] == ["could not fail job execution 41"]


def test_running_executions_refuse_a_second_runner_and_everything_once_stopping():
    running = RunningExecutions()
    stop = running.start(7)
    assert stop is not None and running.start(7) is None
    running.stop(7)
    assert stop.is_set() and running.ids() == {7}
    running.end(7)
    assert running.start(7) is not None
    assert running.stop_all() == {7}
    assert running.start(8) is None
