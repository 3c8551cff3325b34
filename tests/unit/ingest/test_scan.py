"""Scans (scale/ingest/scan.py) on both backends over real directories and workspaces: dry runs
write nothing, every file is ingested once, directory scans leave the originals, workspace scans
register in place or copy, and bad configurations name their field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from scale.exceptions import ValidationError
from scale.ingest import scan as scan_module
from scale.ingest import service
from scale.ingest.commands import ScanConfiguration
from scale.ingest.scan import scan
from scale.models.files import ScaleFile
from scale.models.ingest import Ingest
from tests.factories import count, host_workspace, make_file
from tests.helpers import open_folder, unprivileged_files


def directory_config(mount: Path, **extra) -> dict:
    return {"mount": str(mount), "transfer_suffix": "_tmp", "files_to_ingest": [
        {"filename_regex": r".*\.txt$", "workspace_path": "/scanned", "workspace_name": "raw", "data_types": ["s"]}],
        **extra}


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    folder = tmp_path / "old"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.csv", ".hidden.txt", "d.txt_tmp"):
        (folder / name).write_text(name)
    (folder / "sub").mkdir()
    (folder / "sub" / "e.txt").write_text("e")
    return folder


@pytest.fixture
def workspace(db, tmp_path: Path):
    return host_workspace(db, tmp_path / "ws")


def run(db, config, tmp_path: Path, *, dry_run: bool):
    return scan(db, ScanConfiguration.from_json(config, home=tmp_path / "home"), dry_run=dry_run,
                mount_root=tmp_path / "mounts")


def test_a_dry_run_lists_what_would_be_ingested_and_writes_nothing(db, directory, workspace, tmp_path):
    make_file(db, workspace, file_name="b.txt")  # already a source file
    items = run(db, directory_config(directory), tmp_path, dry_run=True)
    assert [(item.file_name, item.status) for item in items] == [
        ("a.txt", "INGEST"), ("b.txt", "DUPLICATE"), ("c.csv", "NO_RULE")]
    first = items[0]
    assert (first.workspace, first.rule, first.path, first.ingest_id) == ("raw", r".*\.txt$", str(directory / "a.txt"),
                                                                         None)
    assert first.file_path.startswith("scanned/") and first.file_path.endswith("/a.txt")
    assert count(db, Ingest) == 0


def test_a_directory_scan_ingests_each_file_once_and_leaves_the_originals(db, sessions, directory, workspace,
                                                                          tmp_path):
    items = run(db, directory_config(directory), tmp_path, dry_run=False)
    ids = [item.ingest_id for item in items if item.status == "INGEST"]
    assert len(ids) == 2
    db.flush()
    # A second scan before the first is stored: those names are already on their way.
    assert {item.status for item in run(db, directory_config(directory), tmp_path, dry_run=False)} == {
        "DUPLICATE", "NO_RULE"}
    assert [service.ingest_file(sessions, ingest_id).outcome for ingest_id in ids] == ["INGESTED", "INGESTED"]
    sources = db.scalars(select(ScaleFile).order_by(ScaleFile.file_name)).all()
    assert [source.file_name for source in sources] == ["a.txt", "b.txt"]
    assert (tmp_path / "ws" / sources[0].file_path).read_text() == "a.txt" and sources[0].data_type == ["s"]
    assert (directory / "a.txt").read_text() == "a.txt"  # the original stays
    assert count(db, Ingest) == 2
    assert {item.status for item in run(db, directory_config(directory), tmp_path, dry_run=False)} == {
        "DUPLICATE", "NO_RULE"}


def test_a_workspace_scan_registers_in_place_and_skips_known_files(db, sessions, workspace, tmp_path):
    root = tmp_path / "ws"
    (root / "deep" / "er").mkdir(parents=True)
    (root / "deep" / "er" / "x.txt").write_text("x")
    (root / "y.txt").write_text("y")
    (root / ".y.txt.abc.part").write_text("half")  # a broker's write in progress
    make_file(db, workspace, file_name="known.txt", file_path="y.txt")
    config = {"workspace": "raw", "files_to_ingest": [
        {"filename_regex": r".*\.txt$", "workspace_path": "unused", "workspace_name": "raw"}]}
    items = run(db, config, tmp_path, dry_run=False)
    assert [(item.path, item.status) for item in items] == [("deep/er/x.txt", "INGEST"), ("y.txt", "REGISTERED")]
    assert service.ingest_file(sessions, items[0].ingest_id).outcome == "INGESTED"
    source = db.scalars(select(ScaleFile).where(ScaleFile.file_name == "x.txt")).one()
    assert (source.file_path, source.workspace_id, source.file_size) == ("deep/er/x.txt", workspace.id, 1)
    assert (root / "deep" / "er" / "x.txt").read_text() == "x"  # registered where it is
    assert [item.status for item in run(db, config, tmp_path, dry_run=True)] == ["REGISTERED", "REGISTERED"]


def test_a_workspace_scan_copies_into_another_rules_workspace(db, sessions, workspace, tmp_path):
    host_workspace(db, tmp_path / "archive", name="archive")
    (tmp_path / "archive" / "z.txt").parent.mkdir(parents=True)
    (tmp_path / "archive" / "z.txt").write_text("z")
    config = {"workspace": "archive", "files_to_ingest": [
        {"filename_regex": ".*", "workspace_path": "copied", "workspace_name": "raw"}]}
    [item] = run(db, config, tmp_path, dry_run=False)
    assert service.ingest_file(sessions, item.ingest_id).outcome == "INGESTED"
    source = db.scalars(select(ScaleFile)).one()
    assert source.workspace_id == workspace.id and (tmp_path / "ws" / source.file_path).read_text() == "z"
    assert (tmp_path / "archive" / "z.txt").exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"files_to_ingest": [{"filename_regex": "(", "workspace_path": "p", "workspace_name": "raw"}]},
     "configuration.files_to_ingest[0].filename_regex"),
    ({"files_to_ingest": [{"filename_regex": ".*", "workspace_path": "p", "workspace_name": "nope"}]},
     "configuration.files_to_ingest[0].workspace_name"),
    ({"files_to_ingest": [{"filename_regex": ".*", "workspace_path": "../out", "workspace_name": "raw"}]},
     "configuration.files_to_ingest[0].workspace_path"),
    ({"mount": "/no/such/directory"}, "configuration.mount"),
    ({"mount": "relative/dir"}, "configuration.mount"),
    ({"workspace": "raw"}, "configuration.workspace"),
])
def test_a_bad_configuration_names_its_field_and_writes_nothing(db, directory, workspace, tmp_path, change, field):
    with pytest.raises(ValidationError) as raised:
        run(db, {**directory_config(directory), **change}, tmp_path, dry_run=False)
    assert raised.value.field == field
    assert count(db, Ingest) == 0


def test_a_workspace_scan_of_an_unknown_workspace_is_refused(db, workspace, tmp_path):
    config = {"workspace": "ghost", "files_to_ingest": [
        {"filename_regex": ".*", "workspace_path": "p", "workspace_name": "raw"}]}
    with pytest.raises(ValidationError) as raised:
        run(db, config, tmp_path, dry_run=True)
    assert raised.value.field == "configuration.workspace"


def test_scale_scan_dry_run_prints_each_file(tmp_path, directory):
    from click.testing import CliRunner

    from cli.main import main
    from scale import migrate
    from scale.db import make_engine, make_sessions
    from scale.settings import Settings

    home = tmp_path / "home"
    home.mkdir()
    settings = Settings.embedded(home)
    migrate.upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    with make_sessions(engine).begin() as session:
        host_workspace(session, tmp_path / "ws")
    engine.dispose()
    config = tmp_path / "scan.json"
    config.write_text(json.dumps(directory_config(directory)))
    env = {"SCALE_DATABASE_URL": settings.database_url, "SCALE_BROKER_URL": settings.broker_url}
    result = CliRunner().invoke(main, ["scan", str(config), "--dry-run", "--home", str(home)], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("INGEST") and str(directory / "a.txt") in lines[0] and "-> raw:scanned/" in lines[0]
    assert lines[-1] == "dry run: 2 INGEST, 1 NO_RULE"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**directory_config(directory), "mount": "/no/such"}))
    result = CliRunner().invoke(main, ["scan", str(bad), "--home", str(home)], env=env)
    assert result.exit_code == 1 and "configuration.mount" in result.output


def test_a_workspace_scan_skips_what_it_cannot_read_with_warnings(db, tmp_path, caplog):
    with open_folder() as root:
        host_workspace(db, root / "ws", name="open")
        (root / "ws" / "listed-only").mkdir(parents=True)
        (root / "ws" / "listed-only" / "hidden-from-stat.txt").write_text("x")
        (root / "ws" / "listed-only").chmod(0o644)  # may be listed, not searched: lstat fails
        (root / "ws" / "closed").mkdir()
        (root / "ws" / "closed" / "z.txt").write_text("z")
        (root / "ws" / "closed").chmod(0)  # may not even be listed
        (root / "ws" / "secret.txt").write_text("s")
        (root / "ws" / "secret.txt").chmod(0)
        (root / "ws" / "ok.txt").write_text("ok")
        config = {"workspace": "open", "files_to_ingest": [
            {"filename_regex": ".*", "workspace_path": "p", "workspace_name": "open"}]}
        with unprivileged_files():
            items = run(db, config, tmp_path, dry_run=True)
        assert [item.path for item in items] == ["ok.txt"]
        warned = " ".join(record.getMessage() for record in caplog.records if record.levelname == "WARNING")
        for name in ("hidden-from-stat.txt", "closed", "secret.txt"):
            assert name in warned


def test_a_directory_swapped_after_its_configuration_was_checked_is_refused_when_listed(db, directory, workspace,
                                                                                         tmp_path, monkeypatch):
    """The directory passed the configuration's checks, then became a symlink before the listing."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    real_directory = scan_module._directory

    def swap_then_return(config, mount_root):
        found = real_directory(config, mount_root)
        directory.rename(tmp_path / "real")
        directory.symlink_to(outside)
        return found

    monkeypatch.setattr(scan_module, "_directory", swap_then_return)
    with pytest.raises(ValidationError, match="has a symlink on its way") as caught:
        run(db, directory_config(directory), tmp_path, dry_run=False)
    assert caught.value.field == "configuration.mount"
    assert count(db, Ingest) == 0
