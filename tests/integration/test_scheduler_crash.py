"""Scheduler processes for real: `kill -9` while jobs run loses no job (the next scheduler
takes the node over and fails the child processes left RUNNING as `node-lost`, a SYSTEM error,
so they are retried, and re-attaches to containers that outlived it), and schedulers running
at once run every job exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from scale.execution.containers import LABEL_EXE
from scale.models.errors import Error
from scale.models.jobs import Job, JobExecution, JobExecutionStatus, JobStatus
from scale.models.nodes import Leadership, Node
from scale.nodes import service as nodes_service
from scale.nodes.commands import SchedulerEdit
from scale.queue import service as queue_service
from scale.queue.commands import NewJob
from tests.docker_images import build_busybox_image
from tests.factories import command_job_type_body, create_job_type
from tests.helpers import wait_until

pytestmark = pytest.mark.integration

JOBS = 6


def start_scheduler(pg_url: str, tmp_path: Path, name: str, node: str = "crash-test-node") -> subprocess.Popen:
    env = {**os.environ, "SCALE_DATABASE_URL": pg_url, "SCALE_BROKER_URL": "redis://127.0.0.1:6379/8",
           "SCALE_WORK_ROOT": str(tmp_path / "work"), "SCALE_NODE_NAME": node}
    return subprocess.Popen([sys.executable, "-m", "cli.main", "scheduler", "--home", str(tmp_path / "home")],
                            env=env, stdout=open(tmp_path / f"{name}.log", "w"), stderr=subprocess.STDOUT)


def count(sessions: sessionmaker, stmt) -> int:
    with sessions() as session:
        return session.scalar(stmt) or 0


def test_kill_9_of_the_scheduler_loses_no_job(pg_committed: sessionmaker, pg_url: str, tmp_path: Path):
    with pg_committed.begin() as session:
        job_type = create_job_type(session, command_job_type_body(
            "nap", "/bin/sleep", "1", max_tries=3, cpus_required=0.1, mem_required=1))
        for _ in range(JOBS):
            queue_service.queue_new_job(session, NewJob.from_json({"job_type_id": job_type.id, "job_data": {
                "version": "1.0", "input_data": [], "output_data": []}}))

    first = start_scheduler(pg_url, tmp_path, "first")
    try:
        running = select(func.count()).select_from(Job).where(Job.status == JobStatus.RUNNING)
        wait_until(lambda: count(pg_committed, running) >= 2, what="jobs to be running", timeout=60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    interrupted = count(pg_committed, running)
    assert interrupted >= 1

    second = start_scheduler(pg_url, tmp_path, "second")
    try:
        completed = select(func.count()).select_from(Job).where(Job.status == JobStatus.COMPLETED)
        wait_until(lambda: count(pg_committed, completed) == JOBS, what="every job to complete", timeout=90)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0

    with pg_committed() as session:
        per_job = dict(session.execute(
            select(JobExecution.job_id, func.count()).where(JobExecution.status == JobExecutionStatus.COMPLETED)
            .group_by(JobExecution.job_id)).all())
        lost = session.scalar(select(func.count()).select_from(JobExecution).join(Error)
                              .where(Error.name == "node-lost"))
    assert sorted(per_job.values()) == [1] * JOBS
    assert lost >= 1


@pytest.mark.parametrize("nodes", [("node-a", "node-b"), ("same-node", "same-node")],
                         ids=["two-nodes", "one-node"])
def test_two_schedulers_at_once_run_every_job_exactly_once(pg_committed: sessionmaker, pg_url: str,
                                                            tmp_path: Path, nodes: tuple[str, str]):
    """On two nodes both schedule from one queue; on one node the second stands by (it must
    not reconcile, that is fail, what the first is running). The scheduler is paused until
    every node is registered, and a job holds a whole cpu for a while, so that no scheduler
    can run the whole queue before the other has started."""
    jobs = 40
    with pg_committed.begin() as session:
        job_type = create_job_type(session, command_job_type_body(
            "blink", "/bin/sleep", "0.2", max_tries=1, cpus_required=1.0, mem_required=1))
        for _ in range(jobs):
            queue_service.queue_new_job(session, NewJob.from_json({"job_type_id": job_type.id, "job_data": {
                "version": "1.0", "input_data": [], "output_data": []}}))
        nodes_service.edit_scheduler(session, SchedulerEdit(is_paused=True))

    schedulers = [start_scheduler(pg_url, tmp_path, name, node)
                  for name, node in zip(("one", "two"), nodes, strict=True)]
    try:
        wait_until(lambda: count(pg_committed, select(func.count()).select_from(Node)) == len(set(nodes)),
                   what="every node to be registered", timeout=60)
        with pg_committed.begin() as session:
            nodes_service.edit_scheduler(session, SchedulerEdit(is_paused=False))
        finished = select(func.count()).select_from(Job).where(
            Job.status.in_([JobStatus.COMPLETED, JobStatus.FAILED]))
        wait_until(lambda: count(pg_committed, finished) == jobs, what="every job to finish", timeout=90)
    finally:
        for scheduler in schedulers:
            scheduler.send_signal(signal.SIGTERM)
        for scheduler in schedulers:
            assert scheduler.wait(timeout=30) == 0

    with pg_committed() as session:
        statuses = session.scalars(select(Job.status)).all()
        executions = session.scalar(select(func.count()).select_from(JobExecution))
        started = session.scalar(select(func.count()).select_from(JobExecution)
                                 .where(JobExecution.started.is_not(None)))
        used_nodes = set(session.scalars(select(JobExecution.node_id).distinct()))
    assert statuses == [JobStatus.COMPLETED] * jobs
    assert executions == jobs and started == jobs
    assert len(used_nodes) == len(set(nodes))


def test_a_container_that_outlives_kill_9_is_followed_to_its_end(pg_committed: sessionmaker, pg_url: str,
                                                                 tmp_path: Path):
    """The container keeps running while no scheduler exists; the next one re-attaches to it
    (no second try, no node-lost), copies the rest of its log once and records its outcome."""
    image = build_busybox_image(docker.from_env())
    with pg_committed.begin() as session:
        job_type = create_job_type(session, command_job_type_body(
            "slow-box", "/bin/sh", "-c ${script}", "script", docker_image=image, max_tries=3, timeout=120,
            cpus_required=0.1, mem_required=32))
        job, _ = queue_service.queue_new_job(session, NewJob.from_json({"job_type_id": job_type.id, "job_data": {
            "version": "1.0", "input_data": [{"name": "script", "value": "echo before; sleep 4; echo after"}],
            "output_data": []}}))
        job_id = job.id

    client = docker.from_env()

    def container_running() -> bool:
        with pg_committed() as session:
            exe_id = session.scalar(select(JobExecution.id).where(JobExecution.job_id == job_id))
        return bool(client.containers.list(filters={"label": f"{LABEL_EXE}={exe_id}", "status": "running"}))

    first = start_scheduler(pg_url, tmp_path, "first")
    try:
        wait_until(container_running, what="the container to run", timeout=60)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

    second = start_scheduler(pg_url, tmp_path, "second")
    try:
        done = select(func.count()).select_from(Job).where(Job.id == job_id, Job.status == JobStatus.COMPLETED)
        wait_until(lambda: count(pg_committed, done) == 1, what="the re-attached job to complete", timeout=60)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0

    with pg_committed() as session:
        [exe] = session.scalars(select(JobExecution).where(JobExecution.job_id == job_id)).all()
        assert (exe.status, exe.job_exit_code, exe.error_id) == (JobExecutionStatus.COMPLETED, 0, None)
        stdout = Path(exe.stdout_path).read_text()
    assert stdout.count("before") == 1 and stdout.count("after") == 1, stdout
    assert not client.containers.list(all=True, filters={"label": f"{LABEL_EXE}={exe.id}"})


def leftover_groups(sessions: sessionmaker, job_exe_id: int) -> set[int]:
    """Process groups on this machine whose environment names the execution of the test
    database's installation (other databases on this machine number their executions alike)."""
    with sessions() as session:
        installation = nodes_service.get_scheduler(session).installation_id
    markers = {f"SCALE_INSTALLATION_ID={installation}".encode(), f"SCALE_JOB_EXE_ID={job_exe_id}".encode()}
    groups = set()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if markers <= set((entry / "environ").read_bytes().split(b"\0")):
                groups.add(os.getpgid(int(entry.name)))
        except (OSError, ValueError):
            continue
    return groups


def test_a_process_that_outlives_kill_9_is_killed_before_its_retry(pg_committed: sessionmaker, pg_url: str,
                                                                   tmp_path: Path):
    """The job's process leads its own session, so it survives its scheduler; the next scheduler
    kills it before retrying the job, so the command never runs twice at once."""
    with pg_committed.begin() as session:
        job_type = create_job_type(session, command_job_type_body(
            "long-nap", "/bin/sleep", "40", max_tries=3, cpus_required=0.1, mem_required=1))
        job_id = queue_service.queue_new_job(session, NewJob.from_json({"job_type_id": job_type.id, "job_data": {
            "version": "1.0", "input_data": [], "output_data": []}}))[0].id

    def first_exe_id() -> int | None:
        with pg_committed() as session:
            return session.scalar(select(JobExecution.id).where(JobExecution.job_id == job_id,
                                                                JobExecution.job_started.is_not(None)))

    first = start_scheduler(pg_url, tmp_path, "first")
    try:
        exe_id = wait_until(first_exe_id, what="the job's process to start", timeout=60)
        wait_until(lambda: leftover_groups(pg_committed, exe_id), what="the job's process to be seen")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert leftover_groups(pg_committed, exe_id), "the orphaned job process should outlive its scheduler"

    second = start_scheduler(pg_url, tmp_path, "second")
    try:
        # Well before its 40 s sleep would end by itself (the scheduler's start-up alone took
        # over 6 s on a loaded 2-cpu machine).
        wait_until(lambda: not leftover_groups(pg_committed, exe_id), what="the orphan to be killed", timeout=25)
        completed = select(func.count()).select_from(Job).where(Job.id == job_id, Job.status == JobStatus.COMPLETED)
        wait_until(lambda: count(pg_committed, completed) == 1, what="the retried job to complete", timeout=60)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    with pg_committed() as session:
        statuses = [status for (status,) in session.execute(
            select(JobExecution.status).where(JobExecution.job_id == job_id).order_by(JobExecution.id))]
        lost = session.scalar(select(Error.name).join(JobExecution, JobExecution.error_id == Error.id)
                              .where(JobExecution.id == exe_id))
    assert (statuses, lost) == (["FAILED", "COMPLETED"], "node-lost")


def test_sigint_to_the_scheduler_puts_the_running_job_back_without_costing_a_try(
        pg_committed: sessionmaker, pg_url: str, tmp_path: Path):
    """Ctrl-C while a job at its last try runs: the scheduler exits 0 and the job is QUEUED again
    with its one try left, instead of FAILED `node-lost` after the next start."""
    with pg_committed.begin() as session:
        job_type = create_job_type(session, command_job_type_body(
            "last-try", "/bin/sleep", "60", max_tries=1, cpus_required=0.1, mem_required=1))
        job_id = queue_service.queue_new_job(session, NewJob.from_json({"job_type_id": job_type.id, "job_data": {
            "version": "1.0", "input_data": [], "output_data": []}}))[0].id
    scheduler = start_scheduler(pg_url, tmp_path, "interrupted")
    try:
        started = select(func.count()).select_from(JobExecution).where(
            JobExecution.job_id == job_id, JobExecution.job_started.is_not(None))
        wait_until(lambda: count(pg_committed, started) == 1, what="the job to start", timeout=60)
    finally:
        scheduler.send_signal(signal.SIGINT)
        assert scheduler.wait(timeout=30) == 0
    with pg_committed() as session:
        job = session.get(Job, job_id)
        [exe] = session.scalars(select(JobExecution).where(JobExecution.job_id == job_id)).all()
        assert (job.status, job.num_exes, job.max_tries, job.error_id) == (JobStatus.QUEUED, 1, 1, None)
        assert (exe.status, exe.error_id) == (JobExecutionStatus.QUEUED, None)
    assert leftover_groups(pg_committed, exe.id) == set()


def test_a_standby_scheduler_leads_within_15_s_of_a_kill_9_and_no_job_runs_twice(
        pg_committed: sessionmaker, pg_url: str, tmp_path: Path):
    """Two `scale scheduler` processes on one database and node: one leads, the other stands by
    (`scale/nodes/leadership.py`); the leader is killed with SIGKILL while jobs run, the standby
    leads within 15 s, and every job completes exactly once."""
    jobs = 30
    with pg_committed.begin() as session:
        job_type = create_job_type(session, command_job_type_body(
            "nap", "/bin/sleep", "0.5", max_tries=3, cpus_required=0.1, mem_required=1))
        for _ in range(jobs):
            queue_service.queue_new_job(session, NewJob.from_json({"job_type_id": job_type.id, "job_data": {
                "version": "1.0", "input_data": [], "output_data": []}}))
    schedulers = {process.pid: process for process in (start_scheduler(pg_url, tmp_path, name) for name in ("a", "b"))}

    def leader_pid() -> int | None:
        with pg_committed() as session:
            holder = session.scalar(select(Leadership.holder).where(Leadership.role.startswith("scheduler")))
        pid = int(holder.split(":")[1]) if holder else None
        return pid if pid in schedulers else None

    try:
        leader = wait_until(leader_pid, what="one scheduler to lead", timeout=60)
        running = select(func.count()).select_from(Job).where(Job.status == JobStatus.RUNNING)
        wait_until(lambda: count(pg_committed, running) >= 1, what="jobs to be running", timeout=60)
        schedulers[leader].send_signal(signal.SIGKILL)
        schedulers[leader].wait(timeout=10)
        killed = time.monotonic()
        standby = next(pid for pid in schedulers if pid != leader)
        wait_until(lambda: leader_pid() == standby, what="the standby to lead", timeout=15)
        took_over = time.monotonic() - killed
        completed = select(func.count()).select_from(Job).where(Job.status == JobStatus.COMPLETED)
        wait_until(lambda: count(pg_committed, completed) == jobs, what="every job to complete", timeout=120)
    finally:
        for process in schedulers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=30) == 0
    assert took_over < 15
    with pg_committed() as session:
        per_job = dict(session.execute(
            select(JobExecution.job_id, func.count()).where(JobExecution.status == JobExecutionStatus.COMPLETED)
            .group_by(JobExecution.job_id)).all())
    assert sorted(per_job.values()) == [1] * jobs
