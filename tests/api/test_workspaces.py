"""Workspace services: /api/workspaces/ (list, details, create, edit)."""

from sqlalchemy import func, select

from scale.models.workspaces import Workspace


def workspace_body(**overrides):
    return {"name": "products", "title": "Products", "description": "Products Workspace",
            "base_url": "http://host.com/products",
            "json_config": {"version": "1.0", "broker": {"type": "host", "host_path": "/tmp/products"}},
            **overrides}


def count_workspaces(db):
    return db.scalar(select(func.count()).select_from(Workspace))


def test_create_host_workspace(client, token):
    resp = client.post("/api/workspaces/", json=workspace_body(), headers=token)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["is_active"] is True and body["archived"] is None
    assert body["json_config"]["broker"] == {"type": "host", "host_path": "/tmp/products"}
    assert client.get(f"/api/workspaces/{body['id']}/").get_json() == body


def test_create_nfs_workspace(client, token):
    json_config = {"version": "1.0", "broker": {"type": "nfs", "mount": "host:/exports/rs"}}
    resp = client.post("/api/workspaces/", json=workspace_body(name="rs", json_config=json_config),
                       headers=token)
    assert resp.status_code == 201
    assert resp.get_json()["json_config"]["broker"]["mount"] == "host:/exports/rs"


def test_bad_broker_is_400_naming_json_config(client, token, db):
    before = count_workspaces(db)
    json_config = {"version": "1.0", "broker": {"type": "s3"}}
    resp = client.post("/api/workspaces/", json=workspace_body(json_config=json_config), headers=token)
    assert resp.status_code == 400
    assert resp.get_json()["field"].startswith("json_config.broker")
    assert count_workspaces(db) == before


def test_relative_host_path_is_400(client, token):
    json_config = {"version": "1.0", "broker": {"type": "host", "host_path": "../etc"}}
    resp = client.post("/api/workspaces/", json=workspace_body(json_config=json_config), headers=token)
    assert resp.status_code == 400
    assert resp.get_json()["field"].startswith("json_config.broker")


def test_duplicate_name_is_400(client, token, db):
    client.post("/api/workspaces/", json=workspace_body(), headers=token)
    before = count_workspaces(db)
    resp = client.post("/api/workspaces/", json=workspace_body(), headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "name"
    assert count_workspaces(db) == before


def test_deactivate_archives_and_reactivate_clears(client, token):
    created = client.post("/api/workspaces/", json=workspace_body(), headers=token).get_json()
    off = client.patch(f"/api/workspaces/{created['id']}/", json={"is_active": False}, headers=token)
    assert off.status_code == 200
    assert off.get_json()["is_active"] is False and off.get_json()["archived"].endswith("Z")
    on = client.patch(f"/api/workspaces/{created['id']}/", json={"is_active": True}, headers=token)
    assert on.get_json()["archived"] is None


def test_edit_json_config_is_validated(client, token):
    created = client.post("/api/workspaces/", json=workspace_body(), headers=token).get_json()
    resp = client.patch(f"/api/workspaces/{created['id']}/",
                        json={"json_config": {"version": "9.9", "broker": {}}}, headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "json_config.version"
    assert client.get(f"/api/workspaces/{created['id']}/").get_json()["json_config"] == created["json_config"]


def test_unknown_field_on_patch_is_400(client, token):
    created = client.post("/api/workspaces/", json=workspace_body(), headers=token).get_json()
    resp = client.patch(f"/api/workspaces/{created['id']}/", json={"size": 3}, headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "size"


def test_list_filters_by_name(client, token):
    client.post("/api/workspaces/", json=workspace_body(), headers=token)
    client.post("/api/workspaces/", json=workspace_body(name="rs"), headers=token)
    body = client.get("/api/workspaces/?name=rs").get_json()
    assert body["count"] == 1 and body["results"][0]["name"] == "rs"
    assert "json_config" not in body["results"][0]


def test_unknown_workspace_is_404(client):
    assert client.get("/api/workspaces/424242/").status_code == 404


def test_patch_without_token_is_401(client, token):
    created = client.post("/api/workspaces/", json=workspace_body(), headers=token).get_json()
    assert client.patch(f"/api/workspaces/{created['id']}/", json={"title": "x"}).status_code == 401
