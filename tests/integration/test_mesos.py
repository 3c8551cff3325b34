"""The `mesos` resource manager end to end against a fake master (tests/mesos_master.py) that
speaks the Mesos v1 scheduler HTTP API, through the real `avmesos` client: no real Mesos master
is used. The fake agents run each task's command, `scale execute JOB_EXE_ID`, against the test
PostgreSQL database, so jobs really run and record their outcome.

The scheduler loop runs on a thread of the test process, as `scale scheduler` runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from scale.models.errors import Error
from scale.models.jobs import Job, JobExecution, JobExecutionStatus, JobStatus
from scale.models.nodes import Node, Scheduler
from scale.nodes import service as nodes_service
from scale.nodes.commands import SchedulerEdit
from scale.queue import service as queue
from scale.queue import transitions
from scale.queue.commands import NewJob
from scale.scheduler.loop import LoopOptions, SchedulerLoop
from scale.scheduler.managers.mesos import MesosManager
from scale.scheduler.managers.mesos_wire import task_id_of
from scale.settings import Settings
from tests.factories import command_job_type
from tests.helpers import wait_until
from tests.mesos_master import FakeMaster

pytestmark = pytest.mark.integration

AGENT = {"cpus": 2.0, "mem": 2048.0, "disk": 10_000.0}
OPTIONS = LoopOptions(claim_limit=10, idle_wait=0.2, heartbeat_every=0.3)
FRAMEWORK_ID = "scale-test-framework"


@pytest.fixture
def master(tmp_path: Path) -> Iterator[FakeMaster]:
    master = FakeMaster(tmp_path / "sandboxes", {"mesos-a": AGENT, "mesos-b": AGENT}).start()
    yield master
    master.stop()


@pytest.fixture
def settings(tmp_path: Path, pg_url: str, master: FakeMaster) -> Settings:
    return Settings(home=tmp_path / "home", database_url=pg_url, broker_url="redis://127.0.0.1:6379/8",
                    work_root=tmp_path / "work", resource_manager="mesos", mesos_master=master.url)


@pytest.fixture
def start_scheduler(pg_committed: sessionmaker, settings: Settings, master: FakeMaster
                    ) -> Iterator[Callable[[], Callable[[], None]]]:
    """Start a scheduler (a loop with a new MesosManager) on a thread; the function returned
    stops it (as SIGTERM does). Every scheduler still running is stopped after the test."""
    stops: list[Callable[[], None]] = []

    def start() -> Callable[[], None]:
        manager = MesosManager(sessions=pg_committed, master=master.url, framework_id=FRAMEWORK_ID,
                               task_env=settings.to_env())
        stop = threading.Event()
        thread = threading.Thread(target=SchedulerLoop(pg_committed, manager, options=OPTIONS).run, args=(stop,))
        thread.start()

        def halt() -> None:
            stop.set()
            thread.join(timeout=30)
            assert not thread.is_alive()

        stops.append(halt)
        return halt

    yield start
    for halt in stops:
        halt()


def queue_jobs(sessions: sessionmaker, job_type_id: int, count: int = 1) -> list[int]:
    with sessions.begin() as session:
        return [queue.queue_new_job(session, NewJob.from_json({"job_type_id": job_type_id, "job_data": {
            "version": "1.0", "input_data": [], "output_data": []}}))[0].id for _ in range(count)]


def job_status(sessions: sessionmaker, job_id: int) -> str:
    with sessions() as session:
        return session.get(Job, job_id).status  # type: ignore[union-attr]


def executions(sessions: sessionmaker, job_id: int) -> list[tuple[str, str | None, str | None]]:
    """(status, error name, node hostname) of each execution of the job, oldest first."""
    with sessions() as session:
        rows = session.execute(
            select(JobExecution.status, Error.name, Node.hostname)
            .outerjoin(Error, Error.id == JobExecution.error_id).outerjoin(Node, Node.id == JobExecution.node_id)
            .where(JobExecution.job_id == job_id).order_by(JobExecution.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def running_task(sessions: sessionmaker, master: FakeMaster, job_id: int) -> str | None:
    """The id of the job's task once the fake agent runs it."""
    with sessions() as session:
        exe_id = session.scalar(select(JobExecution.id).where(JobExecution.job_id == job_id,
                                                              JobExecution.status == JobExecutionStatus.RUNNING))
    task = master.tasks.get(task_id_of(exe_id)) if exe_id else None
    return task.task_id if task is not None and task.state == "TASK_RUNNING" else None


def test_jobs_launch_on_both_agents_and_complete(pg_committed: sessionmaker, master: FakeMaster,
                                                 settings: Settings, tmp_path: Path):
    """`scale scheduler` itself, with SCALE_RESOURCE_MANAGER=mesos and a master given as host:port."""
    job_type = command_job_type(pg_committed, "mesos-nap", "/bin/sleep", "1")
    jobs = queue_jobs(pg_committed, job_type, 4)
    env = {**os.environ, **settings.to_env(), "SCALE_MESOS_MASTER": master.url.removeprefix("http://")}
    with open(tmp_path / "scheduler.log", "w") as log:
        scheduler = subprocess.Popen([sys.executable, "-m", "cli.main", "scheduler"], env=env, stdout=log,
                                     stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: all(job_status(pg_committed, j) == JobStatus.COMPLETED for j in jobs),
                   what="every job to complete", timeout=90)

        hosts = {executions(pg_committed, j)[0][2] for j in jobs}
        assert hosts == {"mesos-a", "mesos-b"}  # 2 cpus each, 1 per job: both agents were needed
        assert all(len(executions(pg_committed, j)) == 1 for j in jobs)
        subscribe = master.calls_of("SUBSCRIBE")[0]["subscribe"]["framework_info"]
        with pg_committed() as session:
            installation = session.scalar(select(Scheduler.installation_id))
        assert subscribe["id"] == {"value": f"scale-{installation}"} and subscribe["failover_timeout"] > 0
        launched = [info for call in master.calls_of("ACCEPT") for op in call["accept"]["operations"]
                    for info in op["launch"]["task_infos"]]
        assert sorted(info["command"]["value"] for info in launched) == sorted(
            f"scale execute {exe_id}" for exe_id in exe_ids(pg_committed, jobs))
        finished = wait_until(lambda: len(ended := [e for e in master.events if e["type"] == "UPDATE"
                                                    and e["update"]["status"]["state"] == "TASK_FINISHED"]) == 4
                              and ended, what="every task to finish", timeout=60)
        acknowledged = lambda: {c["acknowledge"]["uuid"] for c in master.calls_of("ACKNOWLEDGE")}  # noqa: E731
        wait_until(lambda: all(e["update"]["status"]["uuid"] in acknowledged() for e in finished),
                   what="the updates to be acknowledged")

        def agents() -> dict[str, tuple[str | None, float | None]]:
            with pg_committed() as session:
                return {n.hostname: (n.slave_id, n.cpus_total) for n in session.scalars(select(Node))}

        # A node's total is what its agent offers plus what Scale's tasks hold there: whole again
        # once the ended tasks' resources are offered again.
        wait_until(lambda: agents() == {"mesos-a": ("agent-mesos-a", AGENT["cpus"]),
                                        "mesos-b": ("agent-mesos-b", AGENT["cpus"])}, what="the agents as nodes",
                   timeout=30)
        with pg_committed() as session:
            status = nodes_service.system_status(session, resource_manager="mesos", mesos_master=master.url)
        assert (status.master_hostname, status.master_online) == ("127.0.0.1", True)
    finally:
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(timeout=30) == 0


def exe_ids(sessions: sessionmaker, job_ids: list[int]) -> list[int]:
    with sessions() as session:
        return list(session.scalars(select(JobExecution.id).where(JobExecution.job_id.in_(job_ids))))


def test_a_failing_job_fails_once(pg_committed: sessionmaker, master: FakeMaster,
                                  start_scheduler: Callable[[], Callable[[], None]]):
    """The algorithm exits 1: `scale execute` records the ALGORITHM failure and exits 1, and the
    task's TASK_FAILED changes nothing (no retry)."""
    job = queue_jobs(pg_committed, command_job_type(pg_committed, "mesos-fail", "/bin/false"))[0]
    start_scheduler()

    wait_until(lambda: job_status(pg_committed, job) == JobStatus.FAILED, what="the job to fail", timeout=60)

    [(status, error, host)] = executions(pg_committed, job)
    assert (status, error) == (JobExecutionStatus.FAILED, "algorithm-unknown") and host in ("mesos-a", "mesos-b")
    wait_until(lambda: any(e["type"] == "UPDATE" and e["update"]["status"]["state"] == "TASK_FAILED"
                           for e in master.events), what="TASK_FAILED")


def test_a_lost_task_is_requeued_and_completes_on_retry(pg_committed: sessionmaker, master: FakeMaster,
                                                        start_scheduler: Callable[[], Callable[[], None]]):
    job = queue_jobs(pg_committed, command_job_type(pg_committed, "mesos-lost", "/bin/sleep", "2"))[0]
    start_scheduler()
    task = wait_until(lambda: running_task(pg_committed, master, job), what="the task to run", timeout=30)

    master.lose_task(task)

    wait_until(lambda: job_status(pg_committed, job) == JobStatus.COMPLETED, what="the retry to complete",
               timeout=60)
    tries = executions(pg_committed, job)
    assert [(status, error) for status, error, _host in tries] == [
        (JobExecutionStatus.FAILED, "node-lost"), (JobExecutionStatus.COMPLETED, None)]


def test_cancel_kills_the_task(pg_committed: sessionmaker, master: FakeMaster,
                               start_scheduler: Callable[[], Callable[[], None]]):
    job = queue_jobs(pg_committed, command_job_type(pg_committed, "mesos-long", "/bin/sleep", "60"))[0]
    start_scheduler()
    task = wait_until(lambda: running_task(pg_committed, master, job), what="the task to run", timeout=30)

    with pg_committed.begin() as session:
        transitions.cancel_job(session, job)

    wait_until(lambda: master.tasks[task].state == "TASK_KILLED", what="TASK_KILLED", timeout=30)
    assert [c["kill"]["task_id"]["value"] for c in master.calls_of("KILL")][:1] == [task]
    assert master.tasks[task].process.poll() is not None  # type: ignore[union-attr]
    assert job_status(pg_committed, job) == JobStatus.CANCELED
    assert [status for status, _error, _host in executions(pg_committed, job)] == [JobExecutionStatus.CANCELED]


def test_a_paused_scheduler_declines_every_offer(pg_committed: sessionmaker, master: FakeMaster,
                                                 start_scheduler: Callable[[], Callable[[], None]]):
    with pg_committed.begin() as session:
        nodes_service.edit_scheduler(session, SchedulerEdit(is_paused=True))
    job = queue_jobs(pg_committed, command_job_type(pg_committed, "mesos-paused", "/bin/true"))[0]
    start_scheduler()

    declined = lambda: {d for c in master.calls_of("DECLINE")  # noqa: E731
                        for d in (o["value"] for o in c["decline"]["offer_ids"])}
    offered = lambda: {o["id"]["value"]: o["agent_id"]["value"] for e in master.events  # noqa: E731
                       if e["type"] == "OFFERS" for o in e["offers"]["offers"]}
    wait_until(lambda: {offered()[d] for d in declined()} == {"agent-mesos-a", "agent-mesos-b"},
               what="the offers of both agents to be declined", timeout=30)
    assert master.calls_of("ACCEPT") == []
    assert job_status(pg_committed, job) == JobStatus.QUEUED

    def node_names() -> set[str]:
        with pg_committed() as session:
            return set(session.scalars(select(Node.hostname)))

    wait_until(lambda: node_names() == {"mesos-a", "mesos-b"}, what="the agents to be nodes all the same")

    with pg_committed.begin() as session:
        nodes_service.edit_scheduler(session, SchedulerEdit(is_paused=False))
    wait_until(lambda: job_status(pg_committed, job) == JobStatus.COMPLETED, what="the job to complete",
               timeout=60)


def test_a_restarted_scheduler_reconciles_its_tasks(pg_committed: sessionmaker, master: FakeMaster,
                                                    start_scheduler: Callable[[], Callable[[], None]]):
    """The first scheduler stops with two tasks running (they outlive it); one of them is gone
    by the time the next subscribes as the same framework. Reconciliation finds the other still
    running (followed to its end, one try) and the gone one TASK_LOST (node-lost, retried)."""
    job_type = command_job_type(pg_committed, "mesos-restart", "/bin/sleep", "4")
    kept, gone = queue_jobs(pg_committed, job_type, 2)
    stop_first = start_scheduler()
    tasks = [wait_until(lambda j=j: running_task(pg_committed, master, j), what="the tasks to run", timeout=30)
             for j in (kept, gone)]
    stop_first()
    master.forget_task(tasks[1])

    start_scheduler()

    wait_until(lambda: all(job_status(pg_committed, j) == JobStatus.COMPLETED for j in (kept, gone)),
               what="both jobs to complete", timeout=60)
    reconciled = {t["task_id"]["value"] for c in master.calls_of("RECONCILE") for t in c["reconcile"]["tasks"]}
    assert tasks[1] in reconciled  # the kept one too, unless it ended while no scheduler listened
    assert [s["subscribe"]["framework_info"]["id"]["value"] for s in master.calls_of("SUBSCRIBE")] == [
        FRAMEWORK_ID, FRAMEWORK_ID]
    assert [(s, e) for s, e, _h in executions(pg_committed, kept)] == [(JobExecutionStatus.COMPLETED, None)]
    assert [(s, e) for s, e, _h in executions(pg_committed, gone)] == [
        (JobExecutionStatus.FAILED, "node-lost"), (JobExecutionStatus.COMPLETED, None)]


def test_a_lost_agent_fails_its_tasks_node_lost_and_they_run_elsewhere(
        pg_committed: sessionmaker, master: FakeMaster, start_scheduler: Callable[[], Callable[[], None]]):
    job = queue_jobs(pg_committed, command_job_type(pg_committed, "mesos-agent-lost", "/bin/sleep", "2"))[0]
    start_scheduler()
    task = wait_until(lambda: running_task(pg_committed, master, job), what="the task to run", timeout=30)
    lost_host = executions(pg_committed, job)[0][2]
    assert lost_host is not None

    master.lose_agent(lost_host)

    wait_until(lambda: job_status(pg_committed, job) == JobStatus.COMPLETED, what="the retry to complete",
               timeout=60)
    first, second = executions(pg_committed, job)
    assert first == (JobExecutionStatus.FAILED, "node-lost", lost_host)
    assert second[:2] == (JobExecutionStatus.COMPLETED, None) and second[2] != lost_host
    assert master.tasks[task].process.poll() is not None  # type: ignore[union-attr]


def test_a_reconnected_scheduler_reconciles_its_tasks(pg_committed: sessionmaker, master: FakeMaster,
                                                      start_scheduler: Callable[[], Callable[[], None]]):
    """The subscription's connection drops while a task runs; avmesos subscribes again (after
    its fixed 10 s wait), the framework asks for its task's state, and the update the agent
    kept while no scheduler listened is delivered and acknowledged."""
    job = queue_jobs(pg_committed, command_job_type(pg_committed, "mesos-reconnect", "/bin/sleep", "1"))[0]
    start_scheduler()
    task = wait_until(lambda: running_task(pg_committed, master, job), what="the task to run", timeout=30)

    master.close_stream()

    wait_until(lambda: len(master.calls_of("SUBSCRIBE")) == 2, what="a new subscription", timeout=30)
    wait_until(lambda: task in {t["task_id"]["value"] for c in master.calls_of("RECONCILE")
                                for t in c["reconcile"]["tasks"]}, what="the task to be reconciled")
    # The agent's own update (with a uuid to acknowledge), not a reconciliation's answer.
    finished = wait_until(lambda: [e["update"]["status"]["uuid"] for e in master.events if e["type"] == "UPDATE"
                                   and e["update"]["status"]["state"] == "TASK_FINISHED"
                                   and "uuid" in e["update"]["status"]],
                          what="the task to finish", timeout=30)
    wait_until(lambda: finished[0] in {c["acknowledge"]["uuid"] for c in master.calls_of("ACKNOWLEDGE")},
               what="the update to be acknowledged after the reconnection")
    assert job_status(pg_committed, job) == JobStatus.COMPLETED
    assert [(s, e) for s, e, _h in executions(pg_committed, job)] == [(JobExecutionStatus.COMPLETED, None)]
