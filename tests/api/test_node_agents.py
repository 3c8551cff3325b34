"""The node services behind `scale node` and the celery manager: heartbeats, losing a silent
node exactly once, sending and killing executions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from scale.models.jobs import Job, JobExecution, JobStatus, Queue
from scale.models.nodes import Node
from scale.nodes import registry
from scale.nodes import service as nodes
from scale.queue import transitions
from scale.resources import Resources
from scale.scheduler.managers.base import NodeOffer
from scale.scheduler.managers.celery import CeleryManager
from scale.timeutil import as_utc, utcnow
from tests.factories import make_job_type, queued_job, run_job

TOTAL = Resources(2, 2048, 10_000)


def beat(db, hostname: str = "n1", *, ago: float = 0.0) -> Node:
    return registry.heartbeat_node(db, hostname=hostname, total=TOTAL, now=utcnow() - dt.timedelta(seconds=ago))


def test_heartbeat_creates_the_node_online_with_its_resources(db):
    node = beat(db)
    assert (node.hostname, node.port, nodes.node_total(node)) == ("n1", 0, TOTAL)
    assert nodes.is_online(node)
    assert beat(db).id == node.id


def test_registering_a_self_heartbeating_node_keeps_its_heartbeat(db):
    node = beat(db, ago=20)
    heartbeat = as_utc(node.last_offer)
    [(registered, _lease)] = registry.register_nodes(
        db, [NodeOffer(hostname="n1", port=0, total=TOTAL, own_heartbeat=True)], instance="s:1:x")
    assert as_utc(registered.last_offer) == heartbeat and registered.scheduler_lease == "s:1:x"


def test_a_silent_node_goes_offline_and_its_running_execution_is_requeued_once(db):
    silent, live = beat(db, "silent", ago=60), beat(db, "live")
    job_type = make_job_type(db)
    lost_job, other_job = queued_job(db, job_type), queued_job(db, job_type)
    lost = run_job(db, lost_job, silent)
    kept = run_job(db, other_job, live)

    assert registry.lose_silent_nodes(db, silent_since=utcnow() - dt.timedelta(seconds=30)) == [lost.id]
    assert registry.lose_silent_nodes(db, silent_since=utcnow() - dt.timedelta(seconds=30)) == []
    db.refresh(silent)
    db.refresh(lost)
    assert silent.last_offer is None and not nodes.is_online(silent)
    assert lost.status == "FAILED" and lost.error.name == "node-lost"
    assert db.get(Job, lost_job.id).status == JobStatus.QUEUED  # tries remain
    assert db.get(JobExecution, kept.id).status == "RUNNING"
    # The node comes back and reports late: the failed execution is not completed over.
    transitions.complete_execution(db, lost.id, results={}, exit_code=0)
    db.refresh(lost)
    assert lost.status == "FAILED"


def test_a_node_starting_after_a_crash_fails_what_its_last_run_left(db):
    node = beat(db)
    exe = run_job(db, queued_job(db, make_job_type(db)), node)
    assert registry.leave_node(db, "n1") == [exe.id]
    assert registry.leave_node(db, "unknown") == []
    db.refresh(node)
    db.refresh(exe)
    assert node.last_offer is None
    assert (exe.status, exe.error.name) == ("FAILED", "node-lost")


def test_a_node_stopping_cleanly_puts_its_runs_back_without_costing_a_try(db):
    node = beat(db)
    job = queued_job(db, make_job_type(db))
    exe = run_job(db, job, node)
    tries = db.get(Job, job.id).num_exes

    assert registry.leave_node(db, "n1", stopped_cleanly=True) == []
    db.refresh(exe)
    assert (exe.status, exe.error, exe.node_id) == ("QUEUED", None, None)
    returned = db.get(Job, job.id)
    assert (returned.status, returned.num_exes) == (JobStatus.QUEUED, tries)
    assert db.scalar(select(Queue.job_exe_id).where(Queue.job_id == job.id)) == exe.id


class RecordingChannel:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []
        self.killed: list[tuple[str, int]] = []

    def send_execution(self, hostname: str, job_exe_id: int) -> None:
        self.sent.append((hostname, job_exe_id))

    def kill_execution(self, hostname: str, job_exe_id: int) -> None:
        self.killed.append((hostname, job_exe_id))


def test_celery_manager_offers_live_nodes_sends_and_kills_the_canceled(committed_sessions):
    # Committed: the manager's threads use sessions of their own, beside the test's.
    sessions = committed_sessions
    channel, finished = RecordingChannel(), []
    manager = CeleryManager(sessions=sessions, channel=channel, lost_after=30, on_finished=finished.append)
    with sessions.begin() as session:
        live, silent = beat(session, "live"), beat(session, "silent", ago=60)
        job_type = make_job_type(session)
        job, stranded_job = queued_job(session, job_type), queued_job(session, job_type)
        exe, stranded = run_job(session, job, live), run_job(session, stranded_job, silent)
        exe_id, stranded_id, job_id = exe.id, stranded.id, job.id

    offers = manager.nodes()
    assert [(o.hostname, o.total, o.own_heartbeat) for o in offers] == [("live", TOTAL, True)]
    with sessions() as session:
        assert session.get(JobExecution, stranded_id).error.name == "node-lost"
    assert manager.running() == {exe_id}  # a restarted scheduler leaves the node's work alone

    manager.launch(exe_id, offers[0])
    assert channel.sent == [("live", exe_id)]
    assert manager.wait_for_change(0.05) is False
    with sessions.begin() as session:
        transitions.cancel_job(session, job_id)
    assert manager.wait_for_change(1.0) is True
    assert manager.running() == set()
    manager.shutdown()  # waits for what follows the ended executions
    assert channel.killed == [("live", exe_id)] and finished == [exe_id]


class DeadChannel(RecordingChannel):
    def send_execution(self, hostname: str, job_exe_id: int) -> None:
        raise ConnectionError("the broker is down")


def test_a_launch_that_cannot_be_sent_fails_task_launch(committed_sessions):
    sessions = committed_sessions
    manager = CeleryManager(sessions=sessions, channel=DeadChannel(), lost_after=30)
    with sessions.begin() as session:
        node = beat(session, "live")
        exe_id = run_job(session, queued_job(session, make_job_type(session)), node).id
    manager.launch(exe_id, manager.nodes()[0])
    manager.shutdown()  # waits for the send
    with sessions() as session:
        exe = session.get(JobExecution, exe_id)
        assert exe.status == "FAILED" and exe.error.name == "task-launch"
        assert session.get(Job, exe.job_id).status == JobStatus.QUEUED  # tries remain


def test_the_first_heartbeat_resends_what_may_never_have_been_sent(committed_sessions):
    """A scheduler that died between scheduling and sending left an execution RUNNING that its
    node never heard of; the next scheduler's manager sends it once."""
    sessions, channel = committed_sessions, RecordingChannel()
    manager = CeleryManager(sessions=sessions, channel=channel, lost_after=30)
    with sessions.begin() as session:
        node = beat(session, "live")
        job_type = make_job_type(session)
        started = run_job(session, queued_job(session, job_type), node).id
        row = session.scalars(select(Queue).where(Queue.job_id == queued_job(session, job_type).id)).one()
        unsent = transitions.schedule_execution(session, row, node_id=node.id, cpus=1.0, mem=64.0,
                                                disk_in=1.0, disk_out=2.0).id
    manager.nodes()
    manager.nodes()
    manager.shutdown()
    assert channel.sent == [("live", unsent)] and started != unsent


def test_registering_many_nodes_creates_the_new_and_leaves_another_schedulers_alone(db):
    [(taken, _lease)] = registry.register_nodes(db, [NodeOffer(hostname="n0", port=5051, total=TOTAL)],
                                             instance="other:1:x")
    offers = [NodeOffer(hostname=f"n{i}", port=5051, total=TOTAL) for i in range(4)]
    registered = registry.register_nodes(db, offers, instance="s:1:x")
    assert [(node.hostname, lease) for node, lease in registered] == [
        ("n0", registry.Lease.BUSY), ("n1", registry.Lease.ACQUIRED), ("n2", registry.Lease.ACQUIRED),
        ("n3", registry.Lease.ACQUIRED)]
    assert taken.scheduler_lease == "other:1:x"
    again = registry.register_nodes(db, offers[1:], instance="s:1:x")
    assert [lease for _node, lease in again] == [registry.Lease.HELD] * 3
    assert all(nodes.is_online(node) and nodes.node_total(node) == TOTAL for node, _lease in again)
