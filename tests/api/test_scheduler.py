"""Scheduler services: GET/PATCH /scheduler/ and GET /status/."""

from __future__ import annotations

import datetime as dt

import pytest

from scale.models.nodes import Scheduler
from scale.models.triggers import TriggerEvent, TriggerRule, TriggerRuleType
from scale.nodes import leadership
from scale.timeutil import to_iso, utcnow
from tests.factories import make_cluster_node, make_execution, make_job_type


def test_get_scheduler(client, db):
    assert client.get("/api/scheduler/").get_json() == {"is_paused": False}


def test_patch_pauses_and_resumes_the_scheduler(client, db, token):
    resp = client.patch("/api/scheduler/", headers=token, json={"is_paused": True})
    assert resp.status_code == 201
    assert resp.headers["Location"].endswith("/api/scheduler/")
    assert resp.get_json() == {"is_paused": True}
    assert client.get("/api/scheduler/").get_json() == {"is_paused": True}
    db.expire_all()
    assert db.get(Scheduler, 1).is_paused is True

    client.patch("/api/scheduler/", headers=token, json={"is_paused": False})
    assert client.get("/api/scheduler/").get_json() == {"is_paused": False}


@pytest.mark.parametrize(("payload", "field"), [
    ({"is_paused": True, "max_node_errors": 3}, "max_node_errors"),
    ({"is_paused": "true"}, "is_paused"),
    ({}, "body"),
])
def test_patch_scheduler_rejects_bad_input_and_writes_nothing(client, db, token, payload, field):
    resp = client.patch("/api/scheduler/", headers=token, json=payload)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == field
    db.expire_all()
    assert db.get(Scheduler, 1).is_paused is False


def test_patch_scheduler_rejects_a_non_object_body(client, db, token):
    resp = client.patch("/api/scheduler/", headers=token, json=[True])
    assert resp.status_code == 400 and resp.get_json()["field"] == "body"


def test_patch_scheduler_needs_a_token(client, db):
    assert client.patch("/api/scheduler/", json={"is_paused": True}).status_code == 401
    db.expire_all()
    assert db.get(Scheduler, 1).is_paused is False


def test_status_sums_active_nodes_and_running_executions(client, db):
    a = make_cluster_node(db, "a.example.com", cpus=16.0, mem=63305.0, disk=131485.0, last_offer=utcnow())
    b = make_cluster_node(db, "b.example.com", cpus=4.0, mem=1000.0, disk=500.0, last_offer=utcnow())
    make_cluster_node(db, "gone.example.com", cpus=64.0, active=False)
    job_type = make_job_type(db, "sleeper")
    make_execution(db, job_type, a, cpus=2.0, mem=1024.0, disk=300.0)
    make_execution(db, job_type, b, cpus=1.0, mem=100.0, disk=10.0)
    make_execution(db, job_type, b, "COMPLETED", cpus=8.0)
    make_execution(db, job_type, None, "QUEUED", queued_row=True)
    make_execution(db, job_type, None, "QUEUED", queued_row=True)
    leadership.lead(db, leadership.node_role("a.example.com"), "a.example.com:4242:x")
    db.commit()

    body = client.get("/api/status/").get_json()
    assert body["queue_depth"] == 2
    assert body["resources"] == {
        "total": {"cpus": 20.0, "mem": 64305.0, "disk": 131985.0},
        "scheduled": {"cpus": 3.0, "mem": 1124.0, "disk": 310.0},
        "used": {"cpus": 0.0, "mem": 0.0, "disk": 0.0}}
    assert body["scheduler"] == {"is_online": True, "is_paused": False, "hostname": "a.example.com",
                                 "leader": "a.example.com:4242:x"}
    assert body["master"] == {"is_online": True, "hostname": "a.example.com", "port": 0}


def test_status_scheduler_offline_when_its_lease_is_stale(client, db, token):
    make_cluster_node(db, last_offer=utcnow())
    leadership.lead(db, leadership.SCHEDULER_ROLE, "head.example.com:7:y", now=utcnow() - dt.timedelta(minutes=2))
    db.commit()
    client.patch("/api/scheduler/", headers=token, json={"is_paused": True})
    body = client.get("/api/status/").get_json()
    assert body["scheduler"] == {"is_online": False, "is_paused": True, "hostname": "head.example.com",
                                 "leader": "head.example.com:7:y"}
    assert body["master"]["is_online"] is False


def test_status_shows_the_clock_and_its_last_fire(client, db):
    leadership.report_in(db, f"{leadership.CLOCK_ROLE_PREFIX}clock.example.com:9:z", "clock.example.com:9:z")
    fired = utcnow() - dt.timedelta(seconds=30)
    rule = TriggerRule(type=TriggerRuleType.CLOCK, name="scale-load", is_active=True, created=fired,
                       last_modified=fired,
                       configuration={"version": "1.0", "event_type": "SCALE_LOAD", "schedule": "PT1M0S"})
    db.add(rule)
    db.flush()
    db.add(TriggerEvent(type="SCALE_LOAD", rule_id=rule.id, occurred=fired))
    db.commit()
    clock = client.get("/api/status/").get_json()["clock"]
    assert (clock["is_online"], clock["hostname"]) == (True, "clock.example.com")
    assert clock["last_fire"] == to_iso(fired)


def test_status_of_an_empty_cluster(client, db):
    body = client.get("/api/status/").get_json()
    assert body["queue_depth"] == 0
    assert body["scheduler"] == {"is_online": False, "is_paused": False, "hostname": None, "leader": None}
    assert body["clock"] == {"is_online": False, "hostname": None, "last_fire": None}
    assert body["resources"]["total"] == {"cpus": 0.0, "mem": 0.0, "disk": 0.0}
