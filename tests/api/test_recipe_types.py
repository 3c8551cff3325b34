"""Recipe type services: /api/recipe-types/ (list, create, validate, details, edit) and the
revisions endpoints beyond the reference."""

import copy

import pytest
from sqlalchemy import func, select

from scale.models.recipes import RecipeType, RecipeTypeRevision
from scale.models.triggers import TriggerRule
from scale.models.workspaces import Workspace
from tests.factories import file_interface, make_job_type


@pytest.fixture
def job_types(db):
    """The job types and workspace the reference's create example needs."""
    db.add(Workspace(name="rs", json_config={"version": "1.0",
                                             "broker": {"type": "host", "host_path": "/tmp/rs"}}))
    job_types = [make_job_type(db, name, version=version, title=name.title(), interface=file_interface())
                 for name, version in (("my-job1", "1.2.3"), ("my-job2", "4.5.6"))]
    db.commit()
    return job_types


def parse_rule(**data):
    return {"type": "PARSE", "is_active": True,
            "configuration": {"version": "1.0",
                              "condition": {"media_type": "text/plain", "data_types": []},
                              "data": {"input_data_name": "input_file", "workspace_name": "rs",
                                       **data}}}


def recipe_body(**overrides):
    """The reference's Create Recipe Type example."""
    def job(name, job_type, version):
        return {"recipe_inputs": [{"job_input": "input_file", "recipe_input": "input_file"}],
                "name": name, "job_type": {"name": job_type, "version": version}}

    return {"name": "my-recipe", "version": "1.0", "title": "My Recipe",
            "description": "This is a description of the recipe",
            "definition": {"input_data": [{"media_types": ["text/plain"], "type": "file",
                                           "name": "input_file"}],
                           "jobs": [job("MyJob1", "my-job1", "1.2.3"),
                                    job("MyJob2", "my-job2", "4.5.6")]},
            "trigger_rule": parse_rule(), **overrides}


def chained_definition():
    """MyJob1 feeds its output to MyJob2."""
    definition = recipe_body()["definition"]
    definition["jobs"][1] = {"name": "MyJob2", "job_type": {"name": "my-job2", "version": "4.5.6"},
                             "dependencies": [{"name": "MyJob1", "connections": [
                                 {"output": "output_file", "input": "input_file"}]}]}
    return definition


def counts(db):
    return tuple(db.scalar(select(func.count()).select_from(model))
                 for model in (RecipeType, RecipeTypeRevision, TriggerRule))


def create(client, token, **overrides):
    resp = client.post("/api/recipe-types/", json=recipe_body(**overrides), headers=token)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_create_reference_example(client, token, job_types, db):
    resp = client.post("/api/recipe-types/", json=recipe_body(), headers=token)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert resp.headers["Location"].endswith(f"/api/recipe-types/{body['id']}/")
    assert (body["name"], body["version"], body["revision_num"]) == ("my-recipe", "1.0", 1)
    assert body["is_active"] is True and body["archived"] is None
    assert body["definition"]["version"] == "1.0"
    assert [j["name"] for j in body["definition"]["jobs"]] == ["MyJob1", "MyJob2"]
    rule = body["trigger_rule"]
    assert rule["type"] == "PARSE" and rule["name"] == "my-recipe-1.0-recipe" and rule["is_active"]
    assert rule["configuration"]["data"] == {"input_data_name": "input_file", "workspace_name": "rs"}
    assert [(j["name"], j["version"]) for j in body["job_types"]] == [("my-job1", "1.2.3"),
                                                                      ("my-job2", "4.5.6")]
    assert set(body["job_types"][0]) >= {"id", "title", "category", "is_paused", "icon_code", "interface"}
    revision = db.scalar(select(RecipeTypeRevision).where(RecipeTypeRevision.recipe_type_id == body["id"]))
    assert revision.revision_num == 1 and revision.definition == body["definition"]


def test_details_include_job_types_and_trigger_rule(client, token, job_types):
    created = create(client, token)
    resp = client.get(f"/api/recipe-types/{created['id']}/")
    assert resp.status_code == 200
    assert resp.get_json() == created


def test_create_without_trigger_rule(client, token, job_types):
    body = recipe_body()
    del body["trigger_rule"]
    resp = client.post("/api/recipe-types/", json=body, headers=token)
    assert resp.status_code == 201 and resp.get_json()["trigger_rule"] is None


def test_job_types_are_listed_once_each(client, token, job_types):
    definition = chained_definition()
    definition["jobs"].append({"name": "Again", "job_type": {"name": "my-job1", "version": "1.2.3"},
                               "recipe_inputs": [{"recipe_input": "input_file", "job_input": "input_file"}]})
    created = create(client, token, definition=definition)
    assert [j["name"] for j in created["job_types"]] == ["my-job1", "my-job2"]


def test_validation_returns_warnings_and_writes_nothing(client, token, job_types, db):
    before = counts(db)
    resp = client.post("/api/recipe-types/validation/", json=recipe_body(), headers=token)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"warnings": []}
    assert counts(db) == before


def test_validation_warns_of_trigger_media_type_the_input_refuses(client, token, job_types):
    rule = parse_rule()
    rule["configuration"]["condition"]["media_type"] = "image/png"
    resp = client.post("/api/recipe-types/validation/", json=recipe_body(trigger_rule=rule), headers=token)
    assert resp.status_code == 200
    assert resp.get_json()["warnings"] == [
        {"id": "media_type", "details": "Invalid media type for data input: input_file -> image/png"}]


def test_validation_warns_of_trigger_media_type_a_job_input_refuses(client, token, job_types):
    rule = parse_rule()
    rule["configuration"]["condition"]["media_type"] = "image/png"
    body = recipe_body(trigger_rule=rule)
    del body["definition"]["input_data"][0]["media_types"]
    warnings = client.post("/api/recipe-types/validation/", json=body, headers=token).get_json()["warnings"]
    assert [w["id"] for w in warnings] == ["media_type", "media_type"]
    assert "MyJob1" in warnings[0]["details"] and "MyJob2" in warnings[1]["details"]


def test_validation_warns_when_trigger_accepts_any_media_type(client, token, job_types):
    rule = parse_rule()
    del rule["configuration"]["condition"]
    warnings = client.post("/api/recipe-types/validation/", json=recipe_body(trigger_rule=rule),
                           headers=token).get_json()["warnings"]
    assert warnings == [{"id": "media_type",
                         "details": "Invalid media type for data input: input_file -> any media type"}]


def test_validation_warns_of_archived_job_type(client, token, job_types, db):
    job_types[1].is_active = False
    db.commit()
    warnings = client.post("/api/recipe-types/validation/", json=recipe_body(),
                           headers=token).get_json()["warnings"]
    assert warnings == [{"id": "job_type_archived", "details": "Job type my-job2 4.5.6 is archived"}]


def test_validation_refuses_what_create_refuses(client, token, job_types, db):
    body = recipe_body()
    body["definition"]["jobs"][1]["job_type"]["version"] = "9.9.9"
    resp = client.post("/api/recipe-types/validation/", json=body, headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "definition.jobs[1].job_type"
    create(client, token)
    resp = client.post("/api/recipe-types/validation/", json=recipe_body(), headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "name"


def _set(path, value):
    """A change to recipe_body(): set `value` at `path` (keys and indexes) in a deep copy."""
    def change(body):
        target = body
        for part in path[:-1]:
            target = target[part]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return body
    return change


_DELETE = object()


def _chain_output(output):
    def change(body):
        body["definition"] = chained_definition()
        body["definition"]["jobs"][1]["dependencies"][0]["connections"][0]["output"] = output
        return body
    return change


def _cycle(body):
    body["definition"] = chained_definition()
    body["definition"]["jobs"][0]["dependencies"] = [{"name": "MyJob2"}]
    return body


def _png_into_text(body):
    """my-job1 made to output image/png, which my-job2's text/plain input refuses."""
    body["definition"] = chained_definition()
    body["definition"]["jobs"][0]["job_type"] = {"name": "png-maker", "version": "1"}
    return body


BAD_CREATES = {
    "unknown job type": (_set(("definition", "jobs", 1, "job_type", "name"), "nope"),
                         "definition.jobs[1].job_type"),
    "unknown job type version": (_set(("definition", "jobs", 0, "job_type", "version"), "0.0.1"),
                                 "definition.jobs[0].job_type"),
    "unknown recipe input": (_set(("definition", "jobs", 0, "recipe_inputs", 0, "recipe_input"), "nope"),
                             "definition.jobs[0].recipe_inputs[0].recipe_input"),
    "unknown job input": (_set(("definition", "jobs", 0, "recipe_inputs", 0, "job_input"), "nope"),
                          "definition.jobs[0].recipe_inputs[0].job_input"),
    "unknown output": (_chain_output("nope"), "definition.jobs[1].dependencies[0].connections[0].output"),
    "recipe input media type refused": (
        _set(("definition", "input_data", 0, "media_types"), ["image/png"]),
        "definition.jobs[0].recipe_inputs[0].job_input"),
    "output media type refused": (_png_into_text, "definition.jobs[1].dependencies[0].connections[0].input"),
    "duplicate job name": (_set(("definition", "jobs", 1, "name"), "MyJob1"), "definition.jobs[1].name"),
    "cycle": (_cycle, "definition.jobs[0].dependencies"),
    "definition not an object": (_set(("definition",), []), "definition"),
    "missing definition": (_set(("definition",), _DELETE), "definition"),
    "unknown field": (_set(("color",), "red"), "color"),
    "wrong type": (_set(("title",), 5), "title"),
    "bad name": (_set(("name",), "my recipe"), "name"),
    "unknown trigger type": (_set(("trigger_rule", "type"), "NOPE"), "trigger_rule.type"),
    "trigger without configuration": (_set(("trigger_rule", "configuration"), _DELETE),
                                      "trigger_rule.configuration"),
    "trigger input not a recipe input": (
        _set(("trigger_rule", "configuration", "data", "input_data_name"), "nope"),
        "trigger_rule.configuration.data.input_data_name"),
    "clock trigger": (_set(("trigger_rule",), {"type": "CLOCK", "configuration": {
        "event_type": "TICK", "schedule": "PT1H0M0S"}}), "trigger_rule.type"),
    "trigger name too long": (_set(("trigger_rule", "name"), "x" * 51), "trigger_rule.name"),
    "trigger input is a property": (
        _set(("trigger_rule", "configuration", "data", "input_data_name"), "threshold"),
        "trigger_rule.configuration.data.input_data_name"),
    "trigger workspace unknown": (
        _set(("trigger_rule", "configuration", "data", "workspace_name"), "nope"),
        "trigger_rule.configuration.data.workspace_name"),
}


@pytest.mark.parametrize("case", BAD_CREATES)
def test_bad_create_is_400_naming_the_field_and_writes_nothing(client, token, job_types, db, case):
    make_job_type(db, "png-maker", version="1", interface=file_interface(output_media_type="image/png"))
    db.commit()
    change, field = BAD_CREATES[case]
    body = recipe_body()
    body["definition"]["input_data"].append({"name": "threshold", "type": "property", "required": False})
    before = counts(db)
    resp = client.post("/api/recipe-types/", json=change(copy.deepcopy(body)), headers=token)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["field"] == field
    assert resp.get_json()["message"].startswith(field + ":")
    assert counts(db) == before


def test_duplicate_input_name_is_400(client, token, job_types):
    body = recipe_body()
    body["definition"]["input_data"].append({"name": "input_file", "type": "property"})
    resp = client.post("/api/recipe-types/", json=body, headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "definition.input_data[1].name"


def test_duplicate_name_and_version_is_400(client, token, job_types, db):
    create(client, token)
    before = counts(db)
    resp = client.post("/api/recipe-types/", json=recipe_body(), headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "name"
    assert counts(db) == before
    create(client, token, version="2.0")


def test_edit_definition_makes_revision_2(client, token, job_types):
    created = create(client, token)
    resp = client.patch(f"/api/recipe-types/{created['id']}/",
                        json={"definition": chained_definition()}, headers=token)
    assert resp.status_code == 200, resp.get_json()
    edited = resp.get_json()
    assert edited["revision_num"] == 2
    assert edited["definition"]["jobs"][1]["dependencies"][0]["name"] == "MyJob1"
    assert edited["trigger_rule"] == created["trigger_rule"]

    revisions = client.get(f"/api/recipe-types/{created['id']}/revisions/").get_json()
    assert revisions["count"] == 2
    assert [r["revision_num"] for r in revisions["results"]] == [1, 2]
    assert set(revisions["results"][0]) == {"revision_num", "definition", "created"}
    first = client.get(f"/api/recipe-types/{created['id']}/revisions/1/").get_json()
    assert first["definition"] == created["definition"]
    second = client.get(f"/api/recipe-types/{created['id']}/revisions/2/").get_json()
    assert second["definition"] == edited["definition"]
    assert client.get(f"/api/recipe-types/{created['id']}/revisions/3/").status_code == 404
    newest = client.get(f"/api/recipe-types/{created['id']}/revisions/?order=-revision_num").get_json()
    assert newest["results"][0]["revision_num"] == 2


def test_edit_with_same_definition_or_only_title_keeps_revision(client, token, job_types, db):
    created = create(client, token)
    url = f"/api/recipe-types/{created['id']}/"
    same = client.patch(url, json={"definition": recipe_body()["definition"]}, headers=token).get_json()
    assert same["revision_num"] == 1
    titled = client.patch(url, json={"title": "Renamed", "description": None}, headers=token).get_json()
    assert (titled["title"], titled["description"], titled["revision_num"]) == ("Renamed", None, 1)
    assert counts(db)[1] == 1


def test_trigger_rule_null_archives_the_rule(client, token, job_types, db):
    created = create(client, token)
    resp = client.patch(f"/api/recipe-types/{created['id']}/", json={"trigger_rule": None}, headers=token)
    assert resp.status_code == 200 and resp.get_json()["trigger_rule"] is None
    old = db.get(TriggerRule, created["trigger_rule"]["id"])
    db.refresh(old)
    assert old.is_active is False and old.archived is not None


def test_new_trigger_rule_replaces_and_archives_the_old(client, token, job_types, db):
    created = create(client, token)
    rule = parse_rule()
    rule["configuration"]["condition"]["data_types"] = ["fresh"]
    edited = client.patch(f"/api/recipe-types/{created['id']}/", json={"trigger_rule": rule},
                          headers=token).get_json()
    assert edited["trigger_rule"]["id"] != created["trigger_rule"]["id"]
    assert edited["trigger_rule"]["configuration"]["condition"]["data_types"] == ["fresh"]
    old = db.get(TriggerRule, created["trigger_rule"]["id"])
    db.refresh(old)
    assert old.archived is not None


def test_pausing_the_trigger_rule_keeps_it(client, token, job_types):
    created = create(client, token)
    edited = client.patch(f"/api/recipe-types/{created['id']}/",
                          json={"trigger_rule": {**parse_rule(), "is_active": False}},
                          headers=token).get_json()
    assert edited["trigger_rule"]["id"] == created["trigger_rule"]["id"]
    assert edited["trigger_rule"]["is_active"] is False and edited["trigger_rule"]["archived"] is None


def test_is_active_false_archives_and_true_restores(client, token, job_types):
    created = create(client, token)
    url = f"/api/recipe-types/{created['id']}/"
    off = client.patch(url, json={"is_active": False}, headers=token).get_json()
    assert off["is_active"] is False and off["archived"].endswith("Z")
    on = client.patch(url, json={"is_active": True}, headers=token).get_json()
    assert on["is_active"] is True and on["archived"] is None


BAD_EDITS = {
    "unknown job type": ({"definition": {"jobs": [{"name": "a", "job_type": {"name": "x", "version": "1"}}]}},
                         "definition.jobs[0].job_type"),
    "name is not editable": ({"name": "other"}, "name"),
    "wrong type": ({"is_active": "no"}, "is_active"),
    "definition drops the rule's input": (
        {"definition": {"input_data": [{"name": "other", "type": "file"}],
                        "jobs": [{"name": "MyJob1", "job_type": {"name": "my-job1", "version": "1.2.3"},
                                  "recipe_inputs": [{"recipe_input": "other", "job_input": "input_file"}]}]}},
        "definition"),
    "invalid trigger rule": ({"trigger_rule": parse_rule(workspace_name="nope"), "title": "x"},
                             "trigger_rule.configuration.data.workspace_name"),
}


@pytest.mark.parametrize("case", BAD_EDITS)
def test_bad_edit_is_400_and_changes_nothing(client, token, job_types, db, case):
    created = create(client, token)
    patch, field = BAD_EDITS[case]
    before = counts(db)
    resp = client.patch(f"/api/recipe-types/{created['id']}/", json=patch, headers=token)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["field"] == field and field in resp.get_json()["message"]
    assert counts(db) == before
    assert client.get(f"/api/recipe-types/{created['id']}/").get_json() == created


def test_writes_without_token_are_401(client, token, job_types, db):
    created = create(client, token)
    before = counts(db)
    assert client.post("/api/recipe-types/", json=recipe_body(version="2")).status_code == 401
    assert client.post("/api/recipe-types/validation/", json=recipe_body()).status_code == 401
    resp = client.patch(f"/api/recipe-types/{created['id']}/", json={"title": "x"})
    assert resp.status_code == 401
    assert counts(db) == before
    assert client.get(f"/api/recipe-types/{created['id']}/").get_json()["title"] == "My Recipe"


def test_unknown_recipe_type_is_404(client, token):
    assert client.get("/api/recipe-types/424242/").status_code == 404
    assert client.patch("/api/recipe-types/424242/", json={"title": "x"}, headers=token).status_code == 404
    assert client.get("/api/recipe-types/424242/revisions/").status_code == 404
    assert client.get("/api/recipe-types/424242/revisions/1/").status_code == 404


def test_list_filters_orders_and_pages(client, token, job_types):
    first = create(client, token, name="alpha")
    create(client, token, name="alpha", version="2.0", trigger_rule=None)
    beta = create(client, token, name="beta")
    client.patch(f"/api/recipe-types/{beta['id']}/", json={"is_active": False}, headers=token)

    everything = client.get("/api/recipe-types/").get_json()
    assert everything["count"] == 3
    assert [(r["name"], r["version"]) for r in everything["results"]] == [
        ("alpha", "1.0"), ("alpha", "2.0"), ("beta", "1.0")]
    summary = everything["results"][0]
    assert summary["trigger_rule"] == {"id": first["trigger_rule"]["id"]}
    assert "job_types" not in summary and summary["definition"] == first["definition"]
    assert everything["results"][1]["trigger_rule"] is None

    alphas = client.get("/api/recipe-types/?name=alpha&order=-version").get_json()
    assert [r["version"] for r in alphas["results"]] == ["2.0", "1.0"]
    archived = client.get("/api/recipe-types/?is_active=false").get_json()
    assert [r["name"] for r in archived["results"]] == ["beta"]

    page = client.get("/api/recipe-types/?page_size=1&page=2").get_json()
    assert page["count"] == 3 and [r["version"] for r in page["results"]] == ["2.0"]
    assert "page=3" in page["next"] and "page=1" in page["previous"]
    assert client.get("/api/recipe-types/?order=color").status_code == 400
    assert client.get("/api/recipe-types/?started=PT1H").get_json()["count"] == 3
