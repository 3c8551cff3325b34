"""Job services: /api/jobs/ (list, details, cancel, updates, jobs with their latest execution)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from scale.models.jobs import Job, JobExecution, Queue
from scale.models.recipes import Recipe, RecipeJob, RecipeType, RecipeTypeRevision
from scale.queue import transitions
from tests.factories import (
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
def jobs(db):
    """Two job types; a queued, a running and a completed job with an input file and a product."""
    alpha = make_job_type(db, name="alpha", category="cat-a", interface=interface(outputs=("out_file",)))
    beta = make_job_type(db, name="beta", category="cat-b")
    workspace = make_workspace(db)
    source = make_file(db, workspace)
    data = {"version": "1.0", "input_data": [{"name": "input_file", "file_id": source.id}],
            "output_data": [{"name": "out_file", "workspace_id": workspace.id}]}
    node = make_node(db)
    queued = queued_job(db, beta)
    running = queued_job(db, beta)
    run_job(db, running, node)
    done = queued_job(db, alpha, data)
    exe = run_job(db, done, node)
    made = make_file(db, workspace, media_type="application/json", file_type="PRODUCT", job_id=done.id,
                     job_exe_id=exe.id, job_type_id=alpha.id, is_operational=True)
    transitions.complete_execution(db, exe.id, results={"version": "1.0", "output_data": [
        {"name": "out_file", "file_id": made.id}]}, exit_code=0)
    db.commit()
    return {"queued": queued, "running": running, "done": done, "source": source, "product": made,
            "exe": exe, "alpha": alpha, "beta": beta}


def ids(resp):
    assert resp.status_code == 200, resp.get_json()
    return [job["id"] for job in resp.get_json()["results"]]


def test_list_jobs_in_the_reference_shape(client, jobs):
    body = client.get("/api/jobs/").get_json()
    assert body["count"] == 3
    first = next(j for j in body["results"] if j["id"] == jobs["done"].id)
    assert first["job_type"]["name"] == "alpha" and first["job_type_rev"]["revision_num"] == 1
    assert first["event"]["type"] == "TEST" and first["status"] == "COMPLETED" and first["error"] is None
    for name in ("num_exes", "max_tries", "cpus_required", "disk_in_required", "queued", "last_status_change"):
        assert name in first
    assert first["ended"].endswith("Z")


@pytest.mark.parametrize("query,expected", [
    ("status=QUEUED", ["queued"]), ("status=QUEUED&status=RUNNING", ["queued", "running"]),
    ("job_type_name=alpha", ["done"]), ("job_type_category=cat-b&order=id", ["queued", "running"]),
])
def test_list_jobs_filters(client, jobs, query, expected):
    assert sorted(ids(client.get(f"/api/jobs/?{query}"))) == sorted(jobs[name].id for name in expected)


def test_list_jobs_by_id_and_type_id(client, jobs):
    assert ids(client.get(f"/api/jobs/?job_id={jobs['running'].id}")) == [jobs["running"].id]
    assert ids(client.get(f"/api/jobs/?job_type_id={jobs['alpha'].id}")) == [jobs["done"].id]


def test_list_jobs_orders_by_nested_job_type_name(client, jobs):
    assert ids(client.get("/api/jobs/?order=-job_type__name&order=id")) == [
        jobs["queued"].id, jobs["running"].id, jobs["done"].id]
    assert ids(client.get("/api/jobs/?order=job_type__name&order=-id"))[0] == jobs["done"].id


@pytest.mark.parametrize("path", ["/api/jobs/", "/api/jobs/updates/", "/api/jobs/executions/"])
def test_job_lists_order_by_the_references_name_and_version_example(client, jobs, path):
    resp = client.get(f"{path}?started=P1D&order=-name&order=version&order=id")
    assert [job["id"] for job in resp.get_json()["results"]] == [
        jobs["queued"].id, jobs["running"].id, jobs["done"].id]


@pytest.mark.parametrize("query,field", [("status=DONE", "status"), ("order=bogus", "order"),
                                         ("job_id=x", "job_id"), ("started=nope", "started")])
def test_list_jobs_bad_arguments_are_400(client, jobs, query, field):
    resp = client.get(f"/api/jobs/?{query}")
    assert resp.status_code == 400 and resp.get_json()["field"] == field


def test_job_details(client, jobs):
    resp = client.get(f"/api/jobs/{jobs['done'].id}/")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["job_type"]["disk_out_const_required"] == 10.0
    assert body["job_type_rev"]["interface"]["command"] == "run"
    assert [e["id"] for e in body["job_exes"]] == [jobs["exe"].id]
    assert body["job_exes"][0]["node"] == {"id": jobs["exe"].node_id}
    assert [f["id"] for f in body["input_files"]] == [jobs["source"].id]
    assert body["input_files"][0]["url"] == "http://files/ws/in/in.png"
    assert [p["id"] for p in body["products"]] == [jobs["product"].id]
    assert body["products"][0]["job_exe"] == {"id": jobs["exe"].id}
    outputs = {o["name"]: o for o in body["outputs"]}
    assert outputs["out_file"]["value"]["id"] == jobs["product"].id
    inputs = {i["name"]: i for i in body["inputs"]}
    assert inputs["input_file"]["value"]["id"] == jobs["source"].id and inputs["level"]["value"] is None
    assert body["results"]["output_data"][0]["file_id"] == jobs["product"].id
    assert body["recipes"] == []


def test_job_details_lists_its_recipes(client, db, jobs):
    definition = {"version": "1.0", "input_data": [], "jobs": []}
    recipe_type = RecipeType(name="r", version="1", definition=definition)
    db.add(recipe_type)
    db.flush()
    revision = RecipeTypeRevision(recipe_type_id=recipe_type.id, revision_num=1, definition=definition)
    db.add(revision)
    db.flush()
    recipe = Recipe(recipe_type_id=recipe_type.id, recipe_type_rev_id=revision.id, event_id=jobs["done"].event_id,
                    data={})
    db.add(recipe)
    db.flush()
    db.add(RecipeJob(recipe_id=recipe.id, job_name="a", job_id=jobs["done"].id))
    db.commit()
    body = client.get(f"/api/jobs/{jobs['done'].id}/").get_json()
    assert [(r["id"], r["recipe_type"]["name"]) for r in body["recipes"]] == [(recipe.id, "r")]


def test_unknown_job_is_404(client):
    assert client.get("/api/jobs/999999/").status_code == 404
    assert client.get("/api/jobs/99999999999/").status_code == 404


def test_patch_cancels_a_queued_job(client, token, db, jobs):
    resp = client.patch(f"/api/jobs/{jobs['queued'].id}/", json={"status": "CANCELED"}, headers=token)
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "CANCELED" and body["job_exes"][0]["status"] == "CANCELED"
    assert db.scalar(select(Queue).where(Queue.job_id == jobs["queued"].id)) is None


def test_patch_cancels_a_running_job_and_its_execution(client, token, db, jobs):
    resp = client.patch(f"/api/jobs/{jobs['running'].id}/", json={"status": "CANCELED"}, headers=token)
    assert resp.status_code == 200
    db.expire_all()
    assert [e.status for e in db.get(Job, jobs["running"].id).job_exes] == ["CANCELED"]


def test_patch_of_a_finished_job_is_409(client, token, db, jobs):
    resp = client.patch(f"/api/jobs/{jobs['done'].id}/", json={"status": "CANCELED"}, headers=token)
    assert resp.status_code == 409 and "COMPLETED" in resp.get_json()["message"]
    db.expire_all()
    assert db.get(Job, jobs["done"].id).status == "COMPLETED"


@pytest.mark.parametrize("body,field", [({"status": "QUEUED"}, "status"), ({}, "status"),
                                        ({"status": "CANCELED", "priority": 1}, "priority")])
def test_patch_bad_body_is_400_and_changes_nothing(client, token, db, jobs, body, field):
    resp = client.patch(f"/api/jobs/{jobs['queued'].id}/", json=body, headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == field
    db.expire_all()
    assert db.get(Job, jobs["queued"].id).status == "QUEUED" and count(db, Queue) == 1


def test_patch_unknown_job_is_404_and_needs_a_token(client, token, jobs):
    assert client.patch("/api/jobs/999999/", json={"status": "CANCELED"}, headers=token).status_code == 404
    assert client.patch(f"/api/jobs/{jobs['queued'].id}/", json={"status": "CANCELED"}).status_code == 401


def test_updates_include_input_files_and_filter(client, jobs):
    body = client.get("/api/jobs/updates/?job_type_name=alpha").get_json()
    assert [j["id"] for j in body["results"]] == [jobs["done"].id]
    assert [f["id"] for f in body["results"][0]["input_files"]] == [jobs["source"].id]
    assert ids(client.get("/api/jobs/updates/?status=RUNNING")) == [jobs["running"].id]


def test_updates_time_range_is_last_status_change(client, db, jobs):
    job = db.get(Job, jobs["queued"].id)
    job.last_status_change = job.last_status_change.replace(year=2001)
    db.commit()
    assert jobs["queued"].id not in ids(client.get("/api/jobs/updates/?started=PT1H"))
    assert ids(client.get("/api/jobs/updates/?ended=2002-01-01T00:00:00Z")) == [jobs["queued"].id]


def test_jobs_with_latest_execution(client, db, jobs):
    node = db.get(JobExecution, jobs["exe"].id).node
    transitions.fail_execution(db, run_job(db, jobs["queued"], node).id, error_name="unknown")
    db.commit()
    body = client.get("/api/jobs/executions/?order=id").get_json()
    latest = {j["id"]: j["latest_job_exe"] for j in body["results"]}
    # The failed try was retried: the latest execution is the new QUEUED one.
    assert latest[jobs["queued"].id]["status"] == "QUEUED"
    assert latest[jobs["done"].id]["id"] == jobs["exe"].id
    assert ids(client.get("/api/jobs/executions/?job_type_category=cat-a")) == [jobs["done"].id]


def test_job_without_executions_has_no_latest(client, db, jobs):
    pending = new_job(db, jobs["alpha"])
    db.commit()
    body = client.get("/api/jobs/executions/?status=PENDING").get_json()
    assert [(j["id"], j["latest_job_exe"]) for j in body["results"]] == [(pending.id, None)]
