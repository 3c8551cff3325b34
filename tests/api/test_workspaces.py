"""Workspace services: /api/workspaces/ (list, details, create, edit)."""

import os
import threading
import time

import pytest
from sqlalchemy import func, select

from scale.definitions import workspaces
from scale.models.workspaces import Workspace
from scale.workspaces.brokers import HostBroker


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


def test_is_public_is_false_unless_set_and_is_shown_in_details_and_list(client, token):
    private = client.post("/api/workspaces/", json=workspace_body(), headers=token).get_json()
    assert private["is_public"] is False
    public = client.post("/api/workspaces/", json=workspace_body(name="open", is_public=True), headers=token)
    assert public.status_code == 201 and public.get_json()["is_public"] is True
    listed = {w["name"]: w["is_public"] for w in client.get("/api/workspaces/").get_json()["results"]}
    assert listed == {"products": False, "open": True}
    resp = client.patch(f"/api/workspaces/{private['id']}/", json={"is_public": True}, headers=token)
    assert resp.status_code == 200 and resp.get_json()["is_public"] is True
    assert client.get(f"/api/workspaces/{private['id']}/").get_json()["is_public"] is True
    bad = client.patch(f"/api/workspaces/{private['id']}/", json={"is_public": "yes"}, headers=token)
    assert bad.status_code == 400 and bad.get_json()["field"] == "is_public"


@pytest.mark.parametrize(("broker", "field"), [
    ({"type": "host", "host_path": "/"}, "json_config.broker.host_path"),
    ({"type": "host", "host_path": "/etc"}, "json_config.broker.host_path"),
    ({"type": "host", "host_path": "/proc/self"}, "json_config.broker.host_path"),
    ({"type": "host", "host_path": "/var"}, "json_config.broker.host_path"),
    ({"type": "nfs", "mount": "server:/"}, "json_config.broker.mount"),
])
def test_a_system_directory_is_refused_as_a_root_and_nothing_is_written(client, token, db, broker, field):
    before = count_workspaces(db)
    resp = client.post("/api/workspaces/", json=workspace_body(json_config={"broker": broker}), headers=token)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["field"] == field
    assert count_workspaces(db) == before


def test_the_scale_home_and_what_is_in_or_above_it_are_refused(client, token, db, settings, tmp_path):
    (tmp_path / "link-to-home").symlink_to(settings.home)
    for path in (settings.home, settings.home / "mounts", tmp_path, tmp_path / "link-to-home" / "x"):
        body = workspace_body(json_config={"broker": {"type": "host", "host_path": str(path)}})
        resp = client.post("/api/workspaces/", json=body, headers=token)
        assert resp.status_code == 400, path
        assert resp.get_json()["field"] == "json_config.broker.host_path"
    assert count_workspaces(db) == 0
    ok = workspace_body(json_config={"broker": {"type": "host", "host_path": str(tmp_path / "beside")}})
    assert client.post("/api/workspaces/", json=ok, headers=token).status_code == 201


def test_an_edit_to_a_system_root_is_refused_and_changes_nothing(client, token):
    created = client.post("/api/workspaces/", json=workspace_body(), headers=token).get_json()
    resp = client.patch(f"/api/workspaces/{created['id']}/", headers=token, json={
        "title": "Everything", "json_config": {"broker": {"type": "host", "host_path": "/"}}})
    assert resp.status_code == 400 and resp.get_json()["field"] == "json_config.broker.host_path"
    assert client.get(f"/api/workspaces/{created['id']}/").get_json() == created


@pytest.mark.parametrize("name", [".", "..", "...", "a/b", "", "a\u0000b", "feed\n", "x" * 51])
def test_a_name_that_is_not_one_plain_path_component_is_refused(client, token, db, name):
    resp = client.post("/api/workspaces/", json=workspace_body(name=name), headers=token)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["field"] == "name"
    assert count_workspaces(db) == 0


def test_a_name_with_dots_and_more_is_fine(client, token):
    assert client.post("/api/workspaces/", json=workspace_body(name=".raw.v2"), headers=token).status_code == 201


def test_a_host_workspace_reports_its_file_systems_figures_in_bytes(client, token, tmp_path):
    root = tmp_path / "products"
    root.mkdir()
    created = client.post("/api/workspaces/", json=workspace_body(json_config={
        "broker": {"type": "host", "host_path": str(root)}}), headers=token).get_json()
    figures = os.statvfs(root)
    total = figures.f_blocks * figures.f_frsize
    for body in (created, client.get(f"/api/workspaces/{created['id']}/").get_json(),
                 next(w for w in client.get("/api/workspaces/").get_json()["results"] if w["id"] == created["id"])):
        assert body["total_size"] == total
        # The file system is shared with the rest of the machine, so its use moves a little.
        assert 0 < body["used_size"] <= total
        assert abs(body["used_size"] - (figures.f_blocks - figures.f_bfree) * figures.f_frsize) < total // 100


def test_a_workspace_whose_root_is_missing_or_swapped_reports_null_sizes(client, token, tmp_path):
    root = tmp_path / "products"
    body = client.post("/api/workspaces/", json=workspace_body(json_config={
        "broker": {"type": "host", "host_path": str(root)}}), headers=token).get_json()
    assert body["used_size"] is None and body["total_size"] is None  # not made until a file is stored
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root.symlink_to(elsewhere)  # the root swapped for a symlink: its figures are not the workspace's
    body = client.get(f"/api/workspaces/{body['id']}/").get_json()
    assert body["used_size"] is None and body["total_size"] is None


def test_a_workspace_whose_file_system_does_not_answer_reports_null_sizes_in_time(client, token, tmp_path,
                                                                                   monkeypatch):
    (tmp_path / "products").mkdir()
    created = client.post("/api/workspaces/", json=workspace_body(json_config={
        "broker": {"type": "host", "host_path": str(tmp_path / "products")}}), headers=token).get_json()
    released = threading.Event()
    monkeypatch.setattr(HostBroker, "space", lambda self: released.wait(30))  # a dead NFS server
    monkeypatch.setattr(workspaces, "SPACE_TIMEOUT", 0.2)
    started = time.monotonic()
    body = client.get(f"/api/workspaces/{created['id']}/").get_json()
    released.set()
    assert time.monotonic() - started < 5
    assert body["used_size"] is None and body["total_size"] is None
