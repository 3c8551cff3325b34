"""Workspace file downloads, GET /api/workspaces/{id}/files/<path> (beyond the reference): the
bytes stream through the workspace's broker, and no path reaches outside the workspace. (A
workspace on NFS that cannot be mounted answering 503 is in tests/integration/test_nfs_mounts.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from scale.models.workspaces import Workspace

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
    workspace = Workspace(name="raw", json_config={"version": "1.0", "broker": {"type": "host",
                                                                                "host_path": str(root)}})
    db.add(workspace)
    db.flush()
    return workspace


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
def test_what_is_not_a_stored_file_is_not_found(client, workspace, path):
    resp = client.get(f"/api/workspaces/{workspace.id}/files/{path}")
    assert resp.status_code == 404
    assert repr(path) in resp.get_json()["message"]


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


def test_the_route_is_documented(client):
    spec = client.get("/api/swagger.json").get_json()
    operation = spec["paths"]["/workspaces/{workspace_id}/files/{rel_path}"]["get"]
    assert set(operation["responses"]) >= {"400", "404", "503"}
    assert "beyond the reference" in operation["summary"]
