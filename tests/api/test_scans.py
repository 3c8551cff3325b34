"""POST /api/scans/ (beyond the reference): a dry run lists what would be ingested, a real scan
creates one ingest per new file (and sends its task through the app's broker), a bad
configuration is 400 naming the field, and a scan needs a token."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from scale.ingest import service as ingests
from scale.models.ingest import Ingest
from tests.factories import count, host_workspace
from tests.helpers import closed_port, open_folder, unprivileged_files


@pytest.fixture
def directory(db, tmp_path: Path) -> Path:
    host_workspace(db, tmp_path / "ws")
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "b.bin").write_text("b")
    return folder


def body(directory: Path, *, dry_run: bool | None = None, regex: str = r".*\.txt$") -> dict:
    doc: dict = {"configuration": {"mount": str(directory), "files_to_ingest": [
        {"filename_regex": regex, "workspace_path": "in", "workspace_name": "raw"}]}}
    if dry_run is not None:
        doc["dry_run"] = dry_run
    return doc


def test_a_dry_run_lists_the_files_and_writes_nothing(client, db, token, directory):
    resp = client.post("/api/scans/", json=body(directory, dry_run=True), headers=token)
    assert resp.status_code == 200, resp.get_json()
    data = resp.get_json()
    assert (data["dry_run"], data["count"]) == (True, 2)
    assert [(f["file_name"], f["status"], f["workspace"]) for f in data["files"]] == [
        ("a.txt", "INGEST", "raw"), ("b.bin", "NO_RULE", None)]
    assert data["files"][0]["file_path"].startswith("in/") and data["files"][0]["ingest_id"] is None
    assert count(db, Ingest) == 0


def test_a_scan_creates_one_ingest_per_new_file(client, db, token, directory, settings):
    resp = client.post("/api/scans/", json=body(directory), headers=token)
    assert resp.status_code == 200, resp.get_json()
    [item, _skipped] = resp.get_json()["files"]
    ingest = db.scalars(select(Ingest)).one()
    assert (item["ingest_id"], ingest.status, ingest.strike_id, ingest.file_name) == (
        ingest.id, "TRANSFERRED", None, "a.txt")
    # The ingest task went to the app's (embedded, filesystem) broker, once.
    assert len(list((settings.home / "broker" / "queue").iterdir())) == 1
    again = client.post("/api/scans/", json=body(directory), headers=token).get_json()
    assert [f["status"] for f in again["files"]] == ["DUPLICATE", "NO_RULE"]
    assert count(db, Ingest) == 1


def test_a_broker_that_is_down_does_not_fail_a_committed_scan(db, token, directory, settings, sessions, caplog):
    from api.app import create_app

    client = create_app(replace(settings, broker_url=f"redis://127.0.0.1:{closed_port()}/0"),
                        sessions=sessions).test_client()
    began = time.monotonic()
    resp = client.post("/api/scans/", json=body(directory), headers=token)

    assert resp.status_code == 200, resp.get_json()
    assert time.monotonic() - began < 10
    ingest = db.scalars(select(Ingest)).one()
    assert (resp.get_json()["files"][0]["ingest_id"], ingest.status) == (ingest.id, "TRANSFERRED")
    assert f"lost the send of scale.ingest_files[[{ingest.id}]]" in caplog.text
    # The clock's ingest sweep re-sends it once it has waited long enough.
    assert ingests.ingests_to_resend(db, older_than=dt.timedelta(0)) == [ingest.id]


def test_a_bad_configuration_is_400_naming_the_field(client, db, token, directory):
    resp = client.post("/api/scans/", json=body(directory, regex="(["), headers=token)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "configuration.files_to_ingest[0].filename_regex"
    resp = client.post("/api/scans/", json={"configuration": {}, "dry_run": "yes"}, headers=token)
    assert resp.status_code == 400 and "dry_run" in resp.get_json()["message"]
    assert count(db, Ingest) == 0


def test_a_scan_needs_a_token(client, db, directory):
    assert client.post("/api/scans/", json=body(directory)).status_code == 401
    assert count(db, Ingest) == 0


@pytest.mark.parametrize("mount", ["/", "/etc", "/proc/self", "server:/"])
def test_a_system_directory_is_refused(client, db, token, directory, mount):
    doc = body(directory)
    doc["configuration"]["mount"] = mount
    resp = client.post("/api/scans/", json=doc, headers=token)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "configuration.mount"
    assert count(db, Ingest) == 0


def test_the_scale_home_is_refused(client, db, token, directory, settings):
    (settings.home / "admin-token.txt").parent.mkdir(parents=True, exist_ok=True)
    (settings.home / "admin-token.txt").write_text("secret")
    doc = body(directory)
    doc["configuration"]["mount"] = str(settings.home)
    resp = client.post("/api/scans/", json=doc, headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "configuration.mount"
    assert count(db, Ingest) == 0


@pytest.fixture
def open_directory(db, tmp_path: Path) -> Iterator[Path]:
    """Like `directory`, but where `nobody` may reach it (pytest's tmp_path is private to root)."""
    host_workspace(db, tmp_path / "ws")
    with open_folder() as folder:
        (folder / "a.txt").write_text("a")
        (folder / "b.bin").write_text("b")
        yield folder


def test_an_unreadable_file_is_skipped_with_a_warning(client, db, token, open_directory, caplog):
    (open_directory / "secret.txt").write_text("s")
    (open_directory / "secret.txt").chmod(0)
    with unprivileged_files():  # a dry run: a real one would also send tasks into the (private) home
        resp = client.post("/api/scans/", json=body(open_directory, dry_run=True), headers=token)
    assert resp.status_code == 200, resp.get_json()
    assert [f["file_name"] for f in resp.get_json()["files"]] == ["a.txt", "b.bin"]
    assert any("secret.txt" in record.getMessage() and record.levelname == "WARNING" for record in caplog.records)


def test_a_directory_that_cannot_be_reached_is_400_not_500(client, db, token, directory):
    with unprivileged_files():  # pytest's tmp_path is private to root
        resp = client.post("/api/scans/", json=body(directory), headers=token)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "configuration.mount"
    assert "Permission denied" in resp.get_json()["message"]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory that no scan may reach, holding a file every rule matches."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("secret")
    return folder


def test_a_directory_swapped_for_a_symlink_lists_nothing_from_outside(client, db, token, directory, outside):
    directory.rename(directory.with_name("real"))
    directory.symlink_to(outside)
    resp = client.post("/api/scans/", json=body(directory, dry_run=True), headers=token)
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "configuration.mount"
    assert "secret.txt" not in resp.get_data(as_text=True)
    assert client.post("/api/scans/", json=body(directory), headers=token).status_code == 400
    assert count(db, Ingest) == 0


@pytest.mark.parametrize("swapped", ["the root", "a folder above it"])
def test_a_workspace_whose_root_was_swapped_lists_nothing_from_outside(client, db, token, tmp_path, outside, swapped):
    root = tmp_path / "data" / "ws"
    host_workspace(db, root, name="landing")
    (outside / "ws").mkdir()
    (outside / "ws" / "secret.txt").write_text("secret")
    if swapped == "the root":
        root.parent.mkdir()
        root.symlink_to(outside)
    else:
        root.parent.symlink_to(outside)
    configuration = {"workspace": "landing", "files_to_ingest": [
        {"filename_regex": ".*", "workspace_path": "in", "workspace_name": "landing"}]}
    for dry_run in (True, False):
        resp = client.post("/api/scans/", json={"configuration": configuration, "dry_run": dry_run}, headers=token)
        assert resp.status_code == 403
        assert "its root is not the directory it was configured with" in resp.get_json()["message"]
        assert "secret.txt" not in resp.get_data(as_text=True)
    assert count(db, Ingest) == 0
