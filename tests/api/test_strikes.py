"""Strike processes: POST /api/strike/create/ (reference) and, beyond it, GET /api/strikes/,
GET/PATCH /api/strikes/{id}/. Creating queues the `scale-strike` job; deactivating cancels it."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from scale.models.ingest import Strike
from scale.models.job_types import JobType
from scale.models.jobs import Job, JobExecution, Queue
from scale.models.triggers import TriggerEvent
from tests.factories import count, make_node, make_workspace, run_job

CONFIG = {"version": "1.0", "mount": "/data/incoming", "transfer_suffix": "_tmp",
          "files_to_ingest": [{"filename_regex": r".*\.txt", "workspace_path": "/raw", "workspace_name": "raw",
                               "data_types": ["text"]}]}


def strike_body(name="feed", **overrides) -> dict:
    body = {"name": name, "title": "The feed", "description": "Watches the feed",
            "configuration": copy.deepcopy(CONFIG)}
    body.update(overrides)
    return body


@pytest.fixture
def raw(db):
    return make_workspace(db, name="raw")


def create(client, token, **overrides) -> int:
    resp = client.post("/api/strike/create/", json=strike_body(**overrides), headers=token)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["strike_id"]


def written(db) -> tuple[int, int, int]:
    return count(db, Strike), count(db, Job), count(db, TriggerEvent)


def test_create_queues_the_strike_job(client, token, db, raw):
    strike_id = create(client, token)

    strike = db.get(Strike, strike_id)
    assert strike.name == "feed" and strike.is_active
    assert strike.configuration["files_to_ingest"][0]["workspace_path"] == "raw"  # normalized
    job = db.get(Job, strike.job_id)
    assert job.status == "QUEUED"
    assert db.get(JobType, job.job_type_id).name == "scale-strike"
    assert job.data == {"version": "1.0", "input_data": [{"name": "strike_id", "value": str(strike_id)}],
                        "output_data": []}
    event = db.get(TriggerEvent, job.event_id)
    assert event.type == "STRIKE_CREATED" and event.description["strike_id"] == strike_id
    assert db.scalar(select(Queue.job_id).where(Queue.job_id == job.id)) == job.id


def test_strike_details_shape(client, token, db, raw):
    strike_id = create(client, token)

    body = client.get(f"/api/strikes/{strike_id}/").get_json()

    assert body["id"] == strike_id and body["name"] == "feed" and body["title"] == "The feed"
    assert body["description"] == "Watches the feed" and body["is_active"] is True
    assert body["configuration"]["mount"] == "/data/incoming"
    job = body["job"]
    assert job["status"] == "QUEUED" and job["num_exes"] == 1 and job["priority"] == 5
    assert job["job_type"]["name"] == "scale-strike" and job["job_type"]["is_long_running"] is True
    assert set(job) == {"id", "job_type", "job_type_rev", "event", "error", "status", "priority", "num_exes"}
    assert body["created"].endswith("Z") and body["last_modified"].endswith("Z")


def test_create_without_token_is_401(client, db, raw):
    resp = client.post("/api/strike/create/", json=strike_body())
    assert resp.status_code == 401
    assert count(db, Strike) == 0


@pytest.mark.parametrize("change, field", [
    ({"filename_regex": "*.txt"}, "configuration.files_to_ingest[0].filename_regex"),
    ({"workspace_name": "nowhere"}, "configuration.files_to_ingest[0].workspace_name"),
    ({"workspace_path": "../../etc"}, "configuration.files_to_ingest[0].workspace_path"),
    ({"workspace_path": "raw/../../x"}, "configuration.files_to_ingest[0].workspace_path"),
])
def test_bad_ingest_rule_is_400_and_writes_nothing(client, token, db, raw, change, field):
    body = strike_body()
    body["configuration"]["files_to_ingest"][0].update(change)
    before = written(db)

    resp = client.post("/api/strike/create/", json=body, headers=token)

    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["field"] == field
    assert written(db) == before


def test_inactive_workspace_is_400(client, token, db):
    make_workspace(db, name="raw", is_active=False)
    resp = client.post("/api/strike/create/", json=strike_body(), headers=token)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "configuration.files_to_ingest[0].workspace_name"
    assert count(db, Strike) == 0


def test_second_rule_names_its_own_index(client, token, db, raw):
    body = strike_body()
    body["configuration"]["files_to_ingest"].append(
        {"filename_regex": ".*", "workspace_path": "x", "workspace_name": "other"})
    resp = client.post("/api/strike/create/", json=body, headers=token)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "configuration.files_to_ingest[1].workspace_name"


@pytest.mark.parametrize("body, field", [
    ({"configuration": CONFIG}, "name"),
    ({"name": "feed"}, "configuration"),
    ({"name": "has space", "configuration": CONFIG}, "name"),
    ({"name": "feed", "title": 5, "configuration": CONFIG}, "title"),
    ({"name": "feed", "configuration": CONFIG, "surprise": 1}, "surprise"),
    ({"name": "feed", "configuration": {**CONFIG, "mount": "relative/dir"}}, "configuration.mount"),
    ({"name": "..", "configuration": CONFIG}, "name"),
    ({"name": ".", "configuration": CONFIG}, "name"),
    ({"name": "a/b", "configuration": CONFIG}, "name"),
    ({"name": "", "configuration": CONFIG}, "name"),
    ({"name": "a\u0000b", "configuration": CONFIG}, "name"),
    ({"name": "feed", "configuration": {**CONFIG, "mount": "/"}}, "configuration.mount"),
    ({"name": "feed", "configuration": {**CONFIG, "mount": "/etc"}}, "configuration.mount"),
    ({"name": "feed", "configuration": {**CONFIG, "mount": "/root/incoming"}}, "configuration.mount"),
    ({"name": "feed", "configuration": {**CONFIG, "mount": "server:/proc"}}, "configuration.mount"),
    ({"name": "feed", "configuration": {**CONFIG, "files_to_ingest": []}}, "configuration.files_to_ingest"),
])
def test_bad_create_body_is_400_naming_the_field(client, token, db, raw, body, field):
    before = written(db)
    resp = client.post("/api/strike/create/", json=body, headers=token)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["field"].startswith(field), resp.get_json()
    assert written(db) == before


def test_duplicate_name_is_400(client, token, db, raw):
    create(client, token)
    before = written(db)

    resp = client.post("/api/strike/create/", json=strike_body(), headers=token)

    assert resp.status_code == 400
    assert resp.get_json()["field"] == "name"
    assert written(db) == before


def test_list_filters_orders_and_pages(client, token, db, raw):
    first = create(client, token, name="alpha")
    second = create(client, token, name="beta")
    third = create(client, token, name="gamma")
    assert client.patch(f"/api/strikes/{second}/", json={"is_active": False}, headers=token).status_code == 200

    everything = client.get("/api/strikes/").get_json()
    assert everything["count"] == 3
    assert [s["id"] for s in everything["results"]] == [first, second, third]
    assert [s["id"] for s in client.get("/api/strikes/?is_active=false").get_json()["results"]] == [second]
    assert [s["id"] for s in client.get("/api/strikes/?name=gamma").get_json()["results"]] == [third]
    assert [s["id"] for s in client.get("/api/strikes/?order=-name").get_json()["results"]] == [third, second, first]
    page = client.get("/api/strikes/?page=2&page_size=2").get_json()
    assert [s["id"] for s in page["results"]] == [third] and page["next"] is None
    assert "page=1" in page["previous"]
    assert client.get("/api/strikes/?is_active=maybe").status_code == 400


def test_unknown_strike_is_404(client, token):
    assert client.get("/api/strikes/999999/").status_code == 404
    assert client.patch("/api/strikes/999999/", json={"title": "x"}, headers=token).status_code == 404


def test_edit_configuration_keeps_the_running_job(client, token, db, raw):
    strike_id = create(client, token)
    job_id = db.get(Strike, strike_id).job_id
    config = copy.deepcopy(CONFIG)
    config["files_to_ingest"][0]["filename_regex"] = r".*\.csv"

    resp = client.patch(f"/api/strikes/{strike_id}/", json={"title": "New", "configuration": config},
                        headers=token)

    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["title"] == "New"
    assert body["configuration"]["files_to_ingest"][0]["filename_regex"] == r".*\.csv"
    assert body["job"]["id"] == job_id and body["job"]["status"] == "QUEUED"
    assert count(db, Job) == 1


def test_deactivate_cancels_the_running_job_and_reactivate_queues_a_new_one(client, token, db, raw):
    strike_id = create(client, token)
    job = db.get(Job, db.get(Strike, strike_id).job_id)
    exe = run_job(db, job, make_node(db))
    db.commit()

    resp = client.patch(f"/api/strikes/{strike_id}/", json={"is_active": False}, headers=token)

    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["is_active"] is False and resp.get_json()["job"]["status"] == "CANCELED"
    db.expire_all()
    assert db.get(JobExecution, exe.id).status == "CANCELED"

    resp = client.patch(f"/api/strikes/{strike_id}/", json={"is_active": True}, headers=token)

    new_job = resp.get_json()["job"]
    assert resp.get_json()["is_active"] is True
    assert new_job["id"] != job.id and new_job["status"] == "QUEUED"
    db.expire_all()
    assert db.get(TriggerEvent, db.get(Job, new_job["id"]).event_id).type == "STRIKE_ACTIVATED"


def test_activating_an_active_strike_keeps_its_live_job(client, token, db, raw):
    strike_id = create(client, token)
    job_id = db.get(Strike, strike_id).job_id

    resp = client.patch(f"/api/strikes/{strike_id}/", json={"is_active": True}, headers=token)

    assert resp.get_json()["job"]["id"] == job_id
    assert count(db, Job) == 1


@pytest.mark.parametrize("body, field", [
    ({"is_active": "no"}, "is_active"),
    ({"name": "renamed"}, "name"),
    ({"configuration": {**CONFIG, "files_to_ingest": [
        {"filename_regex": "(", "workspace_path": "raw", "workspace_name": "raw"}]}},
     "configuration.files_to_ingest[0].filename_regex"),
    ({"title": "ok", "configuration": {**CONFIG, "files_to_ingest": [
        {"filename_regex": ".*", "workspace_path": "raw", "workspace_name": "gone"}]}},
     "configuration.files_to_ingest[0].workspace_name"),
])
def test_bad_edit_is_400_and_changes_nothing(client, token, db, raw, body, field):
    strike_id = create(client, token)
    before = client.get(f"/api/strikes/{strike_id}/").get_json()

    resp = client.patch(f"/api/strikes/{strike_id}/", json=body, headers=token)

    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["field"] == field
    assert client.get(f"/api/strikes/{strike_id}/").get_json() == before


def test_the_scale_home_is_refused_as_a_mount_on_create_and_edit(client, token, db, raw, settings):
    before = written(db)
    for mount in (settings.home, settings.home / "mounts" / "strikes" / "feed", settings.home.parent):
        resp = client.post("/api/strike/create/", json=strike_body(configuration={**CONFIG, "mount": str(mount)}),
                           headers=token)
        assert resp.status_code == 400, mount
        assert resp.get_json()["field"] == "configuration.mount"
    assert written(db) == before
    strike_id = create(client, token)
    resp = client.patch(f"/api/strikes/{strike_id}/", json={"configuration": {**CONFIG, "mount": str(settings.home)}},
                        headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "configuration.mount"
    assert client.get(f"/api/strikes/{strike_id}/").get_json()["configuration"]["mount"] == CONFIG["mount"]
