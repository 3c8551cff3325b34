"""The Strike monitor (scale/ingest/monitor.py) in a thread, on a real directory and a committed
database (both backends): transfer suffix, settling without one, DEFERRED and a configuration
edit applied without a restart, stalled and vanished transfers, a full directory, restarts, and
deactivation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from scale.ingest import service, tidy
from scale.ingest.monitor import StrikeMonitor
from scale.models.files import ScaleFile
from scale.models.ingest import Ingest, Strike
from scale.models.workspaces import Workspace
from tests.helpers import wait_until

pytestmark = pytest.mark.integration


def configuration(mount: Path, *, suffix: str | None = "_tmp", regex: str = r".*\.txt$|^map$") -> dict:
    doc = {"version": "1.0", "mount": str(mount), "files_to_ingest": [
        {"filename_regex": regex, "workspace_path": "in", "workspace_name": "raw", "data_types": ["d"]}]}
    if suffix:
        doc["transfer_suffix"] = suffix
    return doc


@pytest.fixture
def mount(tmp_path: Path) -> Path:
    directory = tmp_path / "incoming"
    directory.mkdir()
    return directory


@pytest.fixture
def make_strike(committed_sessions, tmp_path: Path):
    """Makes the workspace `raw` and a Strike; afterwards removes the source files and ingests
    first (truncate_runtime_tables cannot order scale_file, which is on a foreign key cycle)."""
    def make(config: dict) -> int:
        with committed_sessions.begin() as session:
            session.add(Workspace(name="raw", is_active=True, json_config={
                "version": "1.0", "broker": {"type": "host", "host_path": str(tmp_path / "ws")}}))
            strike = Strike(name="landing", configuration=config, is_active=True)
            session.add(strike)
            session.flush()
            return strike.id
    yield make
    with committed_sessions.begin() as session:
        session.execute(delete(Ingest))
        session.execute(delete(ScaleFile))


class Running:
    """A monitor running in a thread; `handed` collects the ids it handed on."""

    def __init__(self, sessions, strike_id: int, tmp_path: Path, **options) -> None:
        self.handed: list[int] = []
        self.monitor = StrikeMonitor(sessions, strike_id, mount_root=tmp_path / "mounts",
                                     on_transferred=self.handed.extend, reload_seconds=0.1, rescan_seconds=0.5,
                                     **options)
        self.exit_code: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.exit_code = self.monitor.run()

    def stop(self) -> None:
        self.monitor.stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


@pytest.fixture
def start(committed_sessions, tmp_path: Path) -> Iterator:
    running: list[Running] = []

    def begin(strike_id: int, **options) -> Running:
        running.append(Running(committed_sessions, strike_id, tmp_path, **options))
        return running[-1]

    yield begin
    for item in running:
        item.stop()


def ingests(sessions) -> list[Ingest]:
    with sessions() as session:
        return list(session.scalars(select(Ingest).order_by(Ingest.id)))


def one_ingest(sessions, status: str, **expected) -> Ingest | None:
    rows = ingests(sessions)
    if len(rows) == 1 and rows[0].status == status and all(getattr(rows[0], k) == v for k, v in expected.items()):
        return rows[0]
    return None


def test_a_suffixed_file_is_transferring_then_transferred(committed_sessions, make_strike, start, mount):
    running = start(make_strike(configuration(mount)))
    (mount / "a.txt_tmp").write_bytes(b"x" * 10)
    wait_until(lambda: one_ingest(committed_sessions, "TRANSFERRING", bytes_transferred=10, file_name="a.txt"),
               what="a TRANSFERRING ingest of 10 bytes")
    with (mount / "a.txt_tmp").open("ab") as more:
        more.write(b"y" * 5)
    wait_until(lambda: one_ingest(committed_sessions, "TRANSFERRING", bytes_transferred=15),
               what="bytes_transferred to follow the file")
    (mount / "a.txt_tmp").rename(mount / "a.txt")
    row = wait_until(lambda: one_ingest(committed_sessions, "TRANSFERRED", file_size=15),
                     what="the ingest to be TRANSFERRED")
    # Handed on after the move into ingesting/, which follows the commit.
    wait_until(lambda: running.handed == [row.id], what="the ingest to be handed on once")
    assert (mount / "ingesting" / "a.txt").read_bytes() == b"x" * 10 + b"y" * 5
    assert not (mount / "a.txt").exists()
    assert row.transfer_ended >= row.transfer_started and row.data_type == ["d"]
    assert row.file_path.startswith("in/") and row.file_path.endswith("/a.txt")


def test_the_suffix_is_removed_as_a_suffix_not_as_characters(committed_sessions, make_strike, start, mount):
    running = start(make_strike(configuration(mount)))
    (mount / "map_tmp").write_bytes(b"m")
    wait_until(lambda: one_ingest(committed_sessions, "TRANSFERRING", file_name="map"), what="file_name map")
    (mount / "map_tmp").rename(mount / "map")  # rstrip("_tmp") would have made it "ma"
    wait_until(lambda: one_ingest(committed_sessions, "TRANSFERRED", file_name="map"), what="map TRANSFERRED")
    wait_until(lambda: running.handed, what="map handed on")
    assert (mount / "ingesting" / "map").exists()


def test_without_a_suffix_a_file_is_complete_once_stable(committed_sessions, make_strike, start, mount):
    running = start(make_strike(configuration(mount, suffix=None)), settle_seconds=1.0)
    (mount / "b.txt").write_bytes(b"abc")
    wait_until(lambda: one_ingest(committed_sessions, "TRANSFERRING", bytes_transferred=3),
               what="TRANSFERRING while it settles")
    with (mount / "b.txt").open("ab") as more:
        more.write(b"def")
    row = wait_until(lambda: one_ingest(committed_sessions, "TRANSFERRED", file_size=6),
                     what="TRANSFERRED once stable")
    assert (row.transfer_ended - row.transfer_started).total_seconds() >= 1.0
    wait_until(lambda: running.handed == [row.id], what="b.txt handed on")
    assert (mount / "ingesting" / "b.txt").read_bytes() == b"abcdef"


def test_an_unmatched_file_is_deferred_until_an_edit_adds_a_rule(committed_sessions, make_strike, start, mount):
    strike_id = make_strike(configuration(mount))
    running = start(strike_id)
    (mount / "notes.csv").write_bytes(b"a,b")
    deferred = wait_until(lambda: one_ingest(committed_sessions, "DEFERRED"), what="a DEFERRED ingest")
    assert (mount / "notes.csv").exists() and running.handed == []
    with committed_sessions.begin() as session:
        session.get(Strike, strike_id).configuration = configuration(mount, regex=r".*\.csv$")
    row = wait_until(lambda: one_ingest(committed_sessions, "TRANSFERRED"), what="the edit to apply without a restart")
    assert row.id == deferred.id
    wait_until(lambda: running.handed == [row.id], what="the ingest to be handed on")
    assert (mount / "ingesting" / "notes.csv").exists()
    assert running.thread.is_alive()


def test_a_stalled_transfer_is_errored_and_the_file_kept(committed_sessions, make_strike, start, mount):
    start(make_strike(configuration(mount)), stall_seconds=1.0)
    (mount / "c.txt_tmp").write_bytes(b"half")
    row = wait_until(lambda: one_ingest(committed_sessions, "ERRORED"), what="the stalled transfer ERRORED")
    assert "stalled" in row.error and row.bytes_transferred == 4
    assert (mount / "c.txt_tmp").read_bytes() == b"half"
    (mount / "other.txt").write_bytes(b"o")  # the monitor carries on, and leaves c.txt_tmp alone
    wait_until(lambda: [r.status for r in ingests(committed_sessions)] == ["ERRORED", "TRANSFERRED"],
               what="the next file to be transferred")


def test_a_file_that_vanishes_mid_transfer_is_errored(committed_sessions, make_strike, start, mount):
    start(make_strike(configuration(mount)))
    (mount / "d.txt_tmp").write_bytes(b"d")
    wait_until(lambda: one_ingest(committed_sessions, "TRANSFERRING"), what="TRANSFERRING")
    (mount / "d.txt_tmp").unlink()
    row = wait_until(lambda: one_ingest(committed_sessions, "ERRORED"), what="the vanished file ERRORED")
    assert "vanished" in row.error


def test_a_strike_over_a_full_directory_takes_every_file_once(committed_sessions, make_strike, start, mount):
    for index in range(40):
        (mount / f"f{index:02}.txt").write_bytes(b"%d" % index)
    (mount / ".hidden.txt").write_bytes(b"h")
    (mount / "sub").mkdir()
    (mount / "sub" / "deep.txt").write_bytes(b"s")
    running = start(make_strike(configuration(mount)))
    wait_until(lambda: len(running.handed) == 40, what="all 40 files handed on")
    rows = ingests(committed_sessions)
    assert sorted(row.file_name for row in rows) == [f"f{index:02}.txt" for index in range(40)]
    assert {row.status for row in rows} == {"TRANSFERRED"} and sorted(running.handed) == [row.id for row in rows]
    assert (mount / ".hidden.txt").exists() and (mount / "sub" / "deep.txt").exists()


def test_a_restart_resumes_without_taking_finished_files_again(committed_sessions, make_strike, start, mount):
    strike_id = make_strike(configuration(mount))
    first = start(strike_id)
    (mount / "a.txt").write_bytes(b"a")
    (mount / "b.txt").write_bytes(b"b")
    wait_until(lambda: len(first.handed) == 2, what="two files handed on")
    done = service.ingest_file(committed_sessions, first.handed[0])  # one finished, one still in flight
    assert done.outcome == "INGESTED"
    (mount / "c.txt_tmp").write_bytes(b"c")
    wait_until(lambda: any(r.status == "TRANSFERRING" for r in ingests(committed_sessions)), what="c TRANSFERRING")
    first.stop()
    (mount / "c.txt_tmp").rename(mount / "c.txt")  # completed while no monitor ran

    second = start(strike_id)
    in_flight = first.handed[1]
    wait_until(lambda: in_flight in second.handed and len(second.handed) == 2,
               what="the in-flight ingest handed on again and c transferred")
    rows = ingests(committed_sessions)
    # The TRANSFERRING row of c was reused, and a (INGESTED) was not taken again.
    assert sorted((row.file_name, row.status) for row in rows) == [
        ("a.txt", "INGESTED") if first.handed[0] < in_flight else ("a.txt", "TRANSFERRED"),
        ("b.txt", "TRANSFERRED") if first.handed[0] < in_flight else ("b.txt", "INGESTED"),
        ("c.txt", "TRANSFERRED")]
    assert all(service.ingest_file(committed_sessions, ingest_id).outcome == "INGESTED" for ingest_id in second.handed)


def test_a_newcomer_waits_while_its_name_is_being_ingested(committed_sessions, make_strike, start, mount):
    strike_id = make_strike(configuration(mount))
    running = start(strike_id)
    (mount / "a.txt").write_bytes(b"first")
    wait_until(lambda: len(running.handed) == 1, what="the first a.txt handed on")
    (mount / "a.txt").write_bytes(b"second")
    scans = running.monitor.scans
    wait_until(lambda: running.monitor.scans >= scans + 2, what="two more scans")
    assert len(ingests(committed_sessions)) == 1 and (mount / "ingesting" / "a.txt").read_bytes() == b"first"
    service.ingest_file(committed_sessions, running.handed[0])
    wait_until(lambda: len(running.handed) == 2, what="the newcomer handed on once the first left")
    assert service.ingest_file(committed_sessions, running.handed[1]).outcome == "DUPLICATE"
    assert (mount / "duplicate" / "a.txt").read_bytes() == b"second"


def test_deactivating_the_strike_ends_the_monitor(committed_sessions, make_strike, start, mount):
    strike_id = make_strike(configuration(mount))
    running = start(strike_id)
    (mount / "a.txt").write_bytes(b"a")
    wait_until(lambda: running.handed, what="the monitor to be working")
    with committed_sessions.begin() as session:
        session.get(Strike, strike_id).is_active = False
    running.thread.join(timeout=10)
    assert not running.thread.is_alive() and running.exit_code == 0


def test_after_a_restart_a_stalled_file_stays_alone_until_it_changes(committed_sessions, make_strike, start, mount):
    strike_id = make_strike(configuration(mount))
    first = start(strike_id, stall_seconds=1.0)
    (mount / "s.txt_tmp").write_bytes(b"stuck")
    wait_until(lambda: one_ingest(committed_sessions, "ERRORED"), what="the stalled transfer ERRORED")
    first.stop()
    second = start(strike_id)
    scans = second.monitor.scans
    wait_until(lambda: second.monitor.scans >= scans + 2, what="two scans after the restart")
    assert len(ingests(committed_sessions)) == 1
    with (mount / "s.txt_tmp").open("ab") as more:
        more.write(b" no more")
    wait_until(lambda: [(r.status, r.bytes_transferred) for r in ingests(committed_sessions)] == [
        ("ERRORED", 5), ("TRANSFERRING", 13)], what="a new transfer once the file changed")


def test_an_edit_of_the_transfer_suffix_completes_files_it_no_longer_marks(committed_sessions, make_strike, start,
                                                                           mount):
    strike_id = make_strike(configuration(mount, suffix="_tmp"))
    running = start(strike_id)
    (mount / "e.txt_tmp").write_bytes(b"e")
    transferring = wait_until(lambda: one_ingest(committed_sessions, "TRANSFERRING"), what="e.txt_tmp TRANSFERRING")
    with committed_sessions.begin() as session:
        session.get(Strike, strike_id).configuration = configuration(mount, suffix=".part", regex=".*")
    row = wait_until(lambda: one_ingest(committed_sessions, "TRANSFERRED"), what="the unsuffixed file TRANSFERRED")
    assert (row.id, row.file_name) == (transferring.id, "e.txt_tmp")
    wait_until(lambda: running.handed == [row.id], what="it handed on")
    wait_until(lambda: running.monitor.files is not None and not running.monitor.files.tracked,
               what="nothing left tracked")


def test_a_directory_swapped_for_a_symlink_is_left_alone_until_it_comes_back(committed_sessions, make_strike, start,
                                                                              mount, tmp_path, caplog):
    running = start(make_strike(configuration(mount)))
    wait_until(lambda: running.monitor.directory is not None and running.monitor.scans >= 1, what="the first scan")
    outside = tmp_path / "outside"
    for folder in ("", *tidy.STRIKE_DIRS):
        (outside / folder).mkdir(exist_ok=True)
    (outside / "secret.txt").write_bytes(b"secret")
    mount.rename(tmp_path / "real")
    mount.symlink_to(outside)
    scans = running.monitor.scans
    wait_until(lambda: running.monitor.scans >= scans + 3, what="three scans while the directory is a symlink")
    assert (outside / "secret.txt").read_bytes() == b"secret"
    assert [path.name for path in outside.rglob("*") if path.is_file()] == ["secret.txt"]
    assert ingests(committed_sessions) == [] and running.handed == []
    assert f"refusing to touch {mount}: {mount} is a symlink" in caplog.text
    assert running.thread.is_alive()
    mount.unlink()
    (tmp_path / "real").rename(mount)
    (mount / "a.txt").write_bytes(b"a")
    row = wait_until(lambda: one_ingest(committed_sessions, "TRANSFERRED", file_name="a.txt"),
                     what="the restored directory to be watched again")
    wait_until(lambda: running.handed == [row.id], what="the file to be handed on")
    assert (mount / "ingesting" / "a.txt").read_bytes() == b"a"
    assert (outside / "secret.txt").read_bytes() == b"secret"


def test_a_directory_of_33000_files_is_taken_and_tidied_without_a_crash(committed_sessions, make_strike, start,
                                                                        mount):
    """The tidy looked up every name in `ingesting/` in one statement, two parameters a name: at
    33,000 files that is over PostgreSQL's 65,535 (and SQLite's 32,766), and the monitor died
    (bench/ingest --files 50000). It asks in slices now."""
    files = 33_000
    strike_id = make_strike(configuration(mount))
    for index in range(files):
        (mount / f"f{index:05d}.txt").write_bytes(b"")
    running = start(strike_id)
    wait_until(lambda: len(running.handed) == files, what="every file handed on", timeout=120)
    scans = running.monitor.scans
    wait_until(lambda: running.monitor.scans > scans + 2, what="rescans and tidies of the full ingesting/",
               timeout=30)
    assert running.thread.is_alive()
    assert len(list((mount / "ingesting").iterdir())) == files
