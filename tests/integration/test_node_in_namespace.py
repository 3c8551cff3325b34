"""A `scale node` on another host, for real: its own network namespace, joined to this one by a
veth pair (10.213.0.1/30 here, 10.213.0.2/30 there), reaching PostgreSQL and Redis at the head's
address on that link through forwarders (both listen on loopback only), with its own work root.
The scheduler and a second node run here, on loopback.

Jobs run there; pulling the link for longer than SCALE_NODE_LOST_SECONDS gets the node's jobs
requeued, and they complete once, on the other node; when the link comes back, the stale runs
are refused (a run that finished during the outage stores nothing and completes nothing) and a
run still going is stopped."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from scale.models.errors import Error
from scale.models.files import ScaleFile
from scale.models.jobs import Job, JobExecution, JobExecutionStatus, JobStatus
from scale.models.nodes import Node
from scale.models.workspaces import Workspace
from scale.nodes import service as nodes_service
from scale.nodes.commands import NodeEdit
from scale.queue import service as queue_service
from scale.queue.commands import NewJob
from tests.celery_cluster import Cluster, online, running_cluster
from tests.factories import create_job_type
from tests.helpers import wait_until
from tests.netns import LinkedNamespace, Unavailable
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration

# This module's own Redis database (others: grep tests and bench for `6379/`; bench/ingest has 15).
REDIS_DB = 6
HEAD, FAR = "10.213.0.1", "10.213.0.2"
LOST_SECONDS = 6
FAR_NODE, NEAR_NODE = "far", "near"

# Each execution of the job keeps a directory of its own under RUNS: its pid, a tick every 0.2 s
# while it waits for the file `go` there, and `done` once it has written its product. It gives up
# after a minute, so nothing outlives a broken test.
SCRIPT = """out="$1"
run="{runs}/$SCALE_JOB_EXE_ID"
mkdir -p "$run"
echo $$ > "$run/pid"
i=0
while [ ! -e "$run/go" ] && [ $i -lt 300 ]; do date +%s.%N >> "$run/ticks"; sleep 0.2; i=$((i+1)); done
echo "made by job execution $SCALE_JOB_EXE_ID" > "$out/result.txt"
printf '{{"version": "1.1", "output_data": [{{"name": "out", "file": {{"path": "%s/result.txt"}}}}]}}' "$out" \\
  > "$out/results_manifest.json"
touch "$run/done"
"""


@pytest.fixture
def namespace() -> Iterator[LinkedNamespace]:
    namespace = LinkedNamespace("scale-far", head_address=HEAD, node_address=FAR)
    try:
        namespace.create()
    except Unavailable as error:
        pytest.skip(f"no network namespaces here: {error}")
    try:
        yield namespace
    finally:
        namespace.remove()


@pytest.fixture
def forwarders(namespace: LinkedNamespace, pg_url: str) -> Iterator[None]:
    """PostgreSQL and Redis at the head's end of the link, as a node on another host sees them."""
    database = make_url(pg_url)
    proxies = [TcpProxy((database.host or "127.0.0.1", database.port or 5432), host=HEAD, port=5432),
               TcpProxy(("127.0.0.1", 6379), host=HEAD, port=6379)]
    try:
        yield
    finally:
        for proxy in proxies:
            proxy.close()


@pytest.fixture
def cluster(pg_url: str, pg_committed: sessionmaker, forwarders: None, tmp_path: Path) -> Iterator[Cluster]:
    with running_cluster(pg_url, tmp_path, redis_url=f"redis://127.0.0.1:6379/{REDIS_DB}",
                         heartbeat_seconds=1, lost_seconds=LOST_SECONDS) as cluster:
        yield cluster


class Runs:
    """The job's executions as the script leaves them in `root` (see SCRIPT)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def ticking(self, job_exe_id: int) -> bool:
        return (self.root / str(job_exe_id) / "ticks").exists()

    def ticks(self, job_exe_id: int) -> int:
        return len((self.root / str(job_exe_id) / "ticks").read_text().splitlines())

    def let_finish(self, job_exe_id: int) -> None:
        (self.root / str(job_exe_id) / "go").touch()

    def done(self, job_exe_id: int) -> bool:
        return (self.root / str(job_exe_id) / "done").exists()

    def alive(self, job_exe_id: int) -> bool:
        """Whether the script's process exists (and is not a zombie)."""
        pid = (self.root / str(job_exe_id) / "pid").read_text().strip()
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        return state != "Z"


def product_job_type(sessions: sessionmaker, tmp_path: Path) -> tuple[int, int]:
    """The waiting job type (cpus 1, retried on SYSTEM errors) and a host workspace for its product."""
    script = tmp_path / "wait-then-write.sh"
    script.write_text(SCRIPT.format(runs=tmp_path / "runs"))
    with sessions.begin() as session:
        workspace = Workspace(name="products", json_config={"version": "1.0", "broker": {
            "type": "host", "host_path": str(tmp_path / "workspace")}})
        session.add(workspace)
        session.flush()
        job_type = create_job_type(session, {
            "name": "wait-then-write", "version": "1.0", "max_tries": 3, "cpus_required": 1, "mem_required": 64,
            "interface": {"version": "1.0", "command": f"/bin/sh {script}", "command_arguments": "${job_output_dir}",
                          "input_data": [], "output_data": [{"name": "out", "type": "file",
                                                              "media_type": "text/plain"}]}})
        return job_type.id, workspace.id


def queue(sessions: sessionmaker, job_type_id: int, workspace_id: int) -> int:
    data = {"version": "1.0", "input_data": [], "output_data": [{"name": "out", "workspace_id": workspace_id}]}
    with sessions.begin() as session:
        return queue_service.queue_new_job(session, NewJob.from_json({"job_type_id": job_type_id,
                                                                      "job_data": data}))[0].id


def executions(sessions: sessionmaker, job_id: int) -> list[tuple[int, str, str | None, str]]:
    """(id, status, error name, node) of each of the job's executions, oldest first."""
    with sessions() as session:
        rows = session.execute(
            select(JobExecution.id, JobExecution.status, Error.name, Node.hostname)
            .join(Node, Node.id == JobExecution.node_id).outerjoin(Error, Error.id == JobExecution.error_id)
            .where(JobExecution.job_id == job_id).order_by(JobExecution.id)).all()
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def started_on(sessions: sessionmaker, runs: Runs, job_id: int, node: str) -> int | None:
    """The id of the job's execution running on `node` once its script ticks, else None."""
    for job_exe_id, status, _error, hostname in executions(sessions, job_id):
        if status == JobExecutionStatus.RUNNING and hostname == node and runs.ticking(job_exe_id):
            return job_exe_id
    return None


def job_status(sessions: sessionmaker, job_id: int) -> str | None:
    with sessions() as session:
        return session.scalar(select(Job.status).where(Job.id == job_id))


def products(sessions: sessionmaker, job_id: int) -> list[tuple[int, int | None]]:
    """(id, job execution) of each product of the job."""
    with sessions() as session:
        return [(row[0], row[1]) for row in session.execute(
            select(ScaleFile.id, ScaleFile.job_exe_id).where(ScaleFile.job_id == job_id).order_by(ScaleFile.id))]


def set_paused(sessions: sessionmaker, node: str, paused: bool) -> None:
    with sessions.begin() as session:
        node_id = session.scalar(select(Node.id).where(Node.hostname == node))
        assert node_id is not None
        nodes_service.edit_node(session, node_id, NodeEdit.from_json({"is_paused": paused}))


def stderr_of(cluster: Cluster, node: str, job_exe_id: int) -> str:
    path = cluster.work_root(node) / str(job_exe_id) / "stderr.log"
    return path.read_text() if path.exists() else ""


def test_a_node_cut_off_loses_its_jobs_to_another_node_and_its_stale_runs_count_for_nothing(
        namespace: LinkedNamespace, cluster: Cluster, pg_committed: sessionmaker, pg_url: str, tmp_path: Path):
    runs = Runs(tmp_path / "runs")
    far_database = make_url(pg_url).set(host=HEAD).render_as_string(hide_password=False)
    cluster.start_node(FAR_NODE, cpus=2, via=namespace.exec_prefix(), env={
        "SCALE_DATABASE_URL": far_database, "SCALE_BROKER_URL": f"redis://{HEAD}:6379/{REDIS_DB}"})
    cluster.start_node(NEAR_NODE, cpus=2)
    wait_until(lambda: online(pg_committed, FAR_NODE, NEAR_NODE), what="both nodes to heartbeat", timeout=30)
    set_paused(pg_committed, NEAR_NODE, True)
    # Started now, the scheduler's first look at the nodes (then one every 5 s) finds both.
    cluster.start_scheduler()
    job_type_id, workspace_id = product_job_type(pg_committed, tmp_path)

    # A job runs on the far node, over the link.
    first = queue(pg_committed, job_type_id, workspace_id)
    first_exe = wait_until(lambda: started_on(pg_committed, runs, first, FAR_NODE), what="a job on the far node",
                           timeout=20)
    runs.let_finish(first_exe)
    wait_until(lambda: job_status(pg_committed, first) == JobStatus.COMPLETED, what="the first job", timeout=20)
    assert executions(pg_committed, first) == [(first_exe, JobExecutionStatus.COMPLETED, None, FAR_NODE)]
    assert [exe for _id, exe in products(pg_committed, first)] == [first_exe]

    # Two more start there; then the link goes down for longer than SCALE_NODE_LOST_SECONDS.
    finishing, stuck = queue(pg_committed, job_type_id, workspace_id), queue(pg_committed, job_type_id, workspace_id)
    stale = {job_id: wait_until(lambda job_id=job_id: started_on(pg_committed, runs, job_id, FAR_NODE),
                                what=f"job {job_id} on the far node", timeout=20) for job_id in (finishing, stuck)}
    set_paused(pg_committed, NEAR_NODE, False)
    namespace.cut()
    cut_at = time.monotonic()
    fresh = {job_id: wait_until(lambda job_id=job_id: started_on(pg_committed, runs, job_id, NEAR_NODE),
                                what=f"job {job_id} requeued on the near node", timeout=30)
             for job_id in (finishing, stuck)}
    assert time.monotonic() - cut_at > LOST_SECONDS
    assert not online(pg_committed, FAR_NODE)
    # One stale run ends while the node is cut off, with its product written; the other goes on.
    runs.let_finish(stale[finishing])
    wait_until(lambda: runs.done(stale[finishing]), what="the stale run to finish", timeout=10)
    assert runs.alive(stale[stuck])

    namespace.restore()
    wait_until(lambda: online(pg_committed, FAR_NODE), what="the far node to heartbeat again", timeout=30)
    wait_until(lambda: not runs.alive(stale[stuck]), what="the stale run to be stopped", timeout=20)
    for job_id in (finishing, stuck):
        wait_until(lambda job_id=job_id: "stopped: the execution is FAILED" in stderr_of(cluster, FAR_NODE,
                                                                                         stale[job_id]),
                   what=f"the far node to give up job {job_id}'s stale run", timeout=20)
    ticks = runs.ticks(stale[stuck])
    for job_id in (finishing, stuck):
        runs.let_finish(fresh[job_id])
    for job_id in (finishing, stuck):
        wait_until(lambda job_id=job_id: job_status(pg_committed, job_id) == JobStatus.COMPLETED,
                   what=f"job {job_id} to complete on the near node", timeout=20)

    for job_id in (finishing, stuck):
        assert executions(pg_committed, job_id) == [
            (stale[job_id], JobExecutionStatus.FAILED, "node-lost", FAR_NODE),
            (fresh[job_id], JobExecutionStatus.COMPLETED, None, NEAR_NODE)]
        [(product_id, product_exe)] = products(pg_committed, job_id)
        assert product_exe == fresh[job_id]
        with pg_committed() as session:
            results = session.scalar(select(Job.results).where(Job.id == job_id))
        assert results == {"version": "1.0", "output_data": [{"name": "out", "file_id": product_id}]}
    # The stale run that finished wrote its product on the far node's disk; it was never stored.
    assert (cluster.work_root(FAR_NODE) / str(stale[finishing]) / "outputs" / "result.txt").exists()
    assert not runs.done(stale[stuck])
    assert runs.ticks(stale[stuck]) == ticks
    # Three products in the workspace: the first job's and one each from the near node.
    assert len([path for path in (tmp_path / "workspace").rglob("*") if path.is_file()]) == 3
