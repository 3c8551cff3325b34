"""Import/Export services: /api/configuration/."""

from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from scale.models.errors import Error
from scale.models.job_types import JobType
from scale.models.recipes import RecipeType
from scale.models.triggers import TriggerRule

INTERFACE = {
    "version": "1.0", "command": "make_png.sh", "command_arguments": "${input_file} ${job_output_dir}",
    "input_data": [{"name": "input_file", "type": "file", "media_types": ["text/plain"]}],
    "output_data": [{"name": "png", "type": "file", "media_type": "image/png"}],
}
SECOND_INTERFACE = {
    "version": "1.0", "command": "shrink.sh", "command_arguments": "${image} ${job_output_dir}",
    "input_data": [{"name": "image", "type": "file", "media_types": ["image/png"]}],
    "output_data": [{"name": "small", "type": "file", "media_type": "image/png"}],
}
DEFINITION = {
    "version": "1.0",
    "input_data": [{"name": "input_file", "type": "file", "media_types": ["text/plain"]}],
    "jobs": [
        {"name": "render", "job_type": {"name": "make-png", "version": "1.0"},
         "recipe_inputs": [{"recipe_input": "input_file", "job_input": "input_file"}]},
        {"name": "shrink", "job_type": {"name": "shrink", "version": "2.0"},
         "dependencies": [{"name": "render", "connections": [{"output": "png", "input": "image"}]}]},
    ],
}


def counts(db) -> tuple[int, int, int, int]:
    return tuple(db.scalar(select(func.count()).select_from(model))
                 for model in (Error, JobType, RecipeType, TriggerRule))


def make_definitions(client, token):
    """A workspace, an error, two job types (one with a trigger rule) and a recipe type."""
    assert client.post("/api/workspaces/", headers=token, json={
        "name": "products", "json_config": {"version": "1.0", "broker": {
            "type": "host", "host_path": "/tmp/products"}}}).status_code == 201
    assert client.post("/api/errors/", headers=token, json={
        "name": "bad-text", "title": "Bad Text", "category": "DATA"}).status_code == 201
    resp = client.post("/api/job-types/", headers=token, json={
        "name": "make-png", "version": "1.0", "title": "Make PNG", "category": "render",
        "interface": INTERFACE, "error_mapping": {"version": "1.0", "exit_codes": {"3": "bad-text"}},
        "trigger_rule": {"type": "INGEST", "configuration": {
            "version": "1.0", "condition": {"media_type": "text/plain", "data_types": []},
            "data": {"input_data_name": "input_file", "workspace_name": "products"}}}})
    assert resp.status_code == 201, resp.get_json()
    assert client.post("/api/job-types/", headers=token, json={
        "name": "shrink", "version": "2.0", "interface": SECOND_INTERFACE}).status_code == 201
    resp = client.post("/api/recipe-types/", headers=token, json={
        "name": "png-pipeline", "version": "1.0", "title": "PNG pipeline", "definition": DEFINITION})
    assert resp.status_code == 201, resp.get_json()


def test_export_has_user_records_and_leaves_out_system_ones(client, token):
    make_definitions(client, token)
    doc = client.get("/api/configuration/").get_json()
    assert doc["version"] == "1.0"
    assert [e["name"] for e in doc["errors"]] == ["bad-text"]
    assert [j["name"] for j in doc["job_types"]] == ["make-png", "shrink"]
    assert all(not j["is_system"] for j in doc["job_types"])
    make_png = doc["job_types"][0]
    assert make_png["interface"]["command"] == "make_png.sh"
    assert make_png["trigger_rule"]["type"] == "INGEST"
    assert doc["recipe_types"][0]["definition"]["jobs"][1]["name"] == "shrink"


def test_export_filters(client, token):
    make_definitions(client, token)
    doc = client.get("/api/configuration/?include=job_types&job_type_name=shrink").get_json()
    assert set(doc) == {"version", "job_types"}
    assert [j["name"] for j in doc["job_types"]] == ["shrink"]
    doc = client.get("/api/configuration/?include=errors&include=recipe_types").get_json()
    assert set(doc) == {"version", "errors", "recipe_types"}


def test_bad_export_include_is_400(client):
    resp = client.get("/api/configuration/?include=nodes")
    assert resp.status_code == 400 and resp.get_json()["field"] == "include"


def test_download_is_an_attachment_with_the_export(client, token):
    make_definitions(client, token)
    resp = client.get("/api/configuration/download/")
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    assert json.loads(resp.data) == client.get("/api/configuration/").get_json()


def test_import_of_an_export_round_trips_edits_in_place(client, token, db):
    make_definitions(client, token)
    doc = client.get("/api/configuration/").get_json()
    doc["errors"][0]["title"] = "Very Bad Text"
    doc["job_types"][1]["priority"] = 7
    before = counts(db)
    resp = client.post("/api/configuration/", json={"import": doc}, headers=token)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"warnings": []}
    assert counts(db)[:3] == before[:3]
    exported = client.get("/api/configuration/").get_json()
    assert exported["errors"][0]["title"] == "Very Bad Text"
    assert exported["job_types"][1]["priority"] == 7


def test_import_creates_missing_records_in_dependency_order(client, token, db):
    make_definitions(client, token)
    doc = client.get("/api/configuration/").get_json()
    for record in doc["job_types"] + doc["recipe_types"]:
        record["version"] = record["version"] + "-b"
    for job in doc["recipe_types"][0]["definition"]["jobs"]:
        job["job_type"]["version"] += "-b"
    doc["errors"] = []
    errors, job_types, recipe_types, _ = counts(db)
    resp = client.post("/api/configuration/", json={"import": doc}, headers=token)
    assert resp.status_code == 200, resp.get_json()
    assert counts(db)[:3] == (errors, job_types + 2, recipe_types + 1)


def test_import_is_all_or_nothing(client, token, db):
    make_definitions(client, token)
    doc = client.get("/api/configuration/").get_json()
    doc["errors"].append({"name": "new-error", "category": "ALGORITHM"})
    doc["job_types"][1]["priority"] = 9
    doc["recipe_types"][0]["definition"]["jobs"][1]["job_type"]["version"] = "9.9"
    before = counts(db)
    resp = client.post("/api/configuration/", json={"import": doc}, headers=token)
    assert resp.status_code == 400
    assert resp.get_json()["field"].startswith("import.recipe_types[0].definition")
    assert counts(db) == before
    assert client.get("/api/configuration/?job_type_name=shrink").get_json()["job_types"][0]["priority"] != 9
    assert "new-error" not in {e["name"] for e in client.get("/api/configuration/").get_json()["errors"]}


def test_validation_reports_warnings_and_writes_nothing(client, token, db):
    make_definitions(client, token)
    doc = {"version": "1.0", "errors": [{"name": "unknown", "category": "SYSTEM"},
                                        {"name": "fresh", "category": "DATA"}]}
    before = counts(db)
    resp = client.post("/api/configuration/validation/", json={"import": doc}, headers=token)
    assert resp.status_code == 200
    assert [w["id"] for w in resp.get_json()["warnings"]] == ["system_error"]
    assert counts(db) == before


def test_validation_reports_job_type_warnings_as_id_and_details(client, token):
    make_definitions(client, token)
    doc = client.get("/api/configuration/?include=job_types&job_type_name=make-png").get_json()
    record = doc["job_types"][0]
    record["version"] = "1.0-b"
    record["trigger_rule"]["configuration"]["condition"]["media_type"] = "image/jpeg"
    resp = client.post("/api/configuration/validation/", json={"import": doc}, headers=token)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"warnings": [{
        "id": "media_type", "details": "Invalid media type for data input: input_file -> image/jpeg"}]}


def test_invalid_import_names_the_field(client, token):
    doc = {"version": "1.0", "job_types": [{"name": "x", "version": "1", "interface": {
        "version": "1.0", "command": "x", "command_arguments": "${nope}"}}]}
    resp = client.post("/api/configuration/validation/", json={"import": doc}, headers=token)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "import.job_types[0].interface.command_arguments"


def test_import_needs_the_import_field(client, token):
    resp = client.post("/api/configuration/", json={"recipe_types": []}, headers=token)
    assert resp.status_code == 400


def test_import_without_token_is_401(client):
    assert client.post("/api/configuration/", json={"import": {}}).status_code == 401


def test_upload_imports_a_file(client, token, db):
    make_definitions(client, token)
    doc = client.get("/api/configuration/?include=errors").get_json()
    doc["errors"].append({"name": "uploaded", "category": "ALGORITHM"})
    data = {"import": (io.BytesIO(json.dumps(doc).encode()), "configuration.json")}
    resp = client.post("/api/configuration/upload/", data=data, headers=token,
                       content_type="multipart/form-data")
    assert resp.status_code == 200, resp.get_json()
    assert db.scalar(select(func.count()).select_from(Error).where(Error.name == "uploaded")) == 1


def test_upload_of_a_non_json_file_is_400(client, token):
    data = {"import": (io.BytesIO(b"\x89PNG"), "picture.png")}
    resp = client.post("/api/configuration/upload/", data=data, headers=token,
                       content_type="multipart/form-data")
    assert resp.status_code == 400 and resp.get_json()["field"] == "import"
