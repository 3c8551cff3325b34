"""Job type services: /api/job-types/ (list, create, validate, details, edit, status, running,
system failures)."""

import copy
import datetime as dt

import pytest
from sqlalchemy import func, select

from scale.models.errors import Error
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.triggers import TriggerRule
from scale.timeutil import utcnow
from tests.factories import interface, job_type_body, new_job, post_job_type, reference_rule

# The reference's trigger rule names the workspace `rs`.
pytestmark = pytest.mark.usefixtures("rs_workspace")


def counts(db):
    return tuple(db.scalar(select(func.count()).select_from(model))
                 for model in (JobType, JobTypeRevision, TriggerRule))


def patch(client, token, job_type_id, body):
    return client.patch(f"/api/job-types/{job_type_id}/", json=body, headers=token)


def revisions(db, job_type_id):
    stmt = (select(JobTypeRevision.revision_num, JobTypeRevision.interface)
            .where(JobTypeRevision.job_type_id == job_type_id).order_by(JobTypeRevision.revision_num))
    return db.execute(stmt).all()


# --- create -----------------------------------------------------------------------------------

def test_create_reference_example(client, token, db):
    resp = client.post("/api/job-types/", json=job_type_body(), headers=token)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert resp.headers["Location"].endswith(f"/api/job-types/{body['id']}/")
    assert (body["name"], body["version"], body["revision_num"]) == ("my-job", "1.0", 1)
    assert (body["priority"], body["timeout"], body["max_tries"], body["cpus_required"]) == (1, 0, 0, 0.5)
    assert body["is_system"] is False and body["is_active"] is True and body["archived"] is None
    assert body["interface"]["input_data"][0] == {"name": "input_file", "type": "file",
                                                  "required": True, "media_types": ["image/png"]}
    assert body["error_mapping"] == {"version": "1.0", "exit_codes": {"1": "unknown"}}
    assert [e["name"] for e in body["errors"]] == ["unknown"]
    assert body["trigger_rule"]["type"] == "PARSE" and body["trigger_rule"]["name"] == "my-job-job"
    assert body["trigger_rule"]["configuration"]["data"] == {"input_data_name": "input_file",
                                                             "workspace_name": "rs"}
    assert body["job_counts_6h"] == body["job_counts_12h"] == body["job_counts_24h"] == []
    assert body["created"].endswith("Z")
    assert revisions(db, body["id"]) == [(1, body["interface"])]
    assert client.get(f"/api/job-types/{body['id']}/").get_json() == body


def test_create_applies_defaults(client, token):
    minimal = {"name": "minimal", "version": "2", "interface": interface()}
    resp = client.post("/api/job-types/", json=minimal, headers=token)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert {k: body[k] for k in ("priority", "timeout", "max_tries", "cpus_required", "mem_required",
                                 "disk_out_const_required", "disk_out_mult_required")} == {
        "priority": 100, "timeout": 1800, "max_tries": 3, "cpus_required": 1.0, "mem_required": 64.0,
        "disk_out_const_required": 64.0, "disk_out_mult_required": 0.0}
    assert body["max_scheduled"] is None and body["trigger_rule"] is None and body["errors"] == []
    assert body["error_mapping"] == {"version": "1.0", "exit_codes": {}}
    assert body["uses_docker"] is False and body["is_paused"] is False and body["paused"] is None
    assert body["is_operational"] is True and body["is_long_running"] is False


def test_docker_image_means_uses_docker_and_is_paused_sets_paused(client, token):
    body = post_job_type(client, token, docker_image="geoint/my-job:1.0", is_paused=True)
    assert body["uses_docker"] is True and body["docker_image"] == "geoint/my-job:1.0"
    assert body["is_paused"] is True and body["paused"].endswith("Z")


def test_default_rule_name_is_cut_to_the_column(client, token):
    body = post_job_type(client, token, name="n" * 50)
    assert body["trigger_rule"]["name"] == "n" * 50


def test_same_name_with_another_version_is_allowed(client, token):
    post_job_type(client, token)
    assert post_job_type(client, token, version="2.0")["version"] == "2.0"


def test_duplicate_name_and_version_is_400_naming_name(client, token, db):
    post_job_type(client, token)
    before = counts(db)
    resp = client.post("/api/job-types/", json=job_type_body(title="again"), headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "name"
    assert "already exists" in resp.get_json()["message"]
    assert counts(db) == before


def _without(key):
    def change(body):
        del body[key]
        return body
    return change


def _set(*path_and_value):
    *path, value = path_and_value

    def change(body):
        target = body
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
        return body
    return change


BAD_BODIES = [
    ("unknown field", _set("colour", "red"), "colour"),
    ("system via the API", _set("is_system", True), "is_system"),
    ("wrong type", _set("priority", "high"), "priority"),
    ("bool is not an integer", _set("timeout", True), "timeout"),
    ("negative timeout", _set("timeout", -1), "timeout"),
    ("too big for the column", _set("max_tries", 2**31), "max_tries"),
    ("no cpus", _set("cpus_required", 0), "cpus_required"),
    ("title too long", _set("title", "x" * 51), "title"),
    ("name with a slash", _set("name", "my/job"), "name"),
    ("missing version", _without("version"), "version"),
    ("missing interface", _without("interface"), "interface"),
    ("interface not an object", _set("interface", []), "interface"),
    ("bad input type", _set("interface", "input_data", 0, "type", "image"), "interface.input_data[0].type"),
    ("unknown placeholder", _set("interface", "command_arguments", "${nope}"), "interface.command_arguments"),
    ("bad exit code", _set("error_mapping", "exit_codes", {"one": "unknown"}), "error_mapping.exit_codes.one"),
    ("unknown error", _set("error_mapping", "exit_codes", {"1": "no-such-error"}), "error_mapping.exit_codes.1"),
    ("rule without configuration", _set("trigger_rule", {"type": "PARSE"}), "trigger_rule.configuration"),
    ("rule of unknown type", _set("trigger_rule", "type", "SOMETIMES"), "trigger_rule.type"),
    ("clock rule naming no processor", _set("trigger_rule", {"type": "CLOCK", "configuration": {
        "version": "1.0", "event_type": "X", "schedule": "PT1H0M0S"}}), "trigger_rule.name"),
    ("rule input not in interface", _set("trigger_rule", reference_rule(input_name="nope")),
     "trigger_rule.configuration.data.input_data_name"),
    ("rule feeding a property", _set("trigger_rule", reference_rule(input_name="level")),
     "trigger_rule.configuration.data.input_data_name"),
    ("rule workspace unknown", _set("trigger_rule", reference_rule(workspace="nowhere")),
     "trigger_rule.configuration.data.workspace_name"),
    ("rule name too long", _set("trigger_rule", "name", "r" * 51), "trigger_rule.name"),
]


@pytest.mark.parametrize("change, field", [(c, f) for _, c, f in BAD_BODIES],
                         ids=[name for name, _, _ in BAD_BODIES])
def test_bad_create_is_400_naming_the_field_and_writes_nothing(client, token, db, change, field):
    before = counts(db)
    resp = client.post("/api/job-types/", json=change(job_type_body()), headers=token)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["field"] == field
    assert field in resp.get_json()["message"]
    assert counts(db) == before


def test_create_body_must_be_a_json_object(client, token):
    resp = client.post("/api/job-types/", data="[1]", content_type="application/json", headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "body"


def test_writes_without_token_are_401(client, db):
    created_before = counts(db)
    assert client.post("/api/job-types/", json=job_type_body()).status_code == 401
    assert client.post("/api/job-types/validation/", json=job_type_body()).status_code == 401
    assert client.patch("/api/job-types/1/", json={"title": "x"}).status_code == 401
    assert counts(db) == created_before


# --- validation --------------------------------------------------------------------------------

def test_validation_of_reference_example_has_no_warnings_and_writes_nothing(client, token, db):
    before = counts(db)
    resp = client.post("/api/job-types/validation/", json=job_type_body(), headers=token)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"warnings": []}
    assert counts(db) == before


def test_validation_warns_of_media_type_the_input_refuses(client, token):
    resp = client.post("/api/job-types/validation/", json=job_type_body(
        interface=interface(media_types=["text/plain"])), headers=token)
    assert resp.status_code == 200
    assert resp.get_json()["warnings"] == [
        {"id": "media_type", "details": "Invalid media type for data input: input_file -> image/png"}]


def test_validation_refuses_what_create_refuses(client, token, db):
    bad = job_type_body(interface=interface(command_arguments="${nope}"))
    resp = client.post("/api/job-types/validation/", json=bad, headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "interface.command_arguments"
    post_job_type(client, token)
    before = counts(db)
    resp = client.post("/api/job-types/validation/", json=job_type_body(), headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "name"
    assert counts(db) == before


# --- details and edit --------------------------------------------------------------------------

def test_unknown_id_is_404(client, token):
    assert client.get("/api/job-types/999999/").status_code == 404
    resp = patch(client, token, 999999, {"title": "x"})
    assert resp.status_code == 404 and "999999" in resp.get_json()["message"]
    assert client.get(f"/api/job-types/{2**40}/").status_code == 404  # beyond the id column


def test_id_beyond_the_id_column_is_404(client, token):
    assert client.get("/api/job-types/99999999999/").status_code == 404
    assert patch(client, token, 99999999999, {"title": "x"}).status_code == 404


def test_edit_without_interface_change_keeps_the_revision(client, token, db):
    created = post_job_type(client, token)
    resp = patch(client, token, created["id"], {"title": "Renamed", "priority": 7,
                                                 "interface": created["interface"]})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["title"], body["priority"], body["revision_num"]) == ("Renamed", 7, 1)
    assert body["description"] == created["description"]
    assert len(revisions(db, created["id"])) == 1


def test_interface_change_makes_a_new_revision(client, token, db):
    created = post_job_type(client, token)
    changed = interface(command_arguments="-v ${input_file} ${job_output_dir}")
    resp = patch(client, token, created["id"], {"interface": changed})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["revision_num"] == 2
    assert body["interface"]["command_arguments"] == changed["command_arguments"]
    assert revisions(db, created["id"]) == [(1, created["interface"]), (2, body["interface"])]
    assert patch(client, token, created["id"], {"title": "t"}).get_json()["revision_num"] == 2


def test_pause_and_resume(client, token):
    created = post_job_type(client, token)
    paused = patch(client, token, created["id"], {"is_paused": True}).get_json()
    assert paused["is_paused"] is True and paused["paused"].endswith("Z")
    resumed = patch(client, token, created["id"], {"is_paused": False}).get_json()
    assert resumed["is_paused"] is False and resumed["paused"] is None


def test_deactivate_archives_and_reactivate_restores(client, token):
    created = post_job_type(client, token)
    archived = patch(client, token, created["id"], {"is_active": False}).get_json()
    assert archived["is_active"] is False and archived["archived"].endswith("Z")
    restored = patch(client, token, created["id"], {"is_active": True}).get_json()
    assert restored["is_active"] is True and restored["archived"] is None


def test_docker_image_edit_derives_uses_docker(client, token):
    created = post_job_type(client, token)
    assert patch(client, token, created["id"], {"docker_image": "img:1"}).get_json()["uses_docker"] is True
    assert patch(client, token, created["id"], {"docker_image": None}).get_json()["uses_docker"] is False


def test_trigger_rule_set_replace_and_remove(client, token, db):
    created = post_job_type(client, token, trigger_rule=None)
    assert created["trigger_rule"] is None
    first = patch(client, token, created["id"], {"trigger_rule": reference_rule()}).get_json()["trigger_rule"]
    assert first["is_active"] is True and first["archived"] is None

    same = patch(client, token, created["id"], {"trigger_rule": reference_rule()}).get_json()["trigger_rule"]
    assert same["id"] == first["id"]

    second = patch(client, token, created["id"],
                   {"trigger_rule": reference_rule(media_type="image/jpeg")}).get_json()["trigger_rule"]
    assert second["id"] != first["id"]
    assert second["configuration"]["condition"]["media_type"] == "image/jpeg"
    old = db.get(TriggerRule, first["id"])
    db.refresh(old)
    assert old.is_active is False and old.archived is not None

    resp = patch(client, token, created["id"], {"trigger_rule": None})
    assert resp.status_code == 200 and resp.get_json()["trigger_rule"] is None
    removed = db.get(TriggerRule, second["id"])
    db.refresh(removed)
    assert removed.is_active is False and removed.archived is not None


def test_resending_the_rule_with_is_active_false_pauses_it_in_place(client, token):
    created = post_job_type(client, token)
    paused_rule = {**reference_rule(), "is_active": False}
    body = patch(client, token, created["id"], {"trigger_rule": paused_rule}).get_json()
    assert body["trigger_rule"]["id"] == created["trigger_rule"]["id"]
    assert body["trigger_rule"]["is_active"] is False


def test_interface_change_that_breaks_the_rule_is_400_naming_interface(client, token, db):
    created = post_job_type(client, token)
    renamed = interface()
    renamed["input_data"][0]["name"] = "image"
    renamed["command_arguments"] = "${image}"
    before = counts(db)
    resp = patch(client, token, created["id"], {"interface": renamed})
    assert resp.status_code == 400 and resp.get_json()["field"] == "interface"
    assert "input_file" in resp.get_json()["message"]
    assert counts(db) == before
    assert client.get(f"/api/job-types/{created['id']}/").get_json()["revision_num"] == 1


BAD_EDITS = [
    ("unknown field", {"colour": "red"}, "colour"),
    ("name is not editable", {"name": "other"}, "name"),
    ("wrong type", {"max_scheduled": "two"}, "max_scheduled"),
    ("bad interface", {"title": "x", "interface": {"command": "c"}}, "interface.command_arguments"),
    ("bad error mapping", {"error_mapping": {"exit_codes": {"2": "no-such-error"}}},
     "error_mapping.exit_codes.2"),
    ("bad trigger rule", {"trigger_rule": reference_rule(workspace="nowhere")},
     "trigger_rule.configuration.data.workspace_name"),
]


@pytest.mark.parametrize("edit, field", [(e, f) for _, e, f in BAD_EDITS],
                         ids=[name for name, _, _ in BAD_EDITS])
def test_bad_edit_is_400_naming_the_field_and_changes_nothing(client, token, db, edit, field):
    created = post_job_type(client, token)
    before = counts(db)
    resp = patch(client, token, created["id"], {"title": "changed", "is_paused": True, **edit})
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["field"] == field and field in resp.get_json()["message"]
    assert counts(db) == before
    assert client.get(f"/api/job-types/{created['id']}/").get_json() == created


def system_job_type(db):
    return db.scalar(select(JobType).where(JobType.name == "scale-clock"))


def test_system_job_type_can_only_be_paused(client, token, db):
    clock = system_job_type(db)
    resp = patch(client, token, clock.id, {"is_paused": True, "title": "Mine now"})
    assert resp.status_code == 400 and resp.get_json()["field"] == "title"
    assert client.get(f"/api/job-types/{clock.id}/").get_json()["is_paused"] is False
    resp = patch(client, token, clock.id, {"is_paused": True})
    assert resp.status_code == 200 and resp.get_json()["is_paused"] is True
    assert resp.get_json()["is_system"] is True


# --- list --------------------------------------------------------------------------------------

def test_list_filters_orders_and_pages(client, token):
    post_job_type(client, token, name="alpha", category="imagery")
    post_job_type(client, token, name="alpha", version="2.0", category="imagery")
    beta = post_job_type(client, token, name="beta", category="text", trigger_rule=None)
    patch(client, token, beta["id"], {"is_active": False})

    body = client.get("/api/job-types/?category=imagery&order=-version").get_json()
    assert [(r["name"], r["version"]) for r in body["results"]] == [("alpha", "2.0"), ("alpha", "1.0")]
    assert set(body["results"][0]) >= {"is_operational", "docker_privileged", "paused", "archived"}
    assert "interface" not in body["results"][0]

    names = client.get("/api/job-types/?name=alpha&name=beta&is_active=false").get_json()
    assert [r["name"] for r in names["results"]] == ["beta"]

    system = client.get("/api/job-types/?is_system=true").get_json()
    assert {r["name"] for r in system["results"]} == {"scale-clock", "scale-ingest", "scale-strike"}

    page = client.get("/api/job-types/?category=imagery&category=text&page_size=2&page=1").get_json()
    assert page["count"] == 3 and len(page["results"]) == 2
    assert page["previous"] is None and "page=2" in page["next"]
    last = client.get("/api/job-types/?category=imagery&category=text&page_size=2&page=2").get_json()
    assert [r["name"] for r in last["results"]] == ["beta"] and last["next"] is None


def test_list_refuses_unknown_order_and_bad_filter(client):
    resp = client.get("/api/job-types/?order=colour")
    assert resp.status_code == 400 and resp.get_json()["field"] == "order"
    resp = client.get("/api/job-types/?is_active=maybe")
    assert resp.status_code == 400 and resp.get_json()["field"] == "is_active"


# --- job counts, status, running, system failures ----------------------------------------------

def add_job(db, job_type_id, status, *, ago, error=None):
    """A job of the type whose status last changed `ago` before now."""
    when = utcnow() - ago
    job = new_job(db, db.get(JobType, job_type_id), status=status, error=error, last_status_change=when,
                  started=when)
    db.commit()
    return job


def error_named(db, name):
    return db.scalar(select(Error).where(Error.name == name))


def data_error(db):
    error = Error(name="bad-pixels", category="DATA")
    db.add(error)
    db.commit()
    return error


HOUR = dt.timedelta(hours=1)


def test_details_count_jobs_by_status_and_failure_category(client, token, db):
    created = post_job_type(client, token)
    unknown = error_named(db, "unknown")
    add_job(db, created["id"], "COMPLETED", ago=1 * HOUR)
    add_job(db, created["id"], "COMPLETED", ago=2 * HOUR)
    add_job(db, created["id"], "FAILED", ago=3 * HOUR, error=unknown)
    add_job(db, created["id"], "FAILED", ago=8 * HOUR, error=data_error(db))
    add_job(db, created["id"], "QUEUED", ago=20 * HOUR)
    add_job(db, created["id"], "QUEUED", ago=21 * HOUR, error=unknown)  # requeued after a failure
    add_job(db, created["id"], "COMPLETED", ago=30 * HOUR)

    body = client.get(f"/api/job-types/{created['id']}/").get_json()

    def shape(counts):
        return sorted((c["status"], c["category"], c["count"]) for c in counts)

    assert shape(body["job_counts_6h"]) == [("COMPLETED", None, 2), ("FAILED", "SYSTEM", 1)]
    assert shape(body["job_counts_12h"]) == [("COMPLETED", None, 2), ("FAILED", "DATA", 1),
                                             ("FAILED", "SYSTEM", 1)]
    assert shape(body["job_counts_24h"]) == [("COMPLETED", None, 2), ("FAILED", "DATA", 1),
                                             ("FAILED", "SYSTEM", 1), ("QUEUED", None, 2)]
    completed = next(c for c in body["job_counts_6h"] if c["status"] == "COMPLETED")
    assert completed["most_recent"].endswith("Z")


def test_status_lists_every_job_type_with_recent_counts_and_all_running(client, token, db):
    created = post_job_type(client, token)
    add_job(db, created["id"], "COMPLETED", ago=1 * HOUR)
    add_job(db, created["id"], "COMPLETED", ago=5 * HOUR)
    add_job(db, created["id"], "RUNNING", ago=50 * HOUR)

    body = client.get("/api/job-types/status/").get_json()
    assert body["count"] == 4  # the three system job types and ours
    by_name = {r["job_type"]["name"]: r for r in body["results"]}
    assert by_name["scale-clock"]["job_counts"] == []
    mine = by_name["my-job"]
    assert set(mine["job_type"]) == {"id", "name", "version", "title", "description", "category",
                                     "author_name", "author_url", "is_system", "is_long_running",
                                     "is_active", "is_operational", "is_paused", "icon_code"}
    assert sorted((c["status"], c["count"]) for c in mine["job_counts"]) == [("COMPLETED", 1),
                                                                              ("RUNNING", 1)]
    wider = client.get("/api/job-types/status/?started=PT6H").get_json()
    mine = next(r for r in wider["results"] if r["job_type"]["name"] == "my-job")
    assert sorted((c["status"], c["count"]) for c in mine["job_counts"]) == [("COMPLETED", 2),
                                                                              ("RUNNING", 1)]


def test_status_refuses_a_bad_time_range(client):
    resp = client.get("/api/job-types/status/?started=yesterday")
    assert resp.status_code == 400 and resp.get_json()["field"] == "started"


def test_jobs_keep_the_revision_they_were_made_with(client, token, db):
    created = post_job_type(client, token)
    job = add_job(db, created["id"], "QUEUED", ago=HOUR)
    changed = interface(command_arguments="-v ${input_file} ${job_output_dir}")
    assert patch(client, token, created["id"], {"interface": changed}).get_json()["revision_num"] == 2
    db.refresh(job)
    assert job.job_type_rev.revision_num == 1
    assert job.job_type_rev.interface == created["interface"]


def test_running_is_empty_without_jobs_and_orders_by_longest_running(client, token, db):
    assert client.get("/api/job-types/running/").get_json() == {
        "count": 0, "next": None, "previous": None, "results": []}
    first = post_job_type(client, token)
    second = post_job_type(client, token, name="other", trigger_rule=None)
    add_job(db, first["id"], "RUNNING", ago=1 * HOUR)
    add_job(db, second["id"], "RUNNING", ago=3 * HOUR)
    add_job(db, second["id"], "RUNNING", ago=2 * HOUR)
    add_job(db, first["id"], "COMPLETED", ago=5 * HOUR)

    body = client.get("/api/job-types/running/").get_json()
    assert [(r["job_type"]["name"], r["count"]) for r in body["results"]] == [("other", 2), ("my-job", 1)]
    assert body["results"][0]["longest_running"].endswith("Z")


def test_running_pages_job_types_with_their_numbers(client, token, db):
    first = post_job_type(client, token)
    second = post_job_type(client, token, name="other", trigger_rule=None)
    add_job(db, first["id"], "RUNNING", ago=1 * HOUR)
    add_job(db, second["id"], "RUNNING", ago=3 * HOUR)
    add_job(db, second["id"], "RUNNING", ago=2 * HOUR)

    body = client.get("/api/job-types/running/?page=2&page_size=1").get_json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is not None
    assert [(r["job_type"]["name"], r["count"]) for r in body["results"]] == [("my-job", 1)]
    body = client.get("/api/job-types/running/?order=-count&order=name").get_json()
    assert [(r["job_type"]["name"], r["count"]) for r in body["results"]] == [("other", 2), ("my-job", 1)]


def test_system_failures_count_failed_jobs_with_system_errors(client, token, db):
    assert client.get("/api/job-types/system-failures/").get_json()["results"] == []
    created = post_job_type(client, token)
    unknown = error_named(db, "unknown")
    add_job(db, created["id"], "FAILED", ago=5 * HOUR, error=unknown)
    add_job(db, created["id"], "FAILED", ago=1 * HOUR, error=unknown)
    add_job(db, created["id"], "FAILED", ago=1 * HOUR, error=data_error(db))

    body = client.get("/api/job-types/system-failures/").get_json()
    assert body["count"] == 1
    result = body["results"][0]
    assert result["job_type"]["name"] == "my-job" and result["error"]["name"] == "unknown"
    assert result["count"] == 2
    assert result["first_error"] < result["last_error"]


def test_swagger_documents_the_job_type_services(client):
    doc = client.get("/api/swagger.json").get_json()
    for path in ("/job-types/", "/job-types/validation/", "/job-types/{job_type_id}/",
                 "/job-types/status/", "/job-types/running/", "/job-types/system-failures/"):
        assert path in doc["paths"], path
    params = {p["name"] for p in doc["paths"]["/job-types/"]["get"]["parameters"]}
    assert {"page", "page_size", "order", "name", "category", "is_active", "started"} <= params
    assert "JobTypeCreate" in doc["definitions"] and "JobTypeEdit" in doc["definitions"]


def test_reference_example_edit_body_is_accepted(client, token):
    created = post_job_type(client, token)
    edit = copy.deepcopy(job_type_body())
    del edit["name"], edit["version"]
    edit["max_scheduled"] = 2
    resp = patch(client, token, created["id"], edit)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["max_scheduled"] == 2 and resp.get_json()["revision_num"] == 1
