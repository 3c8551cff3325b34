"""Job and execution state changes (scale/queue/transitions.py): queueing, scheduling,
completion, failure with the retry rules, requeue and cancel, on both backends.

The factories here are shared with the API tests of jobs, executions and the queue."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scale.exceptions import InvalidTransition, NotFound
from scale.models.errors import ErrorCategory
from scale.models.jobs import Job, JobExecution, Queue
from scale.queue import factory, service, transitions
from scale.queue.commands import NewJob
from scale.specs.job_data import JobData
from scale.timeutil import utcnow
from tests.factories import (
    MIB,
    count,
    make_error,
    make_file,
    make_job_type,
    make_node,
    make_workspace,
    new_job,
    queued_job,
    run_job,
)
from tests.helpers import statements


@pytest.fixture
def job_type(db):
    return make_job_type(db)


@pytest.fixture
def node(db):
    return make_node(db)


def test_queue_job_creates_execution_and_queue_row_with_resources(db, job_type):
    workspace = make_workspace(db)
    first = make_file(db, workspace, size=3 * MIB)
    job = new_job(db, job_type, {"version": "1.0", "input_data": [{"name": "input_file", "file_id": first.id}]})
    exe = db.get(JobExecution, transitions.queue_job(db, job))
    assert (job.status, job.num_exes, exe.status, exe.timeout) == ("QUEUED", 1, "QUEUED", 600)
    assert job.queued is not None
    row = db.scalars(select(Queue).where(Queue.job_id == job.id)).one()
    assert row.job_exe_id == exe.id and row.priority == 100
    assert (row.cpus_required, row.mem_required) == (1.0, 64.0)
    # disk_in = 3 MiB of input; disk_out = 10 + 2 * 3
    assert (row.disk_in_required, row.disk_out_required, row.disk_total_required) == (3.0, 16.0, 19.0)
    assert (job.disk_in_required, job.disk_out_required) == (3.0, 16.0)


def test_queue_job_refuses_a_queued_job(db, job_type):
    job = queued_job(db, job_type)
    with pytest.raises(InvalidTransition):
        transitions.queue_job(db, job)
    assert count(db, Queue) == 1


def test_claim_orders_by_priority_then_age_and_skips_paused_types(db, job_type):
    paused = make_job_type(db, name="paused", is_paused=True)
    late_urgent = new_job(db, job_type)
    early = queued_job(db, job_type)
    late_urgent.priority = 1
    transitions.queue_job(db, late_urgent)
    queued_job(db, paused)
    claimed = transitions.claim_queued(db, limit=10)
    assert [row.job_id for row in claimed] == [late_urgent.id, early.id]
    assert [row.job_id for row in transitions.claim_queued(db, limit=1)] == [late_urgent.id]


def test_schedule_makes_job_and_execution_running(db, job_type, node):
    job = queued_job(db, job_type)
    exe = run_job(db, job, node)
    assert (job.status, exe.status, exe.node_id) == ("RUNNING", "RUNNING", node.id)
    assert (exe.cpus_scheduled, exe.disk_total_scheduled) == (1.0, 3.0)
    assert exe.started is not None and exe.job_started is not None and exe.stdout_path == "/tmp/o"
    assert count(db, Queue) == 0


def test_schedule_of_a_canceled_job_is_refused(db, job_type, node):
    job = queued_job(db, job_type)
    row = db.scalars(select(Queue).where(Queue.job_id == job.id)).one()
    job_id = job.id
    db.expunge(row)  # a claimer still holding the row it read before the cancel
    transitions.cancel_job(db, job_id)
    with pytest.raises(InvalidTransition):
        transitions.schedule_execution(db, row, node_id=node.id, cpus=1, mem=1, disk_in=0, disk_out=0)
    assert db.get(Job, job_id).status == "CANCELED"


def test_complete_execution_completes_job(db, job_type, node):
    job = queued_job(db, job_type)
    exe = run_job(db, job, node)
    results = {"version": "1.0", "output_data": []}
    returned = transitions.complete_execution(db, exe.id, results=results, exit_code=0)
    assert returned.id == job.id
    assert (job.status, job.results, exe.status, exe.job_exit_code) == ("COMPLETED", results, "COMPLETED", 0)
    assert job.ended is not None and exe.ended is not None


def test_complete_after_cancel_is_a_no_op(db, job_type, node):
    job = queued_job(db, job_type)
    exe = run_job(db, job, node)
    transitions.cancel_job(db, job.id)
    returned = transitions.complete_execution(db, exe.id, results={"output_data": []}, exit_code=0)
    assert returned.status == "CANCELED" and returned.results is None
    assert db.get(JobExecution, exe.id).status == "CANCELED"


def test_fail_after_cancel_is_a_no_op(db, job_type, node):
    job = queued_job(db, job_type)
    exe = run_job(db, job, node)
    transitions.cancel_job(db, job.id)
    assert transitions.fail_execution(db, exe.id, error_name="unknown").status == "CANCELED"
    assert count(db, Queue) == 0 and db.get(JobExecution, exe.id).error_id is None


def test_system_failure_is_retried_while_tries_remain(db, job_type, node):
    job = queued_job(db, job_type)  # max_tries 3
    for attempt in (1, 2):
        exe = run_job(db, job, node)
        returned = transitions.fail_execution(db, exe.id, error_name="unknown", exit_code=1)
        assert (returned.status, returned.num_exes, returned.error_id) == ("QUEUED", attempt + 1, None)
        assert db.get(JobExecution, exe.id).status == "FAILED"
        assert db.get(JobExecution, exe.id).error.name == "unknown"
    exe = run_job(db, job, node)
    returned = transitions.fail_execution(db, exe.id, error_name="unknown")
    assert (returned.status, returned.num_exes, returned.error.name) == ("FAILED", 3, "unknown")
    assert count(db, Queue) == 0
    assert [e.status for e in db.get(Job, job.id).job_exes] == ["FAILED"] * 3


def test_algorithm_failure_is_final(db, job_type, node):
    make_error(db, "bad-algo", ErrorCategory.ALGORITHM)
    job = queued_job(db, job_type)
    exe = run_job(db, job, node)
    returned = transitions.fail_execution(db, exe.id, error_name="bad-algo", exit_code=2)
    assert (returned.status, returned.num_exes, returned.error.name) == ("FAILED", 1, "bad-algo")
    assert db.get(JobExecution, exe.id).job_exit_code == 2
    assert count(db, Queue) == 0


def test_unknown_error_name_is_the_system_unknown_error(db, job_type, node):
    job = queued_job(db, job_type)
    exe = run_job(db, job, node)
    returned = transitions.fail_execution(db, exe.id, error_name="no-such-error")
    assert returned.status == "QUEUED"
    assert db.get(JobExecution, exe.id).error.name == "unknown"


def test_long_running_job_is_always_requeued(db, node):
    make_error(db, "bad-algo", ErrorCategory.ALGORITHM)
    job_type = make_job_type(db, name="strike-like", is_long_running=True, max_tries=1)
    job = queued_job(db, job_type)
    for error_name in ("bad-algo", "unknown"):
        exe = run_job(db, job, node)
        assert transitions.fail_execution(db, exe.id, error_name=error_name).status == "QUEUED"
    assert job.num_exes == 3 and count(db, Queue) == 1


def test_requeue_raises_max_tries_and_applies_priority(db, job_type, node):
    make_error(db, "bad-algo", ErrorCategory.ALGORITHM)
    job = queued_job(db, job_type)
    transitions.fail_execution(db, run_job(db, job, node).id, error_name="bad-algo")
    job.max_tries = 1
    db.flush()
    assert transitions.requeue_many(db, [job.id], priority=7) == [job.id]
    db.expire_all()
    job = db.get(Job, job.id)
    assert (job.status, job.num_exes, job.max_tries, job.priority, job.error_id) == ("QUEUED", 2, 2, 7, None)
    row = db.scalars(select(Queue).where(Queue.job_id == job.id)).one()
    assert row.priority == 7 and row.disk_in_required == 0.0 and row.disk_out_required == 10.0


def test_requeue_keeps_a_higher_max_tries_and_skips_other_statuses(db, job_type, node):
    canceled = queued_job(db, job_type)
    transitions.cancel_job(db, canceled.id)
    running = queued_job(db, job_type)
    run_job(db, running, node)
    assert transitions.requeue_many(db, [canceled.id, running.id]) == [canceled.id]
    db.expire_all()
    assert (db.get(Job, canceled.id).max_tries, db.get(Job, canceled.id).status) == (3, "QUEUED")
    assert db.get(Job, running.id).status == "RUNNING"


def test_requeue_of_a_job_that_never_ran_makes_it_pending(db, job_type):
    job = new_job(db, job_type)
    transitions.cancel_job(db, job.id)
    assert transitions.requeue_many(db, [job.id]) == [job.id]
    db.expire_all()
    assert db.get(Job, job.id).status == "PENDING" and count(db, Queue) == 0


@pytest.mark.parametrize("status", ["PENDING", "BLOCKED"])
def test_cancel_waiting_job(db, job_type, status):
    job = new_job(db, job_type)
    job.status = status
    db.flush()
    assert transitions.cancel_job(db, job.id).status == "CANCELED"
    assert job.ended is not None


def test_cancel_queued_job_deletes_queue_row(db, job_type):
    job = queued_job(db, job_type)
    canceled = transitions.cancel_job(db, job.id)
    assert canceled.status == "CANCELED" and count(db, Queue) == 0
    assert [e.status for e in db.get(Job, job.id).job_exes] == ["CANCELED"]


def test_cancel_running_job_cancels_execution(db, job_type, node):
    job = queued_job(db, job_type)
    exe = run_job(db, job, node)
    transitions.cancel_job(db, job.id)
    db.expire_all()
    assert db.get(JobExecution, exe.id).status == "CANCELED" and db.get(Job, job.id).status == "CANCELED"


@pytest.mark.parametrize("finish", ["complete", "fail", "cancel"])
def test_cancel_finished_job_is_invalid(db, job_type, node, finish):
    make_error(db, "bad-algo", ErrorCategory.ALGORITHM)
    job = queued_job(db, job_type)
    exe = run_job(db, job, node)
    if finish == "complete":
        transitions.complete_execution(db, exe.id, results={}, exit_code=0)
    elif finish == "fail":
        transitions.fail_execution(db, exe.id, error_name="bad-algo")
    else:
        transitions.cancel_job(db, job.id)
    before = db.get(Job, job.id).status
    with pytest.raises(InvalidTransition):
        transitions.cancel_job(db, job.id)
    assert db.get(Job, job.id).status == before


def test_unknown_ids_are_not_found(db):
    with pytest.raises(NotFound):
        transitions.cancel_job(db, 999_999)
    with pytest.raises(NotFound):
        transitions.complete_execution(db, 999_999, results={}, exit_code=0)


def test_start_of_a_canceled_execution_is_refused(db, job_type, node):
    job = queued_job(db, job_type)
    row = db.scalars(select(Queue).where(Queue.job_id == job.id)).one()
    exe = transitions.schedule_execution(db, row, node_id=node.id, cpus=1, mem=1, disk_in=0, disk_out=0)
    transitions.cancel_job(db, job.id)
    with pytest.raises(InvalidTransition):
        transitions.start_execution(db, exe.id, command_arguments="", stdout_path="o", stderr_path="e")


def test_queue_job_takes_a_new_job_without_a_status(db, job_type):
    job = new_job(db, job_type)
    fresh = factory.new_job(job_type, job.job_type_rev, job.event, JobData(), utcnow())
    fresh.status = None
    exe = db.get(JobExecution, transitions.queue_job(db, fresh))
    assert (fresh.status, exe.job_id, fresh.disk_in_required) == ("QUEUED", fresh.id, 0.0)


def test_queueing_a_new_job_without_files_is_five_statements(db):
    """The hot path of POST /queue/new-job/: the type with its revision, then four INSERTs
    (event, job already QUEUED, execution, queue row); no UPDATE, no re-read."""
    job_type = make_job_type(db, interface={"version": "1.0", "command": "true", "command_arguments": "",
                                            "input_data": [], "output_data": []})
    db.expunge_all()  # as in a request's fresh session
    with statements(db) as seen:
        job, exe_id = service.queue_new_job(db, NewJob.from_json({"job_type_id": job_type.id,
                                                 "job_data": {"version": "1.0", "input_data": [], "output_data": []}}))
    assert [s.split()[0] for s in seen] == ["SELECT"] + ["INSERT"] * 4, seen
    assert (job.status, job.num_exes) == ("QUEUED", 1)
    row = db.scalars(select(Queue).where(Queue.job_id == job.id)).one()
    assert row.job_exe_id == exe_id
    assert db.get(JobExecution, row.job_exe_id).status == "QUEUED"


def test_completing_an_execution_is_three_statements(db, job_type, node):
    """Lock the job (reading it and the execution), then the two guarded UPDATEs; the
    returned job's new status costs no re-read."""
    job = queued_job(db, job_type)
    exe_id = run_job(db, job, node).id
    db.expunge_all()
    with statements(db) as seen:
        returned = transitions.complete_execution(db, exe_id, results={"version": "1.0", "output_data": []},
                                                  exit_code=0)
        assert returned.status == "COMPLETED"
    assert [s.split()[0] for s in seen] == ["SELECT", "UPDATE", "UPDATE"], seen


def test_return_to_queue_puts_a_running_execution_back_without_counting_a_try(db, job_type, node):
    job = queued_job(db, job_type)
    exe = run_job(db, job, node)
    canceled = queued_job(db, job_type)
    canceled_exe = run_job(db, canceled, node)
    transitions.cancel_job(db, canceled.id)
    assert transitions.return_to_queue(db, [exe.id, canceled_exe.id]) == [exe.id]
    db.refresh(job)
    db.refresh(exe)
    assert (job.status, job.num_exes, job.started) == ("QUEUED", 1, None)
    assert (exe.status, exe.node_id, exe.cpus_scheduled, exe.started) == ("QUEUED", None, None, None)
    assert (exe.error_id, exe.job_started, exe.command_arguments) == (None, None, None)
    row = db.scalars(select(Queue).where(Queue.job_id == job.id)).one()
    assert (row.job_exe_id, row.cpus_required) == (exe.id, 1.0)
    assert db.get(Job, canceled.id).status == "CANCELED"
    assert count(db, Queue) == 1
    assert transitions.return_to_queue(db, [exe.id]) == []  # no longer RUNNING: left alone
