"""NFS workspaces with the real `mount` command (the tests run as root with CAP_SYS_ADMIN).

This machine's kernel has no NFS client, so a real NFS mount cannot succeed here. What is tested
for real: (a) a failed `mount -t nfs` is a MountError naming the workspace and what `mount`
said, and the download API answers 503 and keeps serving; (b) when something is already mounted
at the workspace's mount point (a tmpfs here), the nfs broker uses it and never runs `mount`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from scale.exceptions import ValidationError
from scale.models.files import ScaleFile
from scale.models.workspaces import Workspace
from scale.workspaces import brokers, mounts
from scale.workspaces.brokers import NfsBroker, broker_for
from scale.workspaces.mounts import MountError, mounted_at

pytestmark = pytest.mark.integration

UNREACHABLE = "127.0.0.1:/nonexistent"


@pytest.fixture
def mount_root(settings) -> Iterator[Path]:
    """The mount root of the test's settings, which the app (and so this process) mounts under."""
    previous = brokers._mount_root
    brokers.configure(mount_root=settings.mounts)
    yield settings.mount_root
    brokers.configure(mount_root=previous)


@pytest.fixture
def workspace(db, mount_root) -> Workspace:
    # Public: its answers go to callers without a token, so they must name no host path.
    workspace = Workspace(name="remote", is_public=True,
                          json_config={"version": "1.0", "broker": {"type": "nfs", "mount": UNREACHABLE}})
    db.add(workspace)
    db.flush()
    return workspace


@pytest.fixture
def tmpfs(mount_root) -> Iterator[Path]:
    """A tmpfs already mounted where the `remote` workspace's export would be."""
    point = mount_root / "workspaces" / "remote"
    point.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(point)], check=True, timeout=30)
    yield point
    if mounted_at(point) is not None:
        subprocess.run(["umount", str(point)], check=True, timeout=30)


@pytest.fixture
def mount_calls(monkeypatch) -> list[list[str]]:
    """Every command the mounts module runs, still run for real."""
    calls: list[list[str]] = []
    real_run = mounts.subprocess.run

    def recording_run(argv, *args, **kwargs):
        calls.append(list(argv))
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(mounts.subprocess, "run", recording_run)
    return calls


def test_a_failed_mount_names_the_workspace_and_what_mount_said(workspace, mount_root, mount_calls):
    broker = broker_for(workspace)
    point = mount_root / "workspaces" / "remote"
    with pytest.raises(MountError) as caught:
        broker.open_read("scene.png")
    prefix = f"workspace 'remote': cannot mount {UNREACHABLE}: "
    message = str(caught.value)
    assert caught.value.mount_point == point
    assert message.startswith(prefix)
    assert len(message) > len(prefix) + 10  # `mount`'s own words follow
    assert mount_calls == [["mount", "-t", "nfs", "-o", mounts.NFS_OPTIONS, UNREACHABLE, str(point)]]
    assert mounted_at(point) is None
    with pytest.raises(MountError):  # the next use tries again rather than assuming it is mounted
        broker.exists("scene.png")
    assert len(mount_calls) == 2


def test_downloads_from_an_unmountable_workspace_answer_503_and_the_api_keeps_serving(client, db, workspace,
                                                                                      settings):
    product = ScaleFile(file_name="scene.png", file_path="out/scene.png", file_type="PRODUCT", uuid="1" * 32,
                        media_type="image/png", file_size=3, workspace_id=workspace.id)
    db.add(product)
    db.flush()
    for url in (f"/api/workspaces/{workspace.id}/files/out/scene.png", f"/api/products/{product.id}/download/"):
        resp = client.get(url)
        assert resp.status_code == 503
        assert resp.get_json()["message"].startswith(f"workspace 'remote': cannot mount {UNREACHABLE}: ")
        assert str(settings.home) not in resp.get_data(as_text=True)
    resp = client.get(f"/api/workspaces/{workspace.id}/")
    assert resp.status_code == 200 and resp.get_json()["name"] == "remote"


def test_a_bad_path_is_refused_before_any_mount(client, workspace, mount_calls):
    resp = client.get(f"/api/workspaces/{workspace.id}/files/a/../../etc/passwd")
    assert resp.status_code == 400
    assert mount_calls == []


def test_an_existing_mount_is_used_without_running_mount(workspace, tmpfs, tmp_path, mount_calls):
    local = tmp_path / "local.txt"
    local.write_bytes(b"on the export\n")
    broker = broker_for(workspace)
    assert isinstance(broker, NfsBroker)
    assert broker.store(local, "in/a.txt") == "in/a.txt"
    assert (tmpfs / "in" / "a.txt").read_bytes() == b"on the export\n"
    broker.retrieve("in/a.txt", tmp_path / "back" / "a.txt")
    assert (tmp_path / "back" / "a.txt").read_bytes() == b"on the export\n"
    assert broker.move("in/a.txt", "done/b.txt") == "done/b.txt"
    assert broker.exists("done/b.txt") and not broker.exists("in/a.txt") and broker.size("done/b.txt") == 14
    with broker_for(workspace).open_read("done/b.txt") as handle:  # a new broker finds the mount too
        assert handle.read() == b"on the export\n"
    broker.delete("done/b.txt")
    assert not (tmpfs / "done" / "b.txt").exists()
    broker.store(local, "kept.txt")
    assert mount_calls == []
    subprocess.run(["umount", str(tmpfs)], check=True, timeout=30)
    assert not (tmpfs / "kept.txt").exists()  # it was on the mounted filesystem, not under it


def test_a_symlink_out_of_the_mount_is_refused(workspace, tmpfs, tmp_path):
    (tmp_path / "secret.txt").write_text("secret")
    (tmpfs / "escape").symlink_to(tmp_path)
    with pytest.raises(ValidationError, match="resolves outside the workspace"):
        broker_for(workspace).retrieve("escape/secret.txt", tmp_path / "stolen.txt")
    assert not (tmp_path / "stolen.txt").exists()


def test_a_file_on_a_mounted_workspace_downloads(client, workspace, tmpfs):
    (tmpfs / "scene.png").write_bytes(b"\x89PNG")
    resp = client.get(f"/api/workspaces/{workspace.id}/files/scene.png")
    assert resp.status_code == 200
    assert resp.data == b"\x89PNG" and resp.mimetype == "image/png"


def test_a_mounted_workspace_reports_its_file_systems_sizes_and_an_unmounted_one_null(client, workspace, tmpfs,
                                                                                      mount_calls):
    (tmpfs / "scene.png").write_bytes(b"\0" * 1024 * 1024)
    body = client.get(f"/api/workspaces/{workspace.id}/").get_json()
    assert body["total_size"] == 4 * 1024 * 1024  # the tmpfs's size=4m, in bytes
    assert body["used_size"] == 1024 * 1024
    subprocess.run(["umount", str(tmpfs)], check=True, timeout=30)
    listed = client.get("/api/workspaces/").get_json()["results"]
    assert [(w["used_size"], w["total_size"]) for w in listed if w["id"] == workspace.id] == [(None, None)]
    assert [argv for argv in mount_calls if argv[0] == "mount"] == []  # reading the figures never mounts
