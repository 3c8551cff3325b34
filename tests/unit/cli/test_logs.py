"""Process logs: job life-cycle lines from the queue transitions, HTTP access lines from the
web process, each line tagged with its process."""

from __future__ import annotations

import logging

from werkzeug.test import Client

from cli.logs import access_logged, configure_logging
from scale.queue import transitions
from tests.factories import make_job_type, make_node, queued_job, run_job


def lifecycle_lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "scale.jobs"]


def test_job_life_cycle_lines_name_job_type_and_execution(db, caplog):
    caplog.set_level(logging.INFO, logger="scale.jobs")
    job_type, node = make_job_type(db, name="logged", max_tries=1), make_node(db)
    done, broken = queued_job(db, job_type), queued_job(db, job_type)
    done_exe, broken_exe = run_job(db, done, node), run_job(db, broken, node)
    transitions.complete_execution(db, done_exe.id, results={}, exit_code=0)
    transitions.fail_execution(db, broken_exe.id, error_name="unknown", exit_code=3)
    t = job_type.id
    assert lifecycle_lines(caplog) == [
        f"job {done.id} (type {t}) exe {done_exe.id} QUEUED",
        f"job {broken.id} (type {t}) exe {broken_exe.id} QUEUED",
        f"job {done.id} (type {t}) exe {done_exe.id} RUNNING on node {node.id}",
        f"job {broken.id} (type {t}) exe {broken_exe.id} RUNNING on node {node.id}",
        f"job {done.id} (type {t}) exe {done_exe.id} COMPLETED",
        f"job {broken.id} (type {t}) exe {broken_exe.id} FAILED with unknown (SYSTEM)",
    ]


def test_web_access_lines(app, caplog):
    caplog.set_level(logging.INFO, logger="scale.web.access")
    client = Client(access_logged(app))
    client.get("/api/job-types/?page=2")
    client.get("/api/nothing-here/")
    lines = [record.getMessage() for record in caplog.records if record.name == "scale.web.access"]
    assert [line.split(" ")[:3] for line in lines] == [["GET", "/api/job-types/?page=2", "200"],
                                                       ["GET", "/api/nothing-here/", "404"]]


def test_each_line_is_tagged_with_its_process():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("clock")
        record = logging.LogRecord("scale.clock", logging.INFO, __file__, 1, "clock started", None, None)
        assert " [clock] scale.clock INFO clock started" in root.handlers[0].format(record)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
