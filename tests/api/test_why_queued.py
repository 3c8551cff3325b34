"""Why a QUEUED job waits (`scale.scheduler.why`): one reason code per job in its details and in
every job list, counted by code in GET /queue/status/, from a batch whose statements do not
grow with the jobs."""

from __future__ import annotations

import datetime as dt

from scale.models.nodes import Node
from scale.nodes import registry
from scale.nodes import service as nodes
from scale.nodes.commands import NodeEdit, SchedulerEdit
from scale.resources import Resources
from scale.scheduler.why import queued_reasons
from scale.timeutil import utcnow
from tests.factories import make_job_type, queued_job, run_job
from tests.helpers import statements

TOTAL = Resources(2, 2048, 10_000)


def beat(db, hostname: str = "n1", *, ago: float = 0.0) -> Node:
    return registry.heartbeat_node(db, hostname=hostname, total=TOTAL, now=utcnow() - dt.timedelta(seconds=ago))


def details(client, job_id: int) -> dict:
    resp = client.get(f"/api/jobs/{job_id}/")
    assert resp.status_code == 200
    body = resp.get_json()
    return {key: body[key] for key in ("queued_reason", "queued_reason_code", "can_never_fit")}


def code(client, job_id: int) -> str | None:
    return details(client, job_id)["queued_reason_code"]


def test_scheduler_paused_then_job_type_paused_then_no_node(client, db):
    job_type = make_job_type(db)
    job = queued_job(db, job_type)
    nodes.edit_scheduler(db, SchedulerEdit(is_paused=True))
    job_type.is_paused = True
    db.commit()
    assert details(client, job.id) == {"queued_reason": "the scheduler is paused",
                                       "queued_reason_code": "SCHEDULER_PAUSED", "can_never_fit": False}
    nodes.edit_scheduler(db, SchedulerEdit(is_paused=False))
    db.commit()
    assert details(client, job.id)["queued_reason"] == "its job type is paused"
    assert code(client, job.id) == "JOB_TYPE_PAUSED"
    job_type.is_paused = False
    db.commit()
    reason = details(client, job.id)
    assert (reason["queued_reason_code"], reason["can_never_fit"]) == ("NO_NODE", False)
    assert "no node is online" in reason["queued_reason"]


def test_every_online_node_paused_is_no_node(client, db):
    node = beat(db)
    beat(db, "silent", ago=120)  # offline: not counted
    nodes.edit_node(db, node.id, NodeEdit.from_json({"is_paused": True}))
    job = queued_job(db, make_job_type(db))
    db.commit()
    reason = details(client, job.id)
    assert reason["queued_reason_code"] == "NO_NODE" and "every online node is paused" in reason["queued_reason"]


def test_a_job_larger_than_every_node_can_never_fit(client, db):
    beat(db)
    job = queued_job(db, make_job_type(db, cpus_required=8.0))
    db.commit()
    reason = details(client, job.id)
    assert (reason["queued_reason_code"], reason["can_never_fit"]) == ("TOO_LARGE", True)
    assert "larger than every online node" in reason["queued_reason"]
    assert "cpus 8" in reason["queued_reason"] and "cpus 2" in reason["queued_reason"]


def test_max_scheduled_reached(client, db):
    node = beat(db)
    job_type = make_job_type(db, max_scheduled=1)
    running, waiting = queued_job(db, job_type), queued_job(db, job_type)
    run_job(db, running, node)
    db.commit()
    reason = details(client, waiting.id)
    assert reason["queued_reason_code"] == "MAX_SCHEDULED"
    assert reason["queued_reason"] == "its job type already runs its max_scheduled of 1 execution"
    assert details(client, running.id) == {"queued_reason": None, "queued_reason_code": None, "can_never_fit": False}


def test_waiting_counts_the_jobs_ahead_in_priority_order(client, db):
    beat(db)
    job_type = make_job_type(db)
    first, second = queued_job(db, job_type), queued_job(db, job_type)
    urgent = queued_job(db, make_job_type(db, name="urgent", priority=1))
    db.commit()
    assert code(client, first.id) == code(client, second.id) == code(client, urgent.id) == "WAITING"
    assert details(client, urgent.id)["queued_reason"].endswith("it is next in line")
    assert "behind 1 queued job of" in details(client, first.id)["queued_reason"]
    assert "behind 2 queued jobs of higher priority or queued earlier" in details(client, second.id)["queued_reason"]


def test_the_batch_costs_the_same_statements_for_one_job_as_for_twenty(db):
    beat(db)
    job_type = make_job_type(db, max_scheduled=5)
    jobs = [queued_job(db, job_type) for _ in range(20)]
    with statements(db) as one:
        assert len(queued_reasons(db, [jobs[0].id])) == 1
    with statements(db) as twenty:
        assert len(queued_reasons(db, [job.id for job in jobs])) == 20
    assert len(one) == len(twenty) <= 6
    with statements(db) as none_queued:
        assert queued_reasons(db, [10**6]) == {}
    assert len(none_queued) == 1


def test_job_lists_carry_the_reason_of_each_queued_job(client, db):
    node = beat(db)
    job_type = make_job_type(db)
    running, waiting = queued_job(db, job_type), queued_job(db, job_type)
    huge = queued_job(db, make_job_type(db, name="huge", cpus_required=64.0))
    run_job(db, running, node)
    db.commit()
    for path in ("/api/jobs/", "/api/jobs/updates/", "/api/jobs/executions/"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        by_id = {j["id"]: (j["queued_reason_code"], j["can_never_fit"]) for j in resp.get_json()["results"]}
        assert by_id == {running.id: (None, False), waiting.id: ("WAITING", False), huge.id: ("TOO_LARGE", True)}, path


def test_queue_status_counts_the_reasons_by_job_type(client, db):
    beat(db)
    small = make_job_type(db)
    huge = make_job_type(db, name="huge", cpus_required=64.0)
    for _ in range(3):
        queued_job(db, small)
    queued_job(db, huge)
    db.commit()
    resp = client.get("/api/queue/status/")
    assert resp.status_code == 200
    counts = {e["job_type_name"]: e["queued_reasons"] for e in resp.get_json()["queue_status"]}
    assert counts == {"algo": {"WAITING": 3}, "huge": {"TOO_LARGE": 1}}
