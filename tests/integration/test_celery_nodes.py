"""The celery resource manager for real: `scale node` processes on this machine (each its own
work directory), a `scale scheduler` with SCALE_RESOURCE_MANAGER=celery, PostgreSQL and Redis.

Jobs spread by resources, a job too large for every node waits QUEUED with a reason, a paused
node drains, and `kill -9` of a node mid-job gets the node offline and the job requeued and
completed on another node, exactly once, even when the killed node comes back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from scale.models.errors import Error
from scale.models.jobs import Job, JobExecution, JobExecutionStatus, JobStatus
from scale.models.nodes import Node
from scale.nodes import service as nodes_service
from scale.nodes.commands import NodeEdit
from scale.queue import service as queue_service
from scale.queue.commands import NewJob
from scale.scheduler.why import queued_reasons
from scale.settings import Settings
from tests.celery_cluster import Cluster, online, running_cluster
from tests.factories import command_job_type
from tests.helpers import wait_until
from workers.app import make_celery
from workers.node import CeleryNodeChannel

pytestmark = pytest.mark.integration

# This module's own Redis database (others: grep tests for `6379/`).
REDIS_URL = "redis://127.0.0.1:6379/10"
NO_DATA = {"version": "1.0", "input_data": [], "output_data": []}


@pytest.fixture
def cluster(pg_url: str, pg_committed: sessionmaker, tmp_path: Path) -> Iterator[Cluster]:
    with running_cluster(pg_url, tmp_path, redis_url=REDIS_URL) as cluster:
        yield cluster


def queue(sessions: sessionmaker, job_type_id: int, count: int = 1) -> list[int]:
    with sessions.begin() as session:
        command = NewJob.from_json({"job_type_id": job_type_id, "job_data": NO_DATA})
        return [queue_service.queue_new_job(session, command)[0].id for _ in range(count)]


def statuses(sessions: sessionmaker, job_ids: list[int]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(Job.status).where(Job.id.in_(job_ids))))


def nodes_of(sessions: sessionmaker, job_ids: list[int]) -> list[str]:
    """The node of each COMPLETED execution of the jobs, in job order."""
    with sessions() as session:
        return list(session.scalars(
            select(Node.hostname).join(JobExecution, JobExecution.node_id == Node.id)
            .where(JobExecution.job_id.in_(job_ids), JobExecution.status == JobExecutionStatus.COMPLETED)
            .order_by(JobExecution.job_id)))


def all_completed(sessions: sessionmaker, job_ids: list[int]) -> bool:
    return statuses(sessions, job_ids) == [JobStatus.COMPLETED] * len(job_ids)


def test_jobs_spread_by_resources_and_a_job_too_large_waits_with_a_reason(cluster: Cluster,
                                                                          pg_committed: sessionmaker):
    cluster.start_node("big", cpus=4)
    cluster.start_node("small", cpus=1)
    wait_until(lambda: online(pg_committed, "big", "small"), what="both nodes to heartbeat", timeout=30)
    wide = queue(pg_committed, command_job_type(pg_committed, "wide", "/bin/sleep", "1", cpus_required=2), 2)
    narrow = queue(pg_committed, command_job_type(pg_committed, "narrow", "/bin/sleep", "1", cpus_required=1), 3)
    [huge] = queue(pg_committed, command_job_type(pg_committed, "huge", "/bin/sleep", "1", cpus_required=8))
    cluster.start_scheduler()

    wait_until(lambda: all_completed(pg_committed, wide + narrow), what="the jobs that fit", timeout=40)
    # One cycle places all three that fit at once: only big has 2 cpus for each wide job,
    # which leaves small the only room for the first narrow one.
    assert nodes_of(pg_committed, wide) == ["big", "big"]
    assert nodes_of(pg_committed, narrow)[0] == "small"
    with pg_committed() as session:
        details = queue_service.get_job(session, huge)
        reason = queued_reasons(session, [huge]).get(huge)
        node = session.scalar(select(Node).where(Node.hostname == "small"))
        assert node is not None and node.port == 0 and (node.cpus_total, node.mem_total) == (1, 1024)
        assert nodes_service.node_status(session, node, started=node.created, ended=None).is_online
    assert details.job.status == JobStatus.QUEUED
    assert reason is not None and reason.can_never_fit and "larger than every online node" in reason.message
    assert "cpus 8" in reason.message and "cpus 4" in reason.message


def test_a_paused_node_drains(cluster: Cluster, pg_committed: sessionmaker):
    cluster.start_node("keep", cpus=1)
    cluster.start_node("drain", cpus=1)
    wait_until(lambda: online(pg_committed, "keep", "drain"), what="both nodes to heartbeat", timeout=30)
    job_type = command_job_type(pg_committed, "one-cpu", "/bin/sleep", "2", cpus_required=1)
    first = queue(pg_committed, job_type, 2)
    cluster.start_scheduler()
    wait_until(lambda: statuses(pg_committed, first) == [JobStatus.RUNNING] * 2, what="a job on each node",
               timeout=30)
    with pg_committed.begin() as session:
        drain_id = session.scalar(select(Node.id).where(Node.hostname == "drain"))
        assert drain_id is not None
        drain = NodeEdit.from_json({"is_paused": True, "pause_reason": "maintenance"})
        nodes_service.edit_node(session, drain_id, drain)
    later = queue(pg_committed, job_type, 3)

    wait_until(lambda: all_completed(pg_committed, first + later), what="every job", timeout=40)
    assert sorted(nodes_of(pg_committed, first)) == ["drain", "keep"]  # what ran there finished
    assert nodes_of(pg_committed, later) == ["keep"] * 3                # and nothing new went there


def test_kill_9_of_a_node_mid_job_requeues_it_elsewhere_exactly_once(cluster: Cluster, pg_committed: sessionmaker):
    cluster.start_node("alpha", cpus=1)
    cluster.start_node("beta", cpus=1)
    wait_until(lambda: online(pg_committed, "alpha", "beta"), what="both nodes to heartbeat", timeout=30)
    [job_id] = queue(pg_committed, command_job_type(pg_committed, "long", "/bin/sleep", "4", cpus_required=1))
    cluster.start_scheduler()

    def started_on() -> tuple[int, str] | None:
        with pg_committed() as session:
            row = session.execute(select(JobExecution.id, Node.hostname).join(Node)
                                  .where(JobExecution.job_id == job_id, JobExecution.started.is_not(None))).first()
            return None if row is None else (row[0], row[1])

    lost_exe, victim = wait_until(started_on, what="the job to start", timeout=30)
    survivor = "beta" if victim == "alpha" else "alpha"
    cluster.kill_9(victim)

    wait_until(lambda: all_completed(pg_committed, [job_id]), what="the job to complete elsewhere", timeout=40)
    with pg_committed() as session:
        executions = session.execute(
            select(JobExecution.id, JobExecution.status, Error.name, Node.hostname)
            .join(Node, Node.id == JobExecution.node_id).outerjoin(Error, Error.id == JobExecution.error_id)
            .where(JobExecution.job_id == job_id).order_by(JobExecution.id)).all()
        victim_node = session.scalar(select(Node).where(Node.hostname == victim))
        assert victim_node is not None and not nodes_service.is_online(victim_node)
    assert [tuple(row) for row in executions] == [
        (lost_exe, JobExecutionStatus.FAILED, "node-lost", victim),
        (executions[1][0], JobExecutionStatus.COMPLETED, None, survivor)]

    # The node comes back, and the lost execution's message is delivered again: nothing runs
    # or reports over the execution already failed.
    cluster.start_node(victim, cpus=1)
    wait_until(lambda: online(pg_committed, victim), what="the node to come back", timeout=30)
    sender = make_celery(replace(Settings.embedded(cluster.tmp_path / "sender"), broker_url=REDIS_URL))
    CeleryNodeChannel(sender).send_execution(victim, lost_exe)
    stderr = cluster.work_root(victim) / str(lost_exe) / "stderr.log"
    wait_until(lambda: stderr.exists() and "is FAILED, not RUNNING" in stderr.read_text(),
               what="the node to refuse the failed execution", timeout=20)
    with pg_committed() as session:
        after = session.execute(select(JobExecution.status).where(JobExecution.job_id == job_id)
                                .order_by(JobExecution.id)).scalars().all()
        assert session.scalar(select(Job.status).where(Job.id == job_id)) == JobStatus.COMPLETED
        assert session.scalar(select(func.count()).select_from(JobExecution)
                              .where(JobExecution.job_id == job_id)) == 2
    assert after == [JobExecutionStatus.FAILED, JobExecutionStatus.COMPLETED]
