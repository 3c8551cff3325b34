"""The ingest service (scale/ingest/{transfers,service,tidy}.py) on both backends, against real files: rules,
DEFERRED, DUPLICATE, idempotence, crash resumption, and each fault ending ERRORED with its
reason and the file kept (vanished, half-copied, unreadable, full or read-only workspace)."""

from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from scale.db import make_engine
from scale.ingest import service, tidy, transfers
from scale.ingest.transfers import CompletedFile
from scale.models.files import ScaleFile
from scale.models.ingest import Ingest, IngestStatus, Strike
from scale.models.workspaces import Workspace
from scale.specs import strike_configuration
from tests.factories import count, host_workspace
from tests.helpers import statements

NOW = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


def strike_config(mount: Path, *rules: tuple[str, str, str]) -> dict:
    return {"version": "1.0", "mount": str(mount), "transfer_suffix": "_tmp", "files_to_ingest": [
        {"filename_regex": regex, "workspace_path": path, "workspace_name": ws, "data_types": ["tag"]}
        for regex, path, ws in rules]}


@pytest.fixture
def mount(tmp_path: Path) -> Path:
    directory = tmp_path / "incoming"
    for folder in ("", *tidy.STRIKE_DIRS):
        (directory / folder).mkdir(exist_ok=True)
    return directory


@pytest.fixture
def workspace(db, tmp_path: Path) -> Workspace:
    return host_workspace(db, tmp_path / "ws")


@pytest.fixture
def strike(db, mount: Path, workspace: Workspace) -> Strike:
    strike = Strike(name="landing", configuration=strike_config(mount, (r".*\.txt$", "/raw/in", "raw")))
    db.add(strike)
    db.flush()
    return strike


def land(db, strike: Strike, mount: Path, name: str, content: bytes = b"hello\n") -> Ingest:
    """A file that landed and completed: TRANSFERRED, moved into ingesting/ as the monitor does."""
    path = mount / name
    path.write_bytes(content)
    config = strike_configuration.parse(strike.configuration, home=None)
    [row] = transfers.register_files(db, strike.id, config, [CompletedFile(name, path, len(content))], mount_dir=mount)
    if row.status == IngestStatus.TRANSFERRED:
        path.rename(row.ingest_path)
    db.flush()
    return row


def test_register_files_applies_the_first_matching_rule(db, strike, mount, workspace):
    config = strike_configuration.parse(strike_config(mount, (r"a.*", "first", "raw"), (r".*", "second", "raw")),
                                        home=None)
    [row] = transfers.register_files(db, strike.id, config, [CompletedFile("a.txt", mount / "a.txt", 6)],
                                     mount_dir=mount)
    assert row.status == IngestStatus.TRANSFERRED
    assert (row.workspace_id, row.data_type, row.media_type, row.file_size) == (workspace.id, ["tag"], "text/plain", 6)
    day = row.transfer_ended
    assert row.file_path == f"first/{day:%Y}/{day:%m}/{day:%d}/a.txt"
    assert row.ingest_path == str(mount / "ingesting" / "a.txt")
    assert row.transfer_path == str(mount / "a.txt")


def test_workspace_file_path_uses_the_utc_date_and_drops_slashes(mount):
    rule = strike_configuration.parse(strike_config(mount, (".*", "/wrksp/path/", "raw")), home=None).files_to_ingest[0]
    assert transfers.workspace_file_path(rule, "f.h5", NOW) == "wrksp/path/2026/03/04/f.h5"
    late = dt.datetime(2026, 3, 4, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert transfers.workspace_file_path(rule, "f.h5", late) == "wrksp/path/2026/03/05/f.h5"
    root = strike_configuration.parse(strike_config(mount, (".*", "", "raw")), home=None).files_to_ingest[0]
    assert transfers.workspace_file_path(root, "f.h5", NOW) == "2026/03/04/f.h5"


def test_register_files_defers_a_file_no_rule_matches(db, strike, mount):
    row = land(db, strike, mount, "notes.csv")
    assert row.status == IngestStatus.DEFERRED
    assert row.workspace_id is None and row.ingest_path is None
    assert (mount / "notes.csv").exists()


def test_register_files_errors_when_the_rule_names_a_missing_workspace(db, strike, mount):
    strike.configuration = strike_config(mount, (".*", "x", "gone"))
    row = land(db, strike, mount, "a.txt")
    assert row.status == IngestStatus.ERRORED
    assert "'gone' does not exist" in row.error
    assert (mount / "a.txt").exists()


def test_ingest_file_stores_the_file_and_registers_the_source(db, sessions, strike, mount, workspace, tmp_path):
    row = land(db, strike, mount, "a.txt", b"some bytes\n")
    result = service.ingest_file(sessions, row.id)
    db.expire_all()
    ingest = db.get(Ingest, row.id)
    assert result.outcome == "INGESTED" and ingest.status == IngestStatus.INGESTED
    source = db.get(ScaleFile, result.source_file_id)
    assert ingest.source_file_id == source.id
    assert (source.file_type, source.file_name, source.media_type, source.file_size) == (
        "SOURCE", "a.txt", "text/plain", 11)
    assert source.uuid == hashlib.md5(b"some bytes\n").hexdigest()
    assert source.data_type == ["tag"] and source.workspace_id == workspace.id
    assert (tmp_path / "ws" / source.file_path).read_bytes() == b"some bytes\n"
    assert ingest.ingest_started is not None and ingest.ingest_ended >= ingest.ingest_started
    assert not Path(ingest.ingest_path).exists()  # the original left the Strike directory


def test_ingest_file_again_changes_nothing(db, sessions, strike, mount):
    row = land(db, strike, mount, "a.txt")
    first = service.ingest_file(sessions, row.id)
    second = service.ingest_file(sessions, row.id)
    assert (first.outcome, second.outcome) == ("INGESTED", "NOTHING_TO_DO")
    assert second.source_file_id == first.source_file_id
    assert count(db, ScaleFile) == 1


def test_same_name_again_is_duplicate_and_overwrites_nothing(db, sessions, strike, mount, tmp_path):
    first = land(db, strike, mount, "a.txt", b"original")
    service.ingest_file(sessions, first.id)
    second = land(db, strike, mount, "a.txt", b"impostor")
    assert service.ingest_file(sessions, second.id).outcome == "DUPLICATE"
    db.expire_all()
    assert db.get(Ingest, second.id).status == IngestStatus.DUPLICATE
    stored = db.scalars(select(ScaleFile)).one()
    assert (tmp_path / "ws" / stored.file_path).read_bytes() == b"original"
    assert (mount / "duplicate" / "a.txt").read_bytes() == b"impostor"  # kept, out of the way


def test_an_interrupted_ingest_is_finished_once(db, sessions, strike, mount, tmp_path):
    """A worker killed mid-copy left the ingest INGESTING and a partial file: redelivery finishes it."""
    row = land(db, strike, mount, "a.txt", b"complete content")
    with sessions.begin() as session:
        service.start_ingests(session, [row.id])
    partial = tmp_path / "ws" / row.file_path
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"compl")
    assert service.ingest_file(sessions, row.id).outcome == "INGESTED"
    assert partial.read_bytes() == b"complete content"
    assert count(db, ScaleFile) == 1
    assert service.ingest_file(sessions, row.id).outcome == "NOTHING_TO_DO"


def test_a_file_the_monitor_did_not_move_before_a_crash_is_moved_and_ingested(db, sessions, strike, mount):
    path = mount / "a.txt"
    path.write_bytes(b"left behind")
    config = strike_configuration.parse(strike.configuration, home=None)
    [row] = transfers.register_files(db, strike.id, config, [CompletedFile("a.txt", path, 11)], mount_dir=mount)
    db.flush()  # TRANSFERRED committed, and the monitor died before its rename
    assert service.ingest_file(sessions, row.id).outcome == "INGESTED"
    assert not path.exists() and not Path(row.ingest_path).exists()
    assert db.scalars(select(ScaleFile)).one().file_size == 11


def test_a_vanished_file_is_errored_with_the_reason(db, sessions, strike, mount):
    row = land(db, strike, mount, "a.txt")
    Path(row.ingest_path).unlink()
    assert service.ingest_file(sessions, row.id).outcome == "ERRORED"
    db.expire_all()
    ingest = db.get(Ingest, row.id)
    assert ingest.status == IngestStatus.ERRORED and "vanished" in ingest.error
    assert count(db, ScaleFile) == 0


def test_a_half_copied_file_is_errored_and_kept(db, sessions, strike, mount, tmp_path):
    row = land(db, strike, mount, "a.txt", b"0123456789")
    Path(row.ingest_path).write_bytes(b"01234")  # cut short after its transfer "ended"
    assert service.ingest_file(sessions, row.id).outcome == "ERRORED"
    db.expire_all()
    assert "has 5 bytes, not the 10" in db.get(Ingest, row.id).error
    assert (mount / "errored" / "a.txt").read_bytes() == b"01234"
    assert not (tmp_path / "ws").exists() and count(db, ScaleFile) == 0


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """Mount small tmpfs file systems (the tests run as root); all unmounted afterwards."""
    mounted: list[Path] = []

    def make(name: str, options: str) -> Path:
        point = tmp_path / name
        point.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], check=True)
        mounted.append(point)
        return point

    yield make
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_a_full_workspace_is_errored_and_nothing_is_lost(db, sessions, strike, mount, workspace, tmpfs):
    root = tmpfs("full", "size=64k")
    workspace.json_config = {"version": "1.0", "broker": {"type": "host", "host_path": str(root)}}
    content = b"x" * 300_000
    row = land(db, strike, mount, "big.txt", content)
    assert service.ingest_file(sessions, row.id).outcome == "ERRORED"
    db.expire_all()
    assert "No space left on device" in db.get(Ingest, row.id).error
    assert (mount / "errored" / "big.txt").read_bytes() == content
    leftovers = [path for path in root.rglob("*") if path.is_file()]
    assert leftovers == []  # no partial file in the workspace


def test_a_read_only_workspace_is_errored_and_the_file_kept(db, sessions, strike, mount, workspace, tmpfs):
    root = tmpfs("readonly", "size=1m,ro")
    workspace.json_config = {"version": "1.0", "broker": {"type": "host", "host_path": str(root)}}
    row = land(db, strike, mount, "a.txt", b"keep me")
    assert service.ingest_file(sessions, row.id).outcome == "ERRORED"
    db.expire_all()
    assert "Read-only file system" in db.get(Ingest, row.id).error
    assert (mount / "errored" / "a.txt").read_bytes() == b"keep me"


@pytest.fixture
def pg_sessions(pg_url: str) -> Iterator[sessionmaker]:
    """Sessions on PostgreSQL inside a rolled-back transaction, whatever the `backend`: the
    unreadable-file test reads as another file-system user, who could not open an SQLite file."""
    engine = make_engine(pg_url)
    with engine.connect() as connection:
        outer = connection.begin()
        yield sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        outer.rollback()
    engine.dispose()


def test_an_unreadable_file_is_errored_and_kept(pg_sessions, mount, tmp_path):
    with pg_sessions.begin() as db:
        host_workspace(db, tmp_path / "ws")
        strike = Strike(name="landing", configuration=strike_config(mount, (r".*", "raw", "raw")))
        db.add(strike)
        db.flush()
        row = land(db, strike, mount, "a.txt", b"secret")
    Path(row.ingest_path).chmod(0)
    # Root reads anything; as the file-system user `nobody` (this thread only) the file is unreadable.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.setfsuid(65534)
    try:
        result = service.ingest_file(pg_sessions, row.id)
    finally:
        libc.setfsuid(0)
    assert result.outcome == "ERRORED"
    with pg_sessions() as db:
        assert "Permission denied" in db.get(Ingest, row.id).error
    # `nobody` could not move it out of the way either: it is kept where it was, and tidied later.
    assert Path(row.ingest_path).read_bytes() == b"secret"
    tidy.settle_files(pg_sessions, [row.id])
    assert (mount / "errored" / "a.txt").read_bytes() == b"secret"


def test_an_ingest_without_an_active_workspace_is_errored(db, sessions, strike, mount, workspace):
    row = land(db, strike, mount, "a.txt")
    workspace.is_active = False
    db.flush()
    assert service.ingest_file(sessions, row.id).outcome == "ERRORED"
    db.expire_all()
    assert "no active workspace" in db.get(Ingest, row.id).error


def test_a_late_redelivery_leaves_a_newer_file_of_the_same_name_alone(db, sessions, strike, mount):
    first = land(db, strike, mount, "a.txt", b"one")
    service.ingest_file(sessions, first.id)
    second = land(db, strike, mount, "a.txt", b"two")  # the same ingest_path, now holding a new file
    assert tidy.file_actions(db, [first.id]) == {}
    tidy.settle_files(sessions, [first.id])
    assert Path(second.ingest_path).read_bytes() == b"two"


def test_ingests_to_resend_finds_only_stuck_in_flight_ingests(db, strike, mount):
    stuck = land(db, strike, mount, "a.txt")
    fresh = land(db, strike, mount, "b.txt")
    deferred = land(db, strike, mount, "c.csv")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    for row in (stuck, deferred):
        row.last_modified = old
    db.flush()
    found = service.ingests_to_resend(db, older_than=dt.timedelta(minutes=1))
    assert stuck.id in found and fresh.id not in found and deferred.id not in found


def test_bulk_transfer_updates_touch_only_transferring_ingests(db, strike, mount):
    [moving] = transfers.start_transfers(db, strike.id, [transfers.Transfer("m.txt", mount / "m.txt_tmp", 1)])
    done = land(db, strike, mount, "d.txt")
    transfers.update_transfers(db, {moving.id: 50, done.id: 99})
    transfers.error_ingests(db, {moving.id: "gone", done.id: "gone"})
    db.expire_all()
    assert (db.get(Ingest, moving.id).bytes_transferred, db.get(Ingest, moving.id).status) == (50, "ERRORED")
    assert (db.get(Ingest, done.id).bytes_transferred, db.get(Ingest, done.id).status) == (6, "TRANSFERRED")


def test_an_unmountable_nfs_workspace_is_errored_and_the_file_kept(db, sessions, strike, mount, workspace, tmp_path):
    from scale.workspaces import brokers

    previous = brokers._mount_root
    brokers.configure(mount_root=tmp_path / "mounts")
    try:
        workspace.json_config = {"version": "1.0", "broker": {"type": "nfs", "mount": "127.0.0.1:/nonexistent"}}
        row = land(db, strike, mount, "a.txt", b"precious")
        assert service.ingest_file(sessions, row.id).outcome == "ERRORED"
    finally:
        brokers.configure(mount_root=previous)
    db.expire_all()
    error = db.get(Ingest, row.id).error
    assert "workspace 'raw'" in error and "127.0.0.1:/nonexistent" in error
    assert (mount / "errored" / "a.txt").read_bytes() == b"precious"


def test_a_batch_of_twenty_costs_a_fixed_handful_of_statements(db, sessions, connection, backend, strike, mount):
    """Set-based: the batch's statements do not grow with its files (storing them one by one took 10 a file)."""
    rows = [land(db, strike, mount, f"f{number:02d}.txt") for number in range(20)]
    with statements(connection) as seen:
        results = service.ingest_files(sessions, [row.id for row in rows])
    assert [result.outcome for result in results.values()] == ["INGESTED"] * 20
    assert count(db, ScaleFile) == 20 and not any((mount / "ingesting").iterdir())
    # Two transactions, each a lock, a few reads and one write per table. SQLite cannot hand
    # back a multi-row INSERT's ids in order (no insert sentinel), so there the sources are
    # inserted one by one: in process, no round trips.
    inserts_per_file = 1 if backend == "sqlite" else 0
    assert len(seen) <= 10 + 20 * inserts_per_file, "\n".join(s[:90] for s in seen)


def test_a_name_twice_in_one_batch_is_stored_once(db, sessions, strike, mount):
    first = land(db, strike, mount, "a.txt", b"one")
    second = land(db, strike, mount, "a.txt", b"two")  # the same name, and the same ingesting/ path
    results = service.ingest_files(sessions, [second.id, first.id])
    assert (results[first.id].outcome, results[second.id].outcome) == ("INGESTED", "DUPLICATE")
    assert count(db, ScaleFile) == 1
    assert (mount / "duplicate" / "a.txt").read_bytes() == b"two"  # only the newest ingest of the path moves it


def test_a_strike_directory_swapped_before_the_ingest_reads_nothing_outside(db, sessions, strike, mount, tmp_path):
    """The file was recorded in `<mount>/ingesting/`; the directory was then swapped for a symlink
    to a look-alike holding another file of that name. It is neither stored nor moved nor removed."""
    row = land(db, strike, mount, "a.txt")
    outside = tmp_path / "outside"
    (outside / "ingesting").mkdir(parents=True)
    (outside / "ingesting" / "a.txt").write_bytes(b"secret")
    mount.rename(tmp_path / "real")
    mount.symlink_to(outside)
    result = service.ingest_file(sessions, row.id)
    assert result.outcome == "ERRORED"
    db.expire_all()
    assert f"{mount} is a symlink" in db.get(Ingest, row.id).error
    assert db.scalars(select(ScaleFile)).all() == []
    assert sorted(path.relative_to(outside).as_posix() for path in outside.rglob("*")) == ["ingesting",
                                                                                           "ingesting/a.txt"]
    assert (outside / "ingesting" / "a.txt").read_bytes() == b"secret"
    assert (tmp_path / "real" / "ingesting" / "a.txt").exists()  # the real file waits for the directory
