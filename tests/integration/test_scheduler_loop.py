"""The scheduler loop on PostgreSQL and SQLite with the local manager and the real runner: /bin/sh jobs
are queued, scheduled, run and completed; pauses, `max_scheduled`, cancel, reconciliation
and pausing a node for errors.

Most tests drive `cycle()` from the test thread, so "nothing was scheduled" is asserted after
a known number of cycles instead of after a sleep."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import sessionmaker

from scale.db import make_engine, make_sessions
from scale.execution.runner import JobRunner
from scale.models.errors import Error
from scale.models.jobs import Job, JobExecution, Queue
from scale.models.nodes import Leadership, Node, Scheduler
from scale.queue import service as queue
from scale.queue import transitions
from scale.queue.commands import NewJob
from scale.resources import Resources
from scale.scheduler.loop import LoopOptions, SchedulerLoop
from scale.scheduler.managers.base import NodeGone, NodeOffer
from scale.scheduler.managers.local import LocalManager
from scale.timeutil import utcnow
from tests.conftest import truncate_runtime_tables
from tests.factories import shell_job_type
from tests.helpers import wait_until

pytestmark = pytest.mark.integration

HOSTNAME = f"loop-test-{os.getpid()}"
OPTIONS = LoopOptions(claim_limit=10, idle_wait=0.05, heartbeat_every=0.0)



@pytest.fixture(params=["pg_url", "sqlite_url"])
def sessions(request: pytest.FixtureRequest) -> Iterator[sessionmaker]:
    """Committing sessions on PostgreSQL and on the embedded default's SQLite."""
    engine = make_engine(request.getfixturevalue(request.param))
    yield make_sessions(engine)
    truncate_runtime_tables(engine)
    engine.dispose()


@pytest.fixture
def manager(sessions: sessionmaker, tmp_path: Path) -> Iterator[LocalManager]:
    manager = LocalManager(sessions=sessions, work_root=tmp_path / "work",
                           runner=JobRunner(sessions, tmp_path / "work"),
                           hostname=HOSTNAME, total=Resources(cpus=4, mem=4096, disk=10_000))
    yield manager
    manager.shutdown()


@pytest.fixture
def loop(sessions: sessionmaker, manager: LocalManager) -> SchedulerLoop:
    loop = SchedulerLoop(sessions, manager, options=OPTIONS)
    loop.start()
    return loop


def queue_jobs(sessions: sessionmaker, job_type_id: int, code: str, count: int = 1) -> list[int]:
    data = {"version": "1.0", "input_data": [{"name": "code", "value": code}], "output_data": []}
    with sessions.begin() as session:
        return [queue.queue_new_job(session, NewJob.from_json({"job_type_id": job_type_id, "job_data": data}))[0].id
                for _ in range(count)]


def statuses(sessions: sessionmaker, job_ids: list[int]) -> list[str]:
    with sessions() as session:
        return [session.get(Job, job_id).status for job_id in job_ids]


def set_scheduler(sessions: sessionmaker, **values) -> None:
    with sessions.begin() as session:
        session.execute(update(Scheduler).where(Scheduler.id == 1).values(**values))


def until_all(sessions, job_ids, status, *, timeout=10.0, loop: SchedulerLoop | None = None):
    """Wait for every job to reach `status`, cycling `loop` meanwhile when one is given."""
    def check():
        if loop is not None:
            loop.cycle()
        return all(s == status for s in statuses(sessions, job_ids))
    wait_until(check, what=f"jobs {job_ids} to be {status}", timeout=timeout)


def test_queued_jobs_run_to_completion_in_the_running_loop(sessions, manager):
    job_type_id = shell_job_type(sessions)
    job_ids = queue_jobs(sessions, job_type_id, "echo hello; exit 0", count=3)
    stop = threading.Event()
    thread = threading.Thread(target=SchedulerLoop(sessions, manager, options=OPTIONS).run,
                              args=(stop,))
    thread.start()
    try:
        until_all(sessions, job_ids, "COMPLETED")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    with sessions() as session:
        node = session.scalars(select(Node).where(Node.hostname == HOSTNAME)).one()
        assert (node.cpus_total, node.mem_total, node.disk_total) == (4.0, 4096.0, 10_000.0)
        exes = session.scalars(select(JobExecution).where(JobExecution.job_id.in_(job_ids))).all()
        assert {(e.status, e.node_id, e.cpus_scheduled) for e in exes} == {("COMPLETED", node.id, 1.0)}
        assert Path(exes[0].stdout_path).read_text() == "hello\n"


def test_paused_scheduler_schedules_nothing_until_resumed(sessions, loop):
    set_scheduler(sessions, is_paused=True)
    job_ids = queue_jobs(sessions, shell_job_type(sessions), "exit 0")
    for _ in range(3):
        loop.cycle()
    assert statuses(sessions, job_ids) == ["QUEUED"]
    set_scheduler(sessions, is_paused=False)
    until_all(sessions, job_ids, "COMPLETED", loop=loop)


def test_paused_node_takes_nothing(sessions, loop):
    with sessions.begin() as session:
        session.execute(update(Node).where(Node.hostname == HOSTNAME).values(is_paused=True))
    job_ids = queue_jobs(sessions, shell_job_type(sessions), "exit 0")
    for _ in range(3):
        loop.cycle()
    assert statuses(sessions, job_ids) == ["QUEUED"]


def cycle_until(loop: SchedulerLoop, check, *, what: str, timeout: float) -> None:
    def cycled():
        loop.cycle()
        return check()
    wait_until(cycled, what=what, timeout=timeout)


def test_max_scheduled_holds_and_cancel_kills_the_running_job(sessions, loop, manager):
    job_type_id = shell_job_type(sessions, max_scheduled=1)
    job_ids = queue_jobs(sessions, job_type_id, "sleep 30", count=3)
    for _ in range(3):
        loop.cycle()
    assert sorted(statuses(sessions, job_ids)) == ["QUEUED", "QUEUED", "RUNNING"]
    (first_exe,) = manager.running()
    first_job = job_ids[statuses(sessions, job_ids).index("RUNNING")]

    with sessions.begin() as session:
        transitions.cancel_job(session, first_job)
    # Killed well before `sleep 30` would end, and its slot goes to the next job.
    cycle_until(loop, lambda: first_exe not in manager.running(),
                what="the canceled execution's runner to stop", timeout=3)
    cycle_until(loop, lambda: sorted(statuses(sessions, job_ids)) == ["CANCELED", "QUEUED", "RUNNING"],
                what="the next job to take the slot", timeout=3)
    assert len(manager.running()) == 1

    with sessions.begin() as session:
        transitions.cancel_many(session, job_ids)
    cycle_until(loop, lambda: not manager.running(), what="every runner to stop", timeout=3)


def test_reconcile_fails_an_execution_left_running_with_node_lost(sessions, manager):
    SchedulerLoop(sessions, manager, options=OPTIONS).start()  # registers the node
    job_ids = queue_jobs(sessions, shell_job_type(sessions), "exit 0")
    with sessions.begin() as session:  # a scheduler elsewhere that died right after scheduling it
        node = session.scalars(select(Node).where(Node.hostname == HOSTNAME)).one()
        row = transitions.claim_queued(session, limit=1)[0]
        lost = transitions.schedule_execution(session, row, node_id=node.id, cpus=1, mem=64,
                                              disk_in=0, disk_out=1).id
        node.scheduler_lease = "another-host:4242:crashed"
        node.last_offer = utcnow() - dt.timedelta(minutes=5)  # its heartbeat has gone stale
        session.execute(update(Leadership).values(holder="another-host:4242:crashed",
                                                  renewed=utcnow() - dt.timedelta(minutes=5)))

    loop = SchedulerLoop(sessions, manager, options=OPTIONS)
    loop.start()
    with sessions() as session:
        exe = session.get(JobExecution, lost)
        assert exe.status == "FAILED" and exe.error.name == "node-lost"
    until_all(sessions, job_ids, "COMPLETED", loop=loop)  # the retry runs


def test_a_second_scheduler_stands_by_while_the_first_holds_the_node(sessions, manager):
    first = SchedulerLoop(sessions, manager, options=OPTIONS)
    first.start()
    queue_jobs(sessions, shell_job_type(sessions), "exit 0")
    with sessions.begin() as session:  # the first scheduler is running this one
        node = session.scalars(select(Node).where(Node.hostname == HOSTNAME)).one()
        row = transitions.claim_queued(session, limit=1)[0]
        running = transitions.schedule_execution(session, row, node_id=node.id, cpus=1, mem=64,
                                                 disk_in=0, disk_out=1).id

    second = SchedulerLoop(sessions, manager, options=OPTIONS)
    second.start()
    second.cycle()
    with sessions() as session:
        assert session.get(JobExecution, running).status == "RUNNING"  # not reconciled away
        node = session.scalars(select(Node).where(Node.hostname == HOSTNAME)).one()
        assert node.scheduler_lease == first.instance


def test_node_is_paused_after_too_many_system_failures(sessions, loop):
    set_scheduler(sessions, max_node_errors=1, node_error_period=60)
    # A timeout is a SYSTEM error; max_tries 1 makes it final so each job fails once.
    failing = shell_job_type(sessions, "slow", timeout=1, max_tries=1)
    job_ids = queue_jobs(sessions, failing, "sleep 10", count=2)
    until_all(sessions, job_ids, "FAILED", loop=loop)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(JobExecution).join(Error).where(
            JobExecution.job_id.in_(job_ids), Error.name == "timeout")) == 2
    loop.cycle()
    with sessions() as session:
        node = session.scalars(select(Node).where(Node.hostname == HOSTNAME)).one()
        assert node.is_paused and node.is_paused_errors
        assert "2 jobs failed with system errors" in node.pause_reason

    later = queue_jobs(sessions, shell_job_type(sessions), "exit 0")
    for _ in range(3):
        loop.cycle()
    assert statuses(sessions, later) == ["QUEUED"]


class CountingLoop(SchedulerLoop):
    """Counts its finished cycles, so a test can tell that the loop has gone to wait."""

    cycles = 0

    def cycle(self) -> bool:
        busy = super().cycle()
        self.cycles += 1
        return busy


def run_in_thread(loop: SchedulerLoop) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    return thread, stop


def test_a_job_queued_while_the_loop_waits_is_scheduled_within_a_probe(sessions, manager):
    """The idle wait is long (30 s); only the queue probe can notice the new job in time."""
    job_type_id = shell_job_type(sessions)
    loop = CountingLoop(sessions, manager, options=LoopOptions(idle_wait=30.0, probe_every=0.05))
    thread, stop = run_in_thread(loop)
    try:
        wait_until(lambda: loop.cycles >= 1, what="the loop to find the queue empty and wait")
        job_ids = queue_jobs(sessions, job_type_id, "exit 0")
        until_all(sessions, job_ids, "COMPLETED", timeout=5)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_finished_execution_wakes_the_loop_when_work_waits_for_room(sessions, tmp_path):
    """One cpu, two one-cpu jobs: the second waits for room. Probing and idle waits are 30 s,
    so only the first job finishing can start the cycle that schedules the second."""
    manager = LocalManager(sessions=sessions, work_root=tmp_path / "work",
                           runner=JobRunner(sessions, tmp_path / "work"),
                           hostname=HOSTNAME, total=Resources(cpus=1, mem=4096, disk=10_000))
    job_type_id = shell_job_type(sessions)
    job_ids = queue_jobs(sessions, job_type_id, "sleep 0.2", count=2)
    loop = SchedulerLoop(sessions, manager, options=LoopOptions(idle_wait=30.0, probe_every=30.0))
    thread, stop = run_in_thread(loop)
    try:
        until_all(sessions, job_ids, "COMPLETED", timeout=5)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_clean_shutdown_puts_the_running_job_back_without_costing_a_try(sessions, manager, tmp_path):
    """Ctrl-C while a job at its last try runs: the job is QUEUED again with the same
    execution and `num_exes`, and the next scheduler runs it to completion."""
    marker = tmp_path / "ran-once"
    job_type_id = shell_job_type(sessions, max_tries=1)
    [job_id] = queue_jobs(sessions, job_type_id, f"if [ -e {marker} ]; then exit 0; fi; touch {marker}; sleep 60")
    thread, stop = run_in_thread(SchedulerLoop(sessions, manager, options=OPTIONS))
    try:
        wait_until(marker.exists, what="the job's first run to start")
    finally:
        stop.set()
        thread.join(timeout=15)
    assert not thread.is_alive()
    with sessions() as session:
        job = session.get(Job, job_id)
        [exe] = session.scalars(select(JobExecution).where(JobExecution.job_id == job_id)).all()
        assert (job.status, job.num_exes, job.max_tries) == ("QUEUED", 1, 1)
        assert (exe.status, exe.node_id, exe.started, exe.error_id) == ("QUEUED", None, None, None)
        assert session.scalar(select(func.count()).select_from(Queue).where(Queue.job_exe_id == exe.id)) == 1

    again = LocalManager(sessions=sessions, work_root=tmp_path / "work", runner=JobRunner(sessions, tmp_path / "work"),
                         hostname=HOSTNAME, total=Resources(cpus=4, mem=4096, disk=10_000))
    thread, stop = run_in_thread(SchedulerLoop(sessions, again, options=OPTIONS))
    try:
        until_all(sessions, [job_id], "COMPLETED")
    finally:
        stop.set()
        thread.join(timeout=15)
    with sessions() as session:
        job = session.get(Job, job_id)
        assert (job.num_exes, [exe.status for exe in job.job_exes]) == (1, ["COMPLETED"])


class LeavingNodeManager(LocalManager):
    """The local node, except that its first launch finds the node gone (a Mesos agent lost
    between the loop's heartbeat and the placement)."""

    gone_once = False

    def launch(self, job_exe_id, node):
        if not self.gone_once:
            self.gone_once = True
            raise NodeGone(f"node {node.hostname} left")
        super().launch(job_exe_id, node)


def test_a_node_gone_at_launch_puts_the_execution_back_without_costing_a_try(sessions, tmp_path):
    manager = LeavingNodeManager(sessions=sessions, work_root=tmp_path / "work",
                                 runner=JobRunner(sessions, tmp_path / "work"),
                                 hostname=HOSTNAME, total=Resources(cpus=4, mem=4096, disk=10_000))
    try:
        loop = SchedulerLoop(sessions, manager, options=OPTIONS)
        loop.start()
        [job_id] = queue_jobs(sessions, shell_job_type(sessions), "true")
        until_all(sessions, [job_id], "COMPLETED", loop=loop)
    finally:
        manager.shutdown()
    assert manager.gone_once
    with sessions() as session:
        executions = list(session.scalars(select(JobExecution).where(JobExecution.job_id == job_id)))
        assert [(e.status, e.error_id) for e in executions] == [("COMPLETED", None)]
        assert session.get(Job, job_id).num_exes == 1


# ---- the scheduler never stalls behind work it cannot place (docs/decisions.md) --------------

def local_manager(sessions, tmp_path: Path, hostname: str, cpus: float) -> LocalManager:
    return LocalManager(sessions=sessions, work_root=tmp_path / hostname,
                        runner=JobRunner(sessions, tmp_path / hostname), hostname=hostname,
                        total=Resources(cpus=cpus, mem=4096, disk=10_000))


def set_aside(sessions, job_ids: list[int]) -> list[bool]:
    with sessions() as session:
        return list(session.scalars(select(Queue.too_large).where(Queue.job_id.in_(job_ids))))


def test_jobs_no_node_can_hold_never_hold_back_the_jobs_behind_them(sessions, loop):
    """ngageoint/scale #1801: 300 top-priority jobs that fit no node stopped every other job.
    Claims come 10 rows at a time here, so the small jobs sit 30 claims behind the huge ones."""
    huge = queue_jobs(sessions, shell_job_type(sessions, "huge", cpus_required=64.0, priority=1), "true", count=300)
    small = queue_jobs(sessions, shell_job_type(sessions, "small", priority=200), "exit 0", count=5)
    until_all(sessions, small, "COMPLETED", loop=loop, timeout=20)
    assert set(statuses(sessions, huge)) == {"QUEUED"}
    assert set_aside(sessions, huge) == [True] * 300
    # Set aside, they are not claimed again: a cycle's claim reads none of them.
    with sessions.begin() as session:
        assert transitions.claim_queued(session, limit=1000) == []


def test_jobs_set_aside_as_too_large_run_when_a_node_large_enough_comes(sessions, tmp_path):
    job_type_id = shell_job_type(sessions, cpus_required=6.0)
    small_node = local_manager(sessions, tmp_path, HOSTNAME, cpus=4)
    try:
        loop = SchedulerLoop(sessions, small_node, options=OPTIONS)
        loop.start()
        job_ids = queue_jobs(sessions, job_type_id, "exit 0", count=2)
        for _ in range(2):
            loop.cycle()
        assert set_aside(sessions, job_ids) == [True, True]
    finally:
        stopped = threading.Event()
        stopped.set()
        loop.run(stopped)  # shuts down: gives up the node for the next scheduler
    # The node comes back with more cpus (a resized machine): its next heartbeat puts them back.
    big_node = local_manager(sessions, tmp_path, HOSTNAME, cpus=8)
    try:
        loop = SchedulerLoop(sessions, big_node, options=OPTIONS)
        loop.start()
        assert set_aside(sessions, job_ids) == [False, False]
        until_all(sessions, job_ids, "COMPLETED", loop=loop)
    finally:
        big_node.shutdown()


def started_at(sessions, job_ids: list[int]) -> dict[int, dt.datetime | None]:
    with sessions() as session:
        return {job_id: session.get(Job, job_id).started for job_id in job_ids}


def test_a_job_needing_a_nearly_idle_node_is_not_starved_by_a_stream_of_small_jobs(sessions, tmp_path):
    """The reservation policy: the big job reserves the node, which drains until it fits;
    small jobs queued after it, however many keep coming, start only after it."""
    manager = local_manager(sessions, tmp_path, HOSTNAME, cpus=2)
    try:
        loop = SchedulerLoop(sessions, manager, options=OPTIONS)
        loop.start()
        small_type = shell_job_type(sessions, "small", cpus_required=0.5)
        first = queue_jobs(sessions, small_type, "sleep 0.3", count=4)  # fill the node
        loop.cycle()
        assert statuses(sessions, first) == ["RUNNING"] * 4
        [big] = queue_jobs(sessions, shell_job_type(sessions, "big", cpus_required=1.9), "exit 0")
        stream: list[int] = []

        def big_started() -> bool:
            stream.extend(queue_jobs(sessions, small_type, "sleep 0.2", count=2))
            loop.cycle()
            return statuses(sessions, [big])[0] != "QUEUED"
        wait_until(big_started, what="the big job to start", timeout=15)
        until_all(sessions, [big, *first, *stream], "COMPLETED", loop=loop, timeout=30)
    finally:
        manager.shutdown()
    starts = started_at(sessions, [big, *stream])
    assert all(starts[job_id] >= starts[big] for job_id in stream)


class TwoNodeManager(LocalManager):
    """Two nodes of 2 cpus for one scheduler, both running their jobs on this machine."""

    def nodes(self) -> list[NodeOffer]:
        return [replace(self._offer, hostname=f"{HOSTNAME}-{name}") for name in ("a", "b")]


def test_a_reserved_node_drains_while_small_jobs_run_on_the_other_node(sessions, tmp_path):
    """The other direction: the reservation holds one node only; the rest of the cluster keeps
    running the small jobs behind the big one."""
    manager = TwoNodeManager(sessions=sessions, work_root=tmp_path / "work",
                             runner=JobRunner(sessions, tmp_path / "work"), hostname=HOSTNAME,
                             total=Resources(cpus=2, mem=4096, disk=10_000))
    try:
        loop = SchedulerLoop(sessions, manager, options=OPTIONS)
        loop.start()
        small_type = shell_job_type(sessions, "small", cpus_required=0.5)
        blockers = queue_jobs(sessions, small_type, "sleep 3", count=6)  # 1.5 of 2 cpus on each
        loop.cycle()
        assert statuses(sessions, blockers) == ["RUNNING"] * 6
        [big] = queue_jobs(sessions, shell_job_type(sessions, "big", cpus_required=1.9), "exit 0")
        behind = queue_jobs(sessions, small_type, "exit 0", count=8)
        # The big job reserves one node, which drains for it; the small jobs behind it run on the
        # other node meanwhile.
        until_all(sessions, [big, *behind, *blockers], "COMPLETED", loop=loop, timeout=30)
        starts = started_at(sessions, [big, *behind])
        with sessions() as session:
            drained = max(session.get(Job, job_id).ended for job_id in blockers)
    finally:
        manager.shutdown()
    # The other node ran small jobs while one drained, and the big job was not starved: it
    # started as soon as a node had drained, however many small jobs were waiting.
    assert any(starts[job_id] < starts[big] for job_id in behind)
    assert starts[big] <= drained + dt.timedelta(seconds=5)


# ---- a killed job is retried (docs/decisions.md, "The runner") -------------------------------

def executions_of(sessions, job_id: int) -> list[tuple[str, str | None]]:
    with sessions() as session:
        return [(exe.status, exe.error.name if exe.error else None) for exe in session.scalars(
            select(JobExecution).where(JobExecution.job_id == job_id).order_by(JobExecution.id))]


def test_a_job_killed_by_a_signal_runs_again_and_completes(sessions, loop, tmp_path):
    marker = tmp_path / "killed-once"
    [job_id] = queue_jobs(sessions, shell_job_type(sessions, max_tries=3),
                          f"if [ -e {marker} ]; then exit 0; fi; touch {marker}; kill -9 $$")
    until_all(sessions, [job_id], "COMPLETED", loop=loop)
    assert executions_of(sessions, job_id) == [("FAILED", "killed"), ("COMPLETED", None)]


def test_a_job_past_its_timeout_is_tried_up_to_max_tries(sessions, loop):
    [job_id] = queue_jobs(sessions, shell_job_type(sessions, max_tries=2, timeout=1), "sleep 10")
    until_all(sessions, [job_id], "FAILED", loop=loop, timeout=20)
    assert executions_of(sessions, job_id) == [("FAILED", "timeout"), ("FAILED", "timeout")]


# ---- another client's locks never stop scheduling (issue 14, faults) --------------------------

def test_a_client_holding_job_rows_locked_does_not_stop_scheduling(pg_committed, tmp_path):
    """A client holds an open transaction with every job row of the moment locked (as a report
    or a person at a psql prompt might): the scheduler passes over those jobs without waiting,
    schedules the ones queued after it, and takes the held ones once the lock goes."""
    sessions = pg_committed
    manager = local_manager(sessions, tmp_path, HOSTNAME, cpus=4)
    other = sessions.kw["bind"].connect()
    try:
        loop = SchedulerLoop(sessions, manager, options=OPTIONS)
        loop.start()
        job_type_id = shell_job_type(sessions)
        held = queue_jobs(sessions, job_type_id, "exit 0", count=2)
        holding = other.begin()
        assert len(other.execute(select(Job.id).with_for_update()).all()) == 2
        fresh = queue_jobs(sessions, job_type_id, "exit 0", count=3)
        until_all(sessions, fresh, "COMPLETED", loop=loop, timeout=15)
        assert statuses(sessions, held) == ["QUEUED", "QUEUED"]
        holding.rollback()
        until_all(sessions, held, "COMPLETED", loop=loop)
    finally:
        other.close()
        manager.shutdown()
