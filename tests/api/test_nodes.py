"""Node services: GET /nodes/, GET /nodes/status/, GET/PUT/PATCH /nodes/{id}/, and pausing
nodes for errors."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from scale.models.errors import Error
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.jobs import JobExecution, Queue
from scale.models.nodes import Node, Scheduler
from scale.nodes import service as nodes
from scale.timeutil import utcnow
from tests.factories import new_job

INTERFACE = {"version": "1.0", "command": "/bin/true", "command_arguments": "",
             "input_data": [], "output_data": []}


# ---- rows, built directly: these tests are about reading them --------------------------------

def add_node(db, hostname="node1.example.com", *, cpus=4.0, mem=8192.0, disk=100_000.0,
             active=True, last_offer: dt.datetime | None = None, **fields) -> Node:
    now = utcnow()
    node = Node(hostname=hostname, port=5051, slave_id=None, is_active=active, created=now,
                last_modified=now, last_offer=last_offer, cpus_total=cpus, mem_total=mem,
                disk_total=disk, **fields)
    db.add(node)
    db.flush()
    return node


def add_job_type(db, name="sleeper") -> JobType:
    job_type = JobType(name=name, version="1.0", interface=INTERFACE)
    db.add(job_type)
    db.flush()
    db.add(JobTypeRevision(job_type_id=job_type.id, revision_num=1, interface=INTERFACE))
    db.flush()
    return job_type


def add_exe(db, job_type: JobType, node: Node | None, status="RUNNING", *, error: str | None = None,
            cpus=1.0, mem=512.0, disk=100.0, ended: dt.datetime | None = None,
            queued_row=False) -> JobExecution:
    now = utcnow()
    error_row = db.scalar(select(Error).where(Error.name == error)) if error else None
    job = new_job(db, job_type, priority=10, timeout=60, status=status, max_tries=3, num_exes=1,
                  cpus_required=cpus, mem_required=mem)
    exe = JobExecution(job=job, status=status, timeout=60, node_id=node.id if node else None,
                       error=error_row, queued=now, started=now if status != "QUEUED" else None,
                       ended=ended or (now if status in ("FAILED", "COMPLETED") else None),
                       cpus_scheduled=cpus, mem_scheduled=mem, disk_in_scheduled=disk / 2,
                       disk_out_scheduled=disk / 2, disk_total_scheduled=disk)
    db.add(exe)
    db.flush()
    if queued_row:
        db.add(Queue(job_exe_id=exe.id, job_id=job.id, job_type_id=job_type.id, priority=10,
                     cpus_required=cpus, mem_required=mem, disk_in_required=0.0,
                     disk_out_required=disk, disk_total_required=disk, queued=now))
        db.flush()
    return exe


# ---- list and details ------------------------------------------------------------------------

def test_list_nodes_shows_active_nodes_in_reference_shape(client, db):
    add_node(db, "b.example.com")
    add_node(db, "a.example.com")
    add_node(db, "gone.example.com", active=False)
    body = client.get("/api/nodes/").get_json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    assert [n["hostname"] for n in body["results"]] == ["a.example.com", "b.example.com"]
    assert set(body["results"][0]) == {
        "id", "hostname", "port", "slave_id", "pause_reason", "is_paused", "is_paused_errors",
        "is_active", "archived", "created", "last_offer", "last_modified"}


def test_list_nodes_include_inactive(client, db):
    add_node(db, "a.example.com")
    add_node(db, "gone.example.com", active=False)
    body = client.get("/api/nodes/?include_inactive=true").get_json()
    assert body["count"] == 2


def test_list_nodes_rejects_bad_include_inactive_and_order(client, db):
    resp = client.get("/api/nodes/?include_inactive=maybe")
    assert resp.status_code == 400 and resp.get_json()["field"] == "include_inactive"
    resp = client.get("/api/nodes/?order=cpus")
    assert resp.status_code == 400 and resp.get_json()["field"] == "order"


def test_list_nodes_orders_by_the_references_host_name_example(client, db):
    b = add_node(db, "b.example.com")
    a = add_node(db, "a.example.com")
    resp = client.get("/api/nodes/?order=host_name&order=created")
    assert resp.status_code == 200, resp.get_json()
    assert [n["id"] for n in resp.get_json()["results"]] == [a.id, b.id]
    assert [n["id"] for n in client.get("/api/nodes/?order=-host_name").get_json()["results"]] == [b.id, a.id]
    status = client.get("/api/nodes/status/?order=-host_name").get_json()["results"]
    assert [n["node"]["id"] for n in status] == [b.id, a.id]


def test_node_details_has_resources_and_running_executions(client, db):
    node = add_node(db, cpus=16.0, mem=63305.0, disk=131485.0)
    job_type = add_job_type(db)
    running = add_exe(db, job_type, node, cpus=2.0, mem=1024.0, disk=300.0)
    add_exe(db, job_type, node, cpus=1.5, mem=100.0, disk=10.0)
    add_exe(db, job_type, node, "COMPLETED", cpus=8.0)  # finished: no longer scheduled
    body = client.get(f"/api/nodes/{node.id}/").get_json()
    assert body["resources"] == {
        "total": {"cpus": 16.0, "mem": 63305.0, "disk": 131485.0},
        "scheduled": {"cpus": 3.5, "mem": 1124.0, "disk": 310.0},
        "used": {"cpus": 0.0, "mem": 0.0, "disk": 0.0}}
    assert [e["id"] for e in body["job_exes_running"]] == [running.id, running.id + 1]
    first = body["job_exes_running"][0]
    assert first["status"] == "RUNNING" and first["node"] == {"id": node.id}
    assert first["job"]["job_type"]["name"] == "sleeper"
    assert first["cpus_scheduled"] == 2.0 and first["disk_total_scheduled"] == 300.0


def test_node_details_unknown_id_is_404(client, db):
    assert client.get("/api/nodes/999999/").status_code == 404


# ---- PUT and PATCH ---------------------------------------------------------------------------

def test_patch_pauses_with_reason_then_resumes(client, db, token):
    node = add_node(db)
    resp = client.patch(f"/api/nodes/{node.id}/", headers=token,
                        json={"is_paused": True, "pause_reason": "disk replacement"})
    assert resp.status_code == 201
    assert resp.headers["Location"].endswith(f"/api/nodes/{node.id}/")
    body = resp.get_json()
    assert body["is_paused"] is True and body["pause_reason"] == "disk replacement"
    assert "resources" in body
    db.expire_all()
    assert db.get(Node, node.id).is_paused is True

    body = client.patch(f"/api/nodes/{node.id}/", headers=token, json={"is_paused": False}).get_json()
    assert body["is_paused"] is False and body["pause_reason"] is None


def test_resuming_clears_an_error_pause(client, db, token):
    node = add_node(db, is_paused=True, is_paused_errors=True, pause_reason="too many errors")
    body = client.patch(f"/api/nodes/{node.id}/", headers=token, json={"is_paused": False}).get_json()
    assert (body["is_paused"], body["is_paused_errors"], body["pause_reason"]) == (False, False, None)


@pytest.mark.parametrize(("payload", "field"), [
    ({"is_paused": True, "cpus": 4}, "cpus"),
    ({"is_paused": "yes"}, "is_paused"),
    ({"port": -1}, "port"),
    ({"hostname": ""}, "hostname"),
    ({}, "body"),
])
def test_patch_rejects_bad_input_and_writes_nothing(client, db, token, payload, field):
    node = add_node(db)
    resp = client.patch(f"/api/nodes/{node.id}/", headers=token, json=payload)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == field
    db.expire_all()
    assert db.get(Node, node.id).is_paused is False


def test_patch_needs_a_token(client, db):
    node = add_node(db)
    assert client.patch(f"/api/nodes/{node.id}/", json={"is_paused": True}).status_code == 401


def test_patch_unknown_node_is_404(client, db, token):
    assert client.patch("/api/nodes/999999/", headers=token, json={"is_paused": True}).status_code == 404


def test_put_replaces_all_fields(client, db, token):
    node = add_node(db)
    resp = client.put(f"/api/nodes/{node.id}/", headers=token, json={
        "hostname": "renamed.example.com", "port": 5052, "pause_reason": "maintenance",
        "is_paused": True})
    assert resp.status_code == 201
    body = resp.get_json()
    assert (body["hostname"], body["port"], body["is_paused"], body["pause_reason"]) == (
        "renamed.example.com", 5052, True, "maintenance")


def test_put_requires_every_field(client, db, token):
    node = add_node(db)
    resp = client.put(f"/api/nodes/{node.id}/", headers=token,
                      json={"hostname": "x.example.com", "port": 1, "is_paused": False})
    assert resp.status_code == 400 and resp.get_json()["field"] == "pause_reason"
    db.expire_all()
    assert db.get(Node, node.id).hostname == "node1.example.com"


def test_put_refuses_a_taken_hostname(client, db, token):
    node = add_node(db)
    add_node(db, "taken.example.com")
    resp = client.put(f"/api/nodes/{node.id}/", headers=token, json={
        "hostname": "taken.example.com", "port": 1, "pause_reason": None, "is_paused": False})
    assert resp.status_code == 400 and resp.get_json()["field"] == "hostname"


# ---- status ----------------------------------------------------------------------------------

def test_nodes_status_counts_by_status_and_category(client, db):
    online = add_node(db, "a.example.com", last_offer=utcnow())
    add_node(db, "b.example.com", last_offer=utcnow() - dt.timedelta(minutes=5))
    add_node(db, "gone.example.com", active=False)
    job_type = add_job_type(db)
    running = add_exe(db, job_type, online)
    add_exe(db, job_type, online, "COMPLETED")
    add_exe(db, job_type, online, "COMPLETED")
    add_exe(db, job_type, online, "FAILED", error="node-lost")
    add_exe(db, job_type, online, "COMPLETED", ended=utcnow() - dt.timedelta(days=2))  # not recent

    body = client.get("/api/nodes/status/").get_json()
    assert body["count"] == 2
    first, second = body["results"]
    assert first["node"]["hostname"] == "a.example.com" and first["is_online"] is True
    counts = {(c["status"], c["category"]): c["count"] for c in first["job_exe_counts"]}
    assert counts == {("COMPLETED", None): 2, ("FAILED", "SYSTEM"): 1, ("RUNNING", None): 1}
    assert [e["id"] for e in first["job_exes_running"]] == [running.id]
    assert second["is_online"] is False and second["job_exe_counts"] == []

    body = client.get("/api/nodes/status/?started=P3D").get_json()
    counts = {c["status"]: c["count"] for c in body["results"][0]["job_exe_counts"]}
    assert counts["COMPLETED"] == 3


def test_nodes_status_rejects_bad_started(client, db):
    resp = client.get("/api/nodes/status/?started=yesterday")
    assert resp.status_code == 400 and resp.get_json()["field"] == "started"


# ---- pausing for errors ----------------------------------------------------------------------

def set_error_limits(db, *, max_errors: int, period: int) -> None:
    scheduler = db.get(Scheduler, 1)
    scheduler.max_node_errors, scheduler.node_error_period = max_errors, period
    db.flush()


def test_node_is_paused_when_more_than_max_jobs_fail_with_system_errors(db):
    set_error_limits(db, max_errors=2, period=60)
    bad, good = add_node(db, "bad.example.com"), add_node(db, "good.example.com")
    job_type = add_job_type(db)
    for _ in range(3):
        add_exe(db, job_type, bad, "FAILED", error="node-lost")
    for _ in range(2):
        add_exe(db, job_type, good, "FAILED", error="node-lost")  # at the limit, not over
    paused = nodes.pause_nodes_with_errors(db)
    assert [n.hostname for n in paused] == ["bad.example.com"]
    assert bad.is_paused and bad.is_paused_errors and "3 jobs failed" in bad.pause_reason
    assert not good.is_paused


def test_algorithm_errors_and_old_failures_do_not_pause_a_node(db):
    set_error_limits(db, max_errors=1, period=60)
    node = add_node(db)
    job_type = add_job_type(db)
    for _ in range(3):
        add_exe(db, job_type, node, "FAILED", error="algorithm-unknown")
        add_exe(db, job_type, node, "FAILED", error="node-lost",
                ended=utcnow() - dt.timedelta(seconds=120))
    assert nodes.pause_nodes_with_errors(db) == []
    assert node.is_paused is False
