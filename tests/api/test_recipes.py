"""Recipes at run time: POST /api/queue/new-recipe/, GET /api/recipes/ and /api/recipes/{id}/,
and advancing a recipe's jobs as their dependencies complete or fail (scale.recipes.service).

Jobs are run to completion or failure through `scale.queue.transitions` (schedule, complete,
fail), standing in for the runner, which is tested elsewhere."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from scale.models.files import ScaleFileType
from scale.models.job_types import JobType
from scale.models.jobs import Job, JobExecution, JobStatus, Queue
from scale.models.recipes import Recipe
from scale.models.triggers import TriggerEvent
from scale.queue import transitions
from scale.recipes import service
from scale.recipes.commands import NewRecipe
from scale.scheduler.followups import FollowUps, execution_followups
from tests.factories import finish_job, jobs_of, make_named_file, make_world, new_recipe_body
from tests.helpers import closed_port


@pytest.fixture
def world(db, tmp_path):
    return make_world(db, tmp_path)


def counts(db) -> tuple[int, ...]:
    return tuple(db.scalar(select(func.count()).select_from(model)) for model in (Recipe, Job, TriggerEvent, Queue))


# --- creating a recipe ---------------------------------------------------------------------

def test_new_recipe_queues_the_first_job_and_leaves_the_second_pending(client, db, token, world):
    resp = client.post("/api/queue/new-recipe/", json=new_recipe_body(world), headers=token)

    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert resp.headers["Location"].endswith(f"/api/recipes/{body['id']}/")
    assert body["recipe_type"]["id"] == world["recipe_type"].id
    assert body["recipe_type_rev"]["revision_num"] == 1
    assert body["event"]["type"] == "USER"
    assert body["completed"] is None
    assert [j["job_name"] for j in body["jobs"]] == ["first", "second"]
    assert [j["job"]["status"] for j in body["jobs"]] == ["QUEUED", "PENDING"]
    assert [f["id"] for f in body["input_files"]] == [world["source"].id]

    jobs = jobs_of(db, body["id"])
    assert jobs["first"].data == {"version": "1.0",
                                  "input_data": [{"name": "input_file", "file_id": world["source"].id}],
                                  "output_data": [{"name": "output_file", "workspace_id": world["workspace"].id}]}
    assert jobs["first"].priority == 50 and jobs["first"].cpus_required == 0.5
    assert db.scalars(select(Queue.job_id)).all() == [jobs["first"].id]


def test_new_recipe_needs_a_token(client, db, world):
    before = counts(db)
    resp = client.post("/api/queue/new-recipe/", json=new_recipe_body(world))
    assert resp.status_code == 401
    assert counts(db) == before


@pytest.mark.parametrize(("change", "field"), [
    (lambda w, b: b.update(recipe_type_id=999999), "recipe_type_id"),
    (lambda w, b: b.update(recipe_type_id=2**40), "recipe_type_id"),
    (lambda w, b: b.pop("recipe_data"), "recipe_data"),
    (lambda w, b: b["recipe_data"].update(input_data=[]), "recipe_data.input_data"),
    (lambda w, b: b["recipe_data"].update(input_data=[{"name": "input_file", "value": "x"}]),
     "recipe_data.input_data[0]"),
    (lambda w, b: b["recipe_data"].update(input_data=[{"name": "input_file", "file_id": 999999}]),
     "recipe_data.input_data[0].file_id"),
    (lambda w, b: b["recipe_data"].update(workspace_id=999999), "recipe_data.workspace_id"),
    (lambda w, b: b["recipe_data"].pop("workspace_id"), "recipe_data.workspace_id"),
    (lambda w, b: b["recipe_data"].update(extra=1), "recipe_data.extra"),
])
def test_new_recipe_rejects_bad_input_naming_the_field(client, db, token, world, change, field):
    body = new_recipe_body(world)
    change(world, body)
    before = counts(db)

    resp = client.post("/api/queue/new-recipe/", json=body, headers=token)

    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["field"] == field
    assert counts(db) == before


def test_new_recipe_rejects_a_file_of_the_wrong_media_type(client, db, token, world):
    png = make_named_file(db, world["workspace"], "image.png", media_type="image/png")
    db.commit()
    before = counts(db)
    body = new_recipe_body(world, input_data=[{"name": "input_file", "file_id": png.id}])

    resp = client.post("/api/queue/new-recipe/", json=body, headers=token)

    assert resp.status_code == 400
    assert resp.get_json()["field"] == "recipe_data.input_data[0].file_id"
    assert "image/png" in resp.get_json()["message"]
    assert counts(db) == before


def test_new_recipe_rejects_a_deleted_file(client, db, token, world):
    world["source"].is_deleted = True
    db.commit()
    before = counts(db)
    resp = client.post("/api/queue/new-recipe/", json=new_recipe_body(world), headers=token)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "recipe_data.input_data[0].file_id"
    assert counts(db) == before


def test_new_recipe_rejects_an_archived_recipe_type(client, db, token, world):
    world["recipe_type"].is_active = False
    db.commit()
    before = counts(db)
    resp = client.post("/api/queue/new-recipe/", json=new_recipe_body(world), headers=token)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "recipe_type_id"
    assert "archived" in resp.get_json()["message"]
    assert counts(db) == before


# --- advancing -----------------------------------------------------------------------------

def start(db, world: dict) -> Recipe:
    recipe = service.queue_new_recipe(db, NewRecipe.from_json(new_recipe_body(world)))
    db.commit()
    return recipe


def test_advance_queues_a_job_once_its_dependency_completed_with_its_output(db, world):
    recipe = start(db, world)
    jobs = jobs_of(db, recipe.id)
    assert service.advance_recipe(db, recipe.id) == []  # nothing finished yet
    product = make_named_file(db, world["workspace"], "made.txt", file_type=ScaleFileType.PRODUCT)
    finish_job(db, jobs["first"], JobStatus.COMPLETED, output_file_id=product.id)
    assert service.recipes_needing_advance(db) == [recipe.id]

    assert service.advance_recipe(db, recipe.id) == [jobs["second"].id]
    db.commit()

    second = jobs_of(db, recipe.id)["second"]
    assert second.status == JobStatus.QUEUED
    assert second.data["input_data"] == [{"name": "input_file", "file_id": product.id}]
    assert second.data["output_data"] == [{"name": "output_file", "workspace_id": world["workspace"].id}]
    assert second.disk_in_required == pytest.approx(2.0)  # the product's 2 MiB
    # Idempotent: advancing again queues nothing and makes no second queue row.
    assert service.advance_recipe(db, recipe.id) == []
    assert db.scalar(select(func.count()).select_from(Queue).where(Queue.job_id == second.id)) == 1
    assert service.recipes_needing_advance(db) == []


def test_a_waiting_recipe_job_has_no_disk_needs_until_it_is_queued(db, world):
    # Every job is made by one factory; recipe jobs once took the type's constant disk_out at
    # creation, a number that ignored disk_out_mult_required and the still unknown inputs.
    for job_type in db.scalars(select(JobType)):
        job_type.disk_out_const_required, job_type.disk_out_mult_required = 5.0, 3.0
    recipe = start(db, world)
    second = jobs_of(db, recipe.id)["second"]
    assert (second.status, second.disk_in_required, second.disk_out_required) == (JobStatus.PENDING, None, None)

    product = make_named_file(db, world["workspace"], "made.txt", file_type=ScaleFileType.PRODUCT)
    finish_job(db, jobs_of(db, recipe.id)["first"], JobStatus.COMPLETED, output_file_id=product.id)
    service.advance_recipe(db, recipe.id)
    second = jobs_of(db, recipe.id)["second"]
    assert (second.disk_in_required, second.disk_out_required) == (pytest.approx(2.0), pytest.approx(5.0 + 3.0 * 2.0))


def test_recipe_is_completed_when_every_job_completed(db, world):
    recipe = start(db, world)
    jobs = jobs_of(db, recipe.id)
    finish_job(db, jobs["first"], JobStatus.COMPLETED, output_file_id=world["source"].id)
    service.advance_recipe(db, recipe.id)
    db.commit()
    assert db.get(Recipe, recipe.id).completed is None
    finish_job(db, jobs["second"], JobStatus.COMPLETED, output_file_id=world["source"].id)
    assert service.recipes_needing_advance(db) == [recipe.id]

    assert service.advance_recipe(db, recipe.id) == []
    db.commit()

    db.refresh(recipe)
    assert recipe.completed is not None
    assert service.recipes_needing_advance(db) == []


def test_a_failed_job_blocks_its_dependents_until_it_is_requeued_and_completes(db, tmp_path):
    world = make_world(db, tmp_path, names=("a", "b", "c"))
    recipe = start(db, world)
    jobs = jobs_of(db, recipe.id)
    finish_job(db, jobs["a"], JobStatus.FAILED)

    service.advance_recipe(db, recipe.id)
    db.commit()
    statuses = {name: job.status for name, job in jobs_of(db, recipe.id).items()}
    assert statuses == {"a": "FAILED", "b": "BLOCKED", "c": "BLOCKED"}  # c transitively

    assert transitions.requeue_many(db, [jobs["a"].id]) == [jobs["a"].id]
    service.advance_recipe(db, recipe.id)
    db.commit()
    statuses = {name: job.status for name, job in jobs_of(db, recipe.id).items()}
    assert statuses == {"a": "QUEUED", "b": "PENDING", "c": "PENDING"}

    finish_job(db, jobs["a"], JobStatus.COMPLETED, output_file_id=world["source"].id)
    assert service.advance_recipe(db, recipe.id) == [jobs["b"].id]
    assert db.get(Recipe, recipe.id).completed is None


def test_a_canceled_dependency_blocks_and_the_sweep_finds_it(db, world):
    recipe = start(db, world)
    jobs = jobs_of(db, recipe.id)
    transitions.cancel_job(db, jobs["first"].id)
    db.commit()
    assert service.recipes_needing_advance(db) == [recipe.id]

    service.advance_recipe(db, recipe.id)
    db.commit()

    assert jobs_of(db, recipe.id)["second"].status == JobStatus.BLOCKED
    assert service.recipes_needing_advance(db) == []


def test_recipe_ids_for_jobs_names_only_recipes(db, world):
    recipe = start(db, world)
    jobs = jobs_of(db, recipe.id)
    assert service.recipe_ids_for_jobs(db, [jobs["first"].id, jobs["second"].id, 999999]) == {recipe.id}
    assert service.recipe_ids_for_jobs(db, []) == set()


def advances_sent(settings) -> list[int]:
    """The recipe ids of the `scale.advance_recipe` messages in the app's embedded broker."""
    queue = settings.home / "broker" / "queue"
    messages = [json.loads(path.read_text()) for path in queue.iterdir()] if queue.is_dir() else []
    return [json.loads(base64.b64decode(m["body"]))[0][0] for m in messages
            if m["headers"]["task"] == "scale.advance_recipe"]


@pytest.mark.parametrize("how", ["patch", "cancel-jobs"])
def test_canceling_a_recipe_job_through_the_api_sends_its_advance(client, db, token, world, settings, how):
    recipe = start(db, world)
    first = jobs_of(db, recipe.id)["first"]
    if how == "patch":
        resp = client.patch(f"/api/jobs/{first.id}/", json={"status": "CANCELED"}, headers=token)
    else:
        resp = client.post("/api/queue/cancel-jobs/", json={"job_ids": [first.id]}, headers=token)
    assert resp.status_code == 200, resp.get_json()
    # Sent after the commit, so the dependent job is blocked now, not at the clock's next sweep.
    assert advances_sent(settings) == [recipe.id]


def test_requeueing_a_recipe_job_through_the_api_sends_its_advance(client, db, token, world, settings):
    recipe = start(db, world)
    first = jobs_of(db, recipe.id)["first"]
    transitions.cancel_job(db, first.id)
    db.commit()
    resp = client.post("/api/queue/requeue-jobs/", json={"job_ids": [first.id]}, headers=token)
    assert resp.status_code == 200, resp.get_json()
    assert advances_sent(settings) == [recipe.id]


def test_execution_followups_name_the_recipe_of_the_job(db, world):
    recipe = start(db, world)
    first = jobs_of(db, recipe.id)["first"]
    exe_id = db.scalar(select(JobExecution.id).where(JobExecution.job_id == first.id))
    assert execution_followups(db, exe_id) == FollowUps({recipe.id}, [])
    assert execution_followups(db, 999999) == FollowUps()


def test_advance_of_an_unknown_recipe_is_not_found(db):
    from scale.exceptions import NotFound

    with pytest.raises(NotFound):
        service.advance_recipe(db, 999999)


# --- reading -------------------------------------------------------------------------------

def test_recipe_list_filters_and_orders(client, db, world):
    first, second = start(db, world), start(db, world)

    resp = client.get("/api/recipes/")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 2
    assert {r["id"] for r in body["results"]} == {first.id, second.id}
    entry = body["results"][0]
    assert set(entry) == {"id", "recipe_type", "recipe_type_rev", "event", "created", "completed", "last_modified"}
    assert entry["recipe_type_rev"]["recipe_type"] == {"id": world["recipe_type"].id}

    ordered = client.get("/api/recipes/?order=id").get_json()["results"]
    assert [r["id"] for r in ordered] == [first.id, second.id]
    assert client.get(f"/api/recipes/?type_id={world['recipe_type'].id}").get_json()["count"] == 2
    assert client.get("/api/recipes/?type_name=chain").get_json()["count"] == 2
    assert client.get("/api/recipes/?type_name=other").get_json()["count"] == 0
    bad = client.get("/api/recipes/?type_id=abc")
    assert bad.status_code == 400 and bad.get_json()["field"] == "type_id"
    assert client.get("/api/recipes/?order=nope").status_code == 400
    # The reference's own example: the recipe type's name and version.
    assert client.get("/api/recipes/?order=name&order=version").status_code == 200


def test_recipe_details(client, db, world):
    recipe = start(db, world)

    resp = client.get(f"/api/recipes/{recipe.id}/")

    assert resp.status_code == 200
    body = resp.get_json()
    assert body["data"]["input_data"] == [{"name": "input_file", "file_id": world["source"].id}]
    assert body["recipe_type"]["definition"]["jobs"][0]["name"] == "first"
    assert body["recipe_type_rev"]["definition"] == world["recipe_type"].definition
    assert body["input_files"][0]["file_name"] == "input.txt"
    job = body["jobs"][0]["job"]
    assert job["job_type"]["name"] == "make" and job["status"] == "QUEUED"
    assert client.get("/api/recipes/999999/").status_code == 404


@pytest.mark.parametrize("how", ["patch", "cancel-jobs", "requeue-jobs"])
def test_a_broker_that_is_down_does_not_fail_a_committed_cancel_or_requeue(db, token, world, settings, sessions,
                                                                            how, caplog):
    from api.app import create_app

    app = create_app(replace(settings, broker_url=f"redis://127.0.0.1:{closed_port()}/0"), sessions=sessions)
    recipe = start(db, world)
    first = jobs_of(db, recipe.id)["first"]
    client = app.test_client()
    began = time.monotonic()
    if how == "patch":
        resp = client.patch(f"/api/jobs/{first.id}/", json={"status": "CANCELED"}, headers=token)
    elif how == "cancel-jobs":
        resp = client.post("/api/queue/cancel-jobs/", json={"job_ids": [first.id]}, headers=token)
    else:
        transitions.cancel_job(db, first.id)
        db.commit()
        resp = client.post("/api/queue/requeue-jobs/", json={"job_ids": [first.id]}, headers=token)
    assert resp.status_code == 200, resp.get_json()
    assert time.monotonic() - began < 10
    assert jobs_of(db, recipe.id)["first"].status == ("QUEUED" if how == "requeue-jobs" else "CANCELED")
    assert "lost the send of scale.advance_recipe" in caplog.text
    if how != "requeue-jobs":  # the clock's sweep finds the recipe whose dependent must now be blocked
        assert service.recipes_needing_advance(db) == [recipe.id]
