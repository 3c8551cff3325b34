"""Node services: GET /nodes/, GET /nodes/status/, GET/PUT/PATCH /nodes/{id}/, and pausing
nodes for errors."""

from __future__ import annotations

import datetime as dt

import pytest

from scale.models.nodes import Node, Scheduler
from scale.nodes import service as nodes
from scale.timeutil import utcnow
from tests.factories import make_cluster_node, make_execution, make_job_type

# ---- list and details ------------------------------------------------------------------------

def test_list_nodes_shows_active_nodes_in_reference_shape(client, db):
    make_cluster_node(db, "b.example.com")
    make_cluster_node(db, "a.example.com")
    make_cluster_node(db, "gone.example.com", active=False)
    body = client.get("/api/nodes/").get_json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    assert [n["hostname"] for n in body["results"]] == ["a.example.com", "b.example.com"]
    assert set(body["results"][0]) == {
        "id", "hostname", "port", "slave_id", "pause_reason", "is_paused", "is_paused_errors",
        "is_active", "archived", "created", "last_offer", "last_modified"}


def test_list_nodes_include_inactive(client, db):
    make_cluster_node(db, "a.example.com")
    make_cluster_node(db, "gone.example.com", active=False)
    body = client.get("/api/nodes/?include_inactive=true").get_json()
    assert body["count"] == 2


def test_list_nodes_rejects_bad_include_inactive_and_order(client, db):
    resp = client.get("/api/nodes/?include_inactive=maybe")
    assert resp.status_code == 400 and resp.get_json()["field"] == "include_inactive"
    resp = client.get("/api/nodes/?order=cpus")
    assert resp.status_code == 400 and resp.get_json()["field"] == "order"


def test_list_nodes_orders_by_the_references_host_name_example(client, db):
    b = make_cluster_node(db, "b.example.com")
    a = make_cluster_node(db, "a.example.com")
    resp = client.get("/api/nodes/?order=host_name&order=created")
    assert resp.status_code == 200, resp.get_json()
    assert [n["id"] for n in resp.get_json()["results"]] == [a.id, b.id]
    assert [n["id"] for n in client.get("/api/nodes/?order=-host_name").get_json()["results"]] == [b.id, a.id]
    status = client.get("/api/nodes/status/?order=-host_name").get_json()["results"]
    assert [n["node"]["id"] for n in status] == [b.id, a.id]


def test_node_details_has_resources_and_running_executions(client, db):
    node = make_cluster_node(db, cpus=16.0, mem=63305.0, disk=131485.0)
    job_type = make_job_type(db, "sleeper")
    running = make_execution(db, job_type, node, cpus=2.0, mem=1024.0, disk=300.0)
    make_execution(db, job_type, node, cpus=1.5, mem=100.0, disk=10.0)
    make_execution(db, job_type, node, "COMPLETED", cpus=8.0)  # finished: no longer scheduled
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
    node = make_cluster_node(db)
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
    node = make_cluster_node(db, is_paused=True, is_paused_errors=True, pause_reason="too many errors")
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
    node = make_cluster_node(db)
    resp = client.patch(f"/api/nodes/{node.id}/", headers=token, json=payload)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == field
    db.expire_all()
    assert db.get(Node, node.id).is_paused is False


def test_patch_needs_a_token(client, db):
    node = make_cluster_node(db)
    assert client.patch(f"/api/nodes/{node.id}/", json={"is_paused": True}).status_code == 401


def test_patch_unknown_node_is_404(client, db, token):
    assert client.patch("/api/nodes/999999/", headers=token, json={"is_paused": True}).status_code == 404


def test_put_replaces_all_fields(client, db, token):
    node = make_cluster_node(db)
    resp = client.put(f"/api/nodes/{node.id}/", headers=token, json={
        "hostname": "renamed.example.com", "port": 5052, "pause_reason": "maintenance",
        "is_paused": True})
    assert resp.status_code == 201
    body = resp.get_json()
    assert (body["hostname"], body["port"], body["is_paused"], body["pause_reason"]) == (
        "renamed.example.com", 5052, True, "maintenance")


def test_put_requires_every_field(client, db, token):
    node = make_cluster_node(db)
    resp = client.put(f"/api/nodes/{node.id}/", headers=token,
                      json={"hostname": "x.example.com", "port": 1, "is_paused": False})
    assert resp.status_code == 400 and resp.get_json()["field"] == "pause_reason"
    db.expire_all()
    assert db.get(Node, node.id).hostname == "node1.example.com"


def test_put_refuses_a_taken_hostname(client, db, token):
    node = make_cluster_node(db)
    make_cluster_node(db, "taken.example.com")
    resp = client.put(f"/api/nodes/{node.id}/", headers=token, json={
        "hostname": "taken.example.com", "port": 1, "pause_reason": None, "is_paused": False})
    assert resp.status_code == 400 and resp.get_json()["field"] == "hostname"


# ---- status ----------------------------------------------------------------------------------

def test_nodes_status_counts_by_status_and_category(client, db):
    online = make_cluster_node(db, "a.example.com", last_offer=utcnow())
    make_cluster_node(db, "b.example.com", last_offer=utcnow() - dt.timedelta(minutes=5))
    make_cluster_node(db, "gone.example.com", active=False)
    job_type = make_job_type(db, "sleeper")
    running = make_execution(db, job_type, online)
    make_execution(db, job_type, online, "COMPLETED")
    make_execution(db, job_type, online, "COMPLETED")
    make_execution(db, job_type, online, "FAILED", error="node-lost")
    make_execution(db, job_type, online, "COMPLETED", ended=utcnow() - dt.timedelta(days=2))  # not recent

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
    bad, good = make_cluster_node(db, "bad.example.com"), make_cluster_node(db, "good.example.com")
    job_type = make_job_type(db, "sleeper")
    for _ in range(3):
        make_execution(db, job_type, bad, "FAILED", error="docker")
    for _ in range(2):
        make_execution(db, job_type, good, "FAILED", error="docker")  # at the limit, not over
    paused = nodes.pause_nodes_with_errors(db)
    assert [n.hostname for n in paused] == ["bad.example.com"]
    assert bad.is_paused and bad.is_paused_errors and "3 jobs failed" in bad.pause_reason
    assert not good.is_paused


def test_algorithm_errors_and_old_failures_do_not_pause_a_node(db):
    set_error_limits(db, max_errors=1, period=60)
    node = make_cluster_node(db)
    job_type = make_job_type(db, "sleeper")
    for _ in range(3):
        make_execution(db, job_type, node, "FAILED", error="algorithm-unknown")
        make_execution(db, job_type, node, "FAILED", error="node-lost",
                       ended=utcnow() - dt.timedelta(seconds=120))
    assert nodes.pause_nodes_with_errors(db) == []
    assert node.is_paused is False


def test_executions_a_scheduler_lost_track_of_do_not_pause_their_node(db):
    """A scheduler killed and restarted fails what it was running `node-lost`: the fault was
    the scheduler's, and the node must keep taking work (test_faults_jobs.py saw 61 such
    failures in a minute pause the only node for good, with 162 jobs left QUEUED)."""
    set_error_limits(db, max_errors=1, period=60)
    node = make_cluster_node(db)
    job_type = make_job_type(db)
    for _ in range(3):
        make_execution(db, job_type, node, "FAILED", error="node-lost")
    assert nodes.pause_nodes_with_errors(db) == []
    assert node.is_paused is False
