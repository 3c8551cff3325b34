"""Queue services: /api/queue/ (status, new-job, requeue-jobs, cancel-jobs)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select, update

from scale.models.jobs import Job, JobExecution, Queue
from scale.models.triggers import TriggerEvent
from scale.queue import factory, transitions
from scale.specs.job_data import JobData
from tests.factories import (
    MIB,
    count,
    interface,
    make_file,
    make_job_type,
    make_node,
    make_workspace,
    new_job,
    queued_job,
    run_job,
)


@pytest.fixture
def world(db):
    """A job type with a png file input and one output, a png file and a products workspace."""
    job_type = make_job_type(db, interface=interface(outputs=("out_file",)), priority=5)
    workspace = make_workspace(db)
    png = make_file(db, workspace, media_type="image/png", size=4 * MIB)
    db.commit()
    return {"job_type": job_type, "workspace": workspace, "file": png}


def new_job_body(world, **overrides):
    return {"job_type_id": world["job_type"].id,
            "job_data": {"version": "1.0",
                         "input_data": [{"name": "input_file", "file_id": world["file"].id},
                                        {"name": "level", "value": "3"}],
                         "output_data": [{"name": "out_file", "workspace_id": world["workspace"].id}]},
            **overrides}


def written(db):
    return tuple(count(db, model) for model in (Job, JobExecution, Queue, TriggerEvent))


def test_new_job_is_queued_and_returns_details(client, token, db, world):
    resp = client.post("/api/queue/new-job/", json=new_job_body(world), headers=token)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "QUEUED" and body["num_exes"] == 1 and body["priority"] == 5
    assert body["job_type"]["id"] == world["job_type"].id and body["job_type_rev"]["revision_num"] == 1
    assert body["event"]["type"] == "USER" and body["event"]["description"] == {"user": "api"}
    assert [e["status"] for e in body["job_exes"]] == ["QUEUED"]
    assert resp.headers["Location"].endswith(f"/api/job-executions/{body['job_exes'][0]['id']}/")
    assert body["disk_in_required"] == 4.0 and body["disk_out_required"] == 10.0 + 2.0 * 4.0
    assert [f["id"] for f in body["input_files"]] == [world["file"].id]
    inputs = {i["name"]: i for i in body["inputs"]}
    assert inputs["input_file"]["value"]["id"] == world["file"].id and inputs["level"]["value"] == "3"
    assert body["outputs"] == [{"name": "out_file", "type": "file", "value": None}]
    row = db.scalars(select(Queue).where(Queue.job_id == body["id"])).one()
    assert row.disk_total_required == 22.0 and row.priority == 5


def test_new_job_location_names_its_execution_after_a_scheduler_took_it(client, token, db, world, sessions):
    """A scheduler may start the new execution between the commit and the answer: the answer is
    still 201 with the execution the request created."""
    def scheduler_starts_it(_session):
        with sessions.begin() as scheduler:
            scheduler.execute(update(JobExecution).where(JobExecution.status == "QUEUED").values(status="RUNNING"))

    event.listen(sessions, "after_commit", scheduler_starts_it, once=True)
    resp = client.post("/api/queue/new-job/", json=new_job_body(world), headers=token)
    assert resp.status_code == 201, resp.get_json()
    exe = db.scalars(select(JobExecution).where(JobExecution.job_id == resp.get_json()["id"])).one()
    assert exe.status == "RUNNING"
    assert resp.headers["Location"].endswith(f"/api/job-executions/{exe.id}/")


def test_a_new_job_of_a_paused_type_is_queued_and_says_why(client, token, db, world):
    """The reference pauses scheduling, not queueing: the job waits instead of being refused."""
    world["job_type"].is_paused = True
    db.commit()
    resp = client.post("/api/queue/new-job/", json=new_job_body(world), headers=token)
    assert resp.status_code == 201, resp.get_json()
    job = client.get(f"/api/jobs/{resp.get_json()['id']}/").get_json()
    assert job["status"] == "QUEUED"
    assert (job["queued_reason_code"], job["queued_reason"]) == ("JOB_TYPE_PAUSED", "its job type is paused")


def test_new_job_needs_a_token(client, db, world):
    before = written(db)
    assert client.post("/api/queue/new-job/", json=new_job_body(world)).status_code == 401
    assert written(db) == before


def bad_bodies():
    """(name, body-maker, expected field)."""
    def drop_input(world):
        body = new_job_body(world)
        body["job_data"]["input_data"] = body["job_data"]["input_data"][1:]
        return body

    def output_workspace(workspace_id):
        def make(world):
            body = new_job_body(world)
            body["job_data"]["output_data"][0]["workspace_id"] = workspace_id(world)
            return body
        return make

    def input_file(file_id):
        def make(world):
            body = new_job_body(world)
            body["job_data"]["input_data"][0]["file_id"] = file_id(world)
            return body
        return make

    return [
        ("unknown job type", lambda w: new_job_body(w, job_type_id=999_999), "job_type_id"),
        ("missing job type", lambda w: {"job_data": new_job_body(w)["job_data"]}, "job_type_id"),
        ("unknown field", lambda w: new_job_body(w, priority=1), "priority"),
        ("job data not an object", lambda w: new_job_body(w, job_data=[]), "job_data"),
        ("missing required input", drop_input, "job_data.input_data"),
        ("unknown file", input_file(lambda w: 999_999), "job_data.input_data[0].file_id"),
        ("wrong media type", input_file(lambda w: w["text"].id), "job_data.input_data[0].file_id"),
        ("deleted file", input_file(lambda w: w["deleted"].id), "job_data.input_data[0].file_id"),
        ("unknown workspace", output_workspace(lambda w: 999_999), "job_data.output_data[0].workspace_id"),
        ("inactive workspace", output_workspace(lambda w: w["archived"].id),
         "job_data.output_data[0].workspace_id"),
        ("archived job type", lambda w: new_job_body(w, job_type_id=w["inactive"].id), "job_type_id"),
        ("unknown input", lambda w: {**new_job_body(w), "job_data": {
            **new_job_body(w)["job_data"], "input_data": new_job_body(w)["job_data"]["input_data"]
            + [{"name": "nope", "value": "1"}]}}, "job_data.input_data[2].name"),
    ]


@pytest.mark.parametrize("name,make,field", bad_bodies(), ids=[b[0] for b in bad_bodies()])
def test_bad_new_job_is_400_naming_the_field_and_writes_nothing(client, token, db, world, name, make, field):
    world["text"] = make_file(db, world["workspace"], media_type="text/plain")
    world["deleted"] = make_file(db, world["workspace"], is_deleted=True)
    world["archived"] = make_workspace(db, name="old", is_active=False)
    world["inactive"] = make_job_type(db, name="inactive", is_active=False)
    db.commit()
    before = written(db)
    resp = client.post("/api/queue/new-job/", json=make(world), headers=token)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["field"] == field, resp.get_json()
    assert written(db) == before


def test_queue_status_counts_by_job_type(client, db, world):
    other = make_job_type(db, name="other", priority=1, is_paused=True)
    for _ in range(2):
        queued_job(db, world["job_type"])
    urgent = new_job(db, other)
    urgent.priority = 1
    transitions.queue_job(db, urgent)
    db.commit()
    body = client.get("/api/queue/status/").get_json()
    assert [(e["job_type_name"], e["count"], e["highest_priority"], e["is_job_type_paused"])
            for e in body["queue_status"]] == [("other", 1, 1, True), ("algo", 2, 5, False)]
    assert body["queue_status"][1]["longest_queued"].endswith("Z")


def canceled_jobs(db, job_type, n):
    """`n` jobs of `job_type` that were queued once, then canceled."""
    jobs = []
    for _ in range(n):
        job = queued_job(db, job_type)
        transitions.cancel_job(db, job.id)
        jobs.append(job)
    db.commit()
    return jobs


def test_requeue_by_job_ids_with_priority(client, token, db, world):
    jobs = canceled_jobs(db, world["job_type"], 3)
    resp = client.post("/api/queue/requeue-jobs/", json={"job_ids": [jobs[0].id, jobs[1].id], "priority": 2},
                       headers=token)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["count"] == 2 and body["next"] is None
    assert [(j["id"], j["status"], j["priority"], j["num_exes"]) for j in body["results"]] == [
        (jobs[0].id, "QUEUED", 2, 2), (jobs[1].id, "QUEUED", 2, 2)]
    db.expire_all()
    assert db.get(Job, jobs[2].id).status == "CANCELED"
    assert count(db, Queue) == 2


def test_requeue_filters_by_type_name_and_status_and_pages(client, token, db, world):
    other = make_job_type(db, name="other")
    mine = canceled_jobs(db, world["job_type"], 3)
    canceled_jobs(db, other, 2)
    resp = client.post("/api/queue/requeue-jobs/?page=2&page_size=2",
                       json={"job_type_names": ["algo"], "status": "CANCELED"}, headers=token)
    body = resp.get_json()
    assert body["count"] == 3 and [j["id"] for j in body["results"]] == [mine[2].id]
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Job).where(Job.status == "CANCELED")) == 2


def test_requeue_nothing_matching_is_an_empty_list(client, token, db, world):
    queued_job(db, world["job_type"])
    db.commit()
    body = client.post("/api/queue/requeue-jobs/", json={}, headers=token).get_json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("body,field", [
    ({"status": "QUEUED"}, "status"), ({"job_ids": ["x"]}, "job_ids[0]"), ({"started": "yesterday"}, "started"),
    ({"started": "2030-01-01T00:00:00Z", "ended": "2020-01-01T00:00:00Z"}, "started"),
    ({"priority": "high"}, "priority"), ({"bogus": 1}, "bogus"), ({"error_categories": ["NOPE"]},
                                                                   "error_categories[0]"),
])
def test_bad_requeue_is_400_and_changes_nothing(client, token, db, world, body, field):
    jobs = canceled_jobs(db, world["job_type"], 1)
    resp = client.post("/api/queue/requeue-jobs/", json=body, headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == field, resp.get_json()
    db.expire_all()
    assert db.get(Job, jobs[0].id).status == "CANCELED"


def test_cancel_jobs_by_type_and_status(client, token, db, world):
    node = make_node(db)
    queued = [queued_job(db, world["job_type"]) for _ in range(3)]
    running = queued_job(db, world["job_type"])
    exe = run_job(db, running, node)
    pending = new_job(db, world["job_type"])
    db.commit()
    resp = client.post("/api/queue/cancel-jobs/", json={"job_type_ids": [world["job_type"].id],
                                                       "status": ["QUEUED", "RUNNING"]}, headers=token)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["count"] == 4 and {j["status"] for j in body["results"]} == {"CANCELED"}
    assert {j["id"] for j in body["results"]} == {j.id for j in queued} | {running.id}
    db.expire_all()
    assert count(db, Queue) == 0 and db.get(JobExecution, exe.id).status == "CANCELED"
    assert db.get(Job, pending.id).status == "PENDING"


def test_cancel_needs_a_filter(client, token, db, world):
    job = queued_job(db, world["job_type"])
    db.commit()
    resp = client.post("/api/queue/cancel-jobs/", json={}, headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "body"
    db.expire_all()
    assert db.get(Job, job.id).status == "QUEUED"


def test_cancel_refuses_priority_and_finished_statuses(client, token, db, world):
    for body, field in (({"priority": 1}, "priority"), ({"status": "COMPLETED"}, "status")):
        resp = client.post("/api/queue/cancel-jobs/", json=body, headers=token)
        assert resp.status_code == 400 and resp.get_json()["field"] == field


def test_thousand_jobs_requeue_and_cancel_in_batches(client, token, db, world):
    job_type = world["job_type"]
    revision = new_job(db, job_type).job_type_rev
    event = TriggerEvent(type="TEST", description={}, occurred=job_type.created)
    jobs = [factory.new_job(job_type, revision, event, JobData(), job_type.created) for _ in range(1200)]
    for job in jobs:
        job.status, job.priority, job.max_tries, job.num_exes = "FAILED", 5, 1, 1
    db.add_all(jobs)
    db.commit()
    body = client.post("/api/queue/requeue-jobs/", json={"status": ["FAILED"]}, headers=token).get_json()
    assert body["count"] == 1200 and len(body["results"]) == 100
    assert count(db, Queue) == 1200 and count(db, JobExecution) == 1200
    assert db.scalar(select(func.min(Job.max_tries)).where(Job.status == "QUEUED")) == 2
    body = client.post("/api/queue/cancel-jobs/", json={"status": ["QUEUED"]}, headers=token).get_json()
    assert body["count"] == 1200
    assert count(db, Queue) == 0
    assert db.scalar(select(func.count()).select_from(JobExecution).where(JobExecution.status == "CANCELED")) == 1200
