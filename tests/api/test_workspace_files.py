"""Workspace file downloads, GET /api/workspaces/{id}/files/<path> (beyond the reference): the
bytes stream through the workspace's broker, no path reaches outside the workspace, only a public
workspace's files are served without a token, and no answer names a host path. (A workspace on
NFS that cannot be mounted answering 503 is in tests/integration/test_nfs_mounts.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from scale.exceptions import Forbidden
from scale.models.workspaces import Workspace
from scale.workspaces.brokers import HostBroker, broker_for
from tests.factories import host_workspace
from tests.helpers import open_folder, unprivileged_files

CONTENT = b"\x00binary\xffbytes\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "files"
    (path / "deep" / "er").mkdir(parents=True)
    (path / "deep" / "er" / "scene.png").write_bytes(CONTENT)
    (path / "notes.txt").write_text("hello\n")
    return path


@pytest.fixture
def workspace(db, root: Path) -> Workspace:
    """A public workspace: what anyone may reach, so its answers must leak nothing."""
    return host_workspace(db, root, name="raw", is_public=True)


@pytest.fixture
def private(db, root: Path) -> Workspace:
    return host_workspace(db, root, name="private", is_public=False)


def test_a_nested_file_streams_as_an_attachment_with_its_media_type(client, workspace):
    resp = client.get(f"/api/workspaces/{workspace.id}/files/deep/er/scene.png")
    assert resp.status_code == 200
    assert resp.data == CONTENT
    assert resp.mimetype == "image/png"
    assert resp.headers["Content-Disposition"] == "attachment; filename=scene.png"


def test_a_file_at_the_root_streams(client, workspace):
    resp = client.get(f"/api/workspaces/{workspace.id}/files/notes.txt")
    assert resp.status_code == 200
    assert resp.data == b"hello\n"
    assert resp.mimetype == "text/plain"


@pytest.mark.parametrize("path", ["missing.txt", "deep/er", "deep/missing/scene.png"])
def test_what_is_not_a_stored_file_is_not_found(client, workspace, root, path):
    resp = client.get(f"/api/workspaces/{workspace.id}/files/{path}")
    assert resp.status_code == 404
    assert repr(path) in resp.get_json()["message"]
    assert str(root) not in resp.get_data(as_text=True)


def test_a_private_workspace_needs_a_token_even_when_reads_are_open(client, private, token, settings):
    assert not settings.reads_require_token
    resp = client.get(f"/api/workspaces/{private.id}/files/notes.txt")
    assert resp.status_code == 401
    assert "not public" in resp.get_json()["message"]
    assert b"hello" not in resp.data
    bad = client.get(f"/api/workspaces/{private.id}/files/notes.txt", headers={"Authorization": "Token nope"})
    assert bad.status_code == 401
    good = client.get(f"/api/workspaces/{private.id}/files/notes.txt", headers=token)
    assert good.status_code == 200 and good.data == b"hello\n"


def test_a_workspace_rooted_at_the_file_system_root_is_refused(client, db, token):
    """What was served before: a workspace rooted at `/` gave anyone the admin token and /etc/shadow."""
    resp = client.post("/api/workspaces/", headers=token, json={
        "name": "everything", "is_public": True, "json_config": {"broker": {"type": "host", "host_path": "/"}}})
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "json_config.broker.host_path"
    assert db.scalar(select(Workspace.id).where(Workspace.name == "everything")) is None


@pytest.fixture
def open_workspace(db) -> Iterator[tuple[Workspace, Path]]:
    """A public workspace whose root `nobody` may reach (pytest's tmp_path is private to root)."""
    with open_folder() as folder:
        (folder / "deep" / "er").mkdir(parents=True)
        (folder / "deep" / "er" / "secret.txt").write_text("the password")
        (folder / "notes.txt").write_text("hello\n")
        yield host_workspace(db, folder, name="open", is_public=True), folder


def test_an_unreadable_file_is_forbidden_naming_only_its_workspace_path(client, open_workspace):
    workspace, root = open_workspace
    (root / "deep" / "er" / "secret.txt").chmod(0)
    with unprivileged_files():
        assert client.get(f"/api/workspaces/{workspace.id}/files/notes.txt").data == b"hello\n"
        resp = client.get(f"/api/workspaces/{workspace.id}/files/deep/er/secret.txt")
    assert resp.status_code == 403
    assert resp.get_json()["message"] == "'deep/er/secret.txt' in the workspace cannot be read: permission denied"
    assert b"password" not in resp.data


def test_a_folder_that_cannot_be_searched_is_forbidden(client, open_workspace):
    workspace, root = open_workspace
    (root / "deep").chmod(0o644)
    with unprivileged_files():
        resp = client.get(f"/api/workspaces/{workspace.id}/files/deep/er/secret.txt")
    assert resp.status_code == 403
    assert resp.get_json()["message"] == "'deep/er/secret.txt' in the workspace cannot be read: permission denied"
    assert str(root) not in resp.get_data(as_text=True)


def test_the_broker_reports_an_unreadable_file_as_forbidden_when_opened(open_workspace):
    _workspace, root = open_workspace
    (root / "notes.txt").chmod(0)
    broker = HostBroker(root)
    with unprivileged_files():
        assert broker.exists("notes.txt") and broker.size("notes.txt") == 6
        with pytest.raises(Forbidden, match="'notes.txt' in the workspace"):
            broker.open_read("notes.txt")


def test_an_unknown_workspace_is_not_found(client, workspace):
    resp = client.get(f"/api/workspaces/{workspace.id + 1}/files/notes.txt")
    assert resp.status_code == 404
    assert resp.get_json()["message"] == f"workspace {workspace.id + 1} does not exist"


@pytest.mark.parametrize("path", ["deep/../../secret.txt", "../secret.txt", "deep/%2e%2e/%2e%2e/secret.txt"])
def test_a_path_with_parent_segments_is_refused(client, workspace, tmp_path, path):
    (tmp_path / "secret.txt").write_text("the password")
    resp = client.get(f"/api/workspaces/{workspace.id}/files/{path}")
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "path"
    assert b"password" not in resp.data


def test_a_symlink_out_of_the_workspace_is_refused(client, workspace, root, tmp_path):
    (tmp_path / "secret.txt").write_text("secret")
    (root / "escape").symlink_to(tmp_path)
    (root / "leak.txt").symlink_to(tmp_path / "secret.txt")
    for path in ("escape/secret.txt", "leak.txt"):
        resp = client.get(f"/api/workspaces/{workspace.id}/files/{path}")
        assert resp.status_code == 400
        assert "resolves outside the workspace" in resp.get_json()["message"]


@pytest.mark.parametrize("swapped", ["the root", "a folder above it"])
def test_a_root_created_missing_then_swapped_for_a_symlink_serves_and_stores_nothing(client, db, token, tmp_path,
                                                                                     swapped):
    """The report of issue 14: a workspace made before its folder existed, whose folder was then
    replaced by a symlink to /etc, served /etc/passwd, and would have stored products there."""
    root = tmp_path / "data" / "ws"
    resp = client.post("/api/workspaces/", headers=token, json={
        "name": "late", "is_public": True, "json_config": {"broker": {"type": "host", "host_path": str(root)}}})
    assert resp.status_code == 201, resp.get_json()
    workspace = db.get(Workspace, resp.get_json()["id"])
    etc = tmp_path / "etc"
    (etc / "ws").mkdir(parents=True)
    for folder in (etc, etc / "ws"):
        (folder / "passwd").write_text("root:x:0:0:secret")
    if swapped == "the root":
        root.parent.mkdir()
        root.symlink_to(etc)
    else:
        root.parent.symlink_to(etc)
    resp = client.get(f"/api/workspaces/{workspace.id}/files/passwd")
    assert resp.status_code == 403
    assert resp.get_json()["message"].startswith("workspace 'late': its root is not the directory it was configured")
    assert b"secret" not in resp.data and str(tmp_path) not in resp.get_data(as_text=True)
    product = tmp_path / "product.txt"
    product.write_text("product")
    with pytest.raises(Forbidden):  # what storing a job's products calls
        broker_for(workspace).store(product, "job/1/product.txt")
    assert sorted(path.name for path in etc.rglob("*")) == ["passwd", "passwd", "ws"]


def test_a_workspace_root_reached_through_a_symlink_is_refused_at_creation(client, db, token, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    resp = client.post("/api/workspaces/", headers=token, json={
        "name": "aliased", "json_config": {"broker": {"type": "host", "host_path": str(tmp_path / "alias" / "ws")}}})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["field"] == "json_config.broker.host_path"
    assert f"give its real path {str(tmp_path / 'real' / 'ws')!r}" in body["message"]
    assert db.scalar(select(Workspace.id).where(Workspace.name == "aliased")) is None


def test_a_symlinked_folder_inside_the_workspace_that_stays_inside_is_served(client, workspace, root):
    (root / "alias").symlink_to("deep/er")
    resp = client.get(f"/api/workspaces/{workspace.id}/files/alias/scene.png")
    assert resp.status_code == 200 and resp.data == CONTENT


def test_the_route_is_documented(client):
    spec = client.get("/api/swagger.json").get_json()
    operation = spec["paths"]["/workspaces/{workspace_id}/files/{rel_path}"]["get"]
    assert set(operation["responses"]) >= {"400", "401", "403", "404", "503"}
    assert "beyond the reference" in operation["summary"]
