"""Ingests: storing each file a Strike (or a scan) found in its workspace, once.

This module is the ingest task's (`ingest_files`) and holds the contract below; the stages
around it have modules of their own: `scale.ingest.transfers` records what the monitor sees,
`scale.ingest.tidy` handles the file on the Strike mount after the ingest.

Life of an ingest (statuses are the reference's):

* the monitor records a file still being copied as TRANSFERRING (`start_transfers`,
  `update_transfers`); once complete, `register_files` applies the first matching rule:
  TRANSFERRED (workspace, data types, `file_path` = `<workspace_path>/YYYY/MM/DD/<name>` by the
  UTC date the transfer ended) or DEFERRED (no rule: the file stays where it is);
* `ingest_files` stores TRANSFERRED files (a batch per task): INGESTING, the bytes into the workspace through its
  broker (atomic), a SOURCE `ScaleFile`, INGESTED. A name that is already a source file (or is
  being ingested by another ingest) is DUPLICATE and nothing is stored. Any failure is ERRORED
  with the reason in `error`, and the file is kept.

Set-based: a batch costs a fixed number of statements, not a number per file (`start_ingests`:
lock, name check, workspaces, one UPDATE; `finish_ingests`: lock, one INSERT of the sources, one
UPDATE; `file_actions`: one query), because the database round trips were the ingest's cost.

Crash safety: the status moves in short transactions (INGESTING is committed before the copy,
INGESTED together with the `ScaleFile`), so a redelivered task either finds the work done (a
no-op) or repeats the copy, which overwrites only its own earlier, uncommitted bytes. Files on
the Strike mount are handled only after the status they follow from has committed
(`file_actions`): the file in `<mount>/ingesting/` of an INGESTED ingest is removed, a
DUPLICATE's is moved to `<mount>/duplicate/`, an ERRORED one's to `<mount>/errored/`. Such an
action is taken only by the newest ingest of that `ingest_path`, so a late redelivery never
touches a newer file of the same name.

The checksum in `ScaleFile.uuid` is the MD5 of the file's bytes (32 hex digits, the column's size).

The boundary (`scale.workspaces.confined`): a file on a Strike's (or a scanned) directory is
reached only by walking its recorded path without following symlinks: the source is opened once
that way, checksummed and stored from that one descriptor, and moves and removals act by name in
folders opened that way. A directory swapped for a symlink since the file was recorded fails the
ingest (ERRORED, logged) and nothing outside it is read, moved or removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import mimetypes
import os
import stat
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from sqlalchemy import or_, select, text, union, update
from sqlalchemy.orm import Session, sessionmaker

from scale.exceptions import ScaleError
from scale.ingest.tidy import exists_in, file_actions, open_folder, tidy_file
from scale.ingest.transfers import DEFAULT_MEDIA_TYPE, IN_FLIGHT
from scale.models.files import ScaleFile, ScaleFileType
from scale.models.ingest import Ingest, IngestStatus
from scale.models.workspaces import Workspace
from scale.timeutil import utcnow
from scale.workspaces import confined
from scale.workspaces.brokers import Broker, broker_for

log = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


class IngestFailure(ScaleError):
    """A file that could not be ingested; the message is the reason kept in `ingest.error`."""


@dataclass(frozen=True)
class IngestWork:
    """What `store_file` needs, read while the ingest row was locked."""

    ingest_id: int
    file_name: str
    source: Path | None  # None: the file is already in the workspace at `file_path` (a workspace scan)
    expected_size: int | None
    transfer_path: Path | None
    workspace_name: str
    broker: Broker
    file_path: str


@dataclass(frozen=True)
class StoredFile:
    file_path: str
    size: int
    checksum: str


IngestOutcome = Literal["INGESTED", "DUPLICATE", "ERRORED", "NOTHING_TO_DO"]


@dataclass(frozen=True)
class IngestResult:
    outcome: IngestOutcome
    source_file_id: int | None = None


def _lock(session: Session, ingest_ids: Collection[int]) -> list[Ingest]:
    """The ingests, locked in id order (one lock order for every batch), read afresh."""
    return list(session.scalars(select(Ingest).where(Ingest.id.in_(sorted(ingest_ids))).order_by(Ingest.id)
                                .with_for_update().execution_options(populate_existing=True)))


def _update(session: Session, changes: Sequence[dict[str, object]]) -> None:
    """One executemany UPDATE of in-flight ingests by id; every change carries the same keys."""
    if changes:
        in_flight = or_(Ingest.status == IngestStatus.TRANSFERRED, Ingest.status == IngestStatus.INGESTING)
        session.execute(update(Ingest).where(in_flight).execution_options(synchronize_session=False), changes)


def names_taken(session: Session, names: Collection[str], *, ingest_statuses: Collection[str]) -> set[str]:
    """Which of `names` are already a (non-deleted) source file, or the name of an ingest in
    one of `ingest_statuses`. One query."""
    if not names:
        return set()
    source = select(ScaleFile.file_name).where(ScaleFile.file_type == ScaleFileType.SOURCE,
                                               ScaleFile.file_name.in_(names), ScaleFile.is_deleted.is_(False))
    other = select(Ingest.file_name).where(Ingest.file_name.in_(names), Ingest.status.in_(ingest_statuses))
    return set(session.execute(union(source, other)).scalars())


def _taken_names(session: Session, names: Collection[str]) -> set[str]:
    """Which of `names` are already a (non-deleted) source file, or are being stored by an INGESTING ingest."""
    if not names:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        # Two ingests of one name check and claim it one after the other (SQLite's BEGIN IMMEDIATE
        # already serialises every writing transaction). The keys are locked in ascending order, a
        # lock order every batch shares, so batches with names in common cannot deadlock.
        session.execute(text("SELECT pg_advisory_xact_lock(k) FROM unnest(ARRAY("
                             "SELECT DISTINCT hashtext(n) FROM unnest(CAST(:names AS text[])) AS n ORDER BY 1)) AS k"),
                        {"names": sorted(names)})
    return names_taken(session, names, ingest_statuses=(IngestStatus.INGESTING,))


def start_ingests(session: Session, ingest_ids: Collection[int]) -> tuple[dict[int, IngestResult], list[IngestWork]]:
    """Lock the ingests and begin storing them, in a fixed number of statements however many
    there are: those to store become INGESTING and come back as work; the others come back as
    results (NOTHING_TO_DO: finished or not ready; DUPLICATE; ERRORED: no usable workspace).

    A TRANSFERRED ingest whose name is a source file, or is INGESTING under another ingest
    (one of this batch with a lower id included), is a DUPLICATE."""
    results = {ingest_id: IngestResult("NOTHING_TO_DO") for ingest_id in ingest_ids}
    rows = _lock(session, results)
    live = [row for row in rows if row.status in IN_FLIGHT]
    for row in rows:
        if row.status not in IN_FLIGHT:
            results[row.id] = IngestResult("NOTHING_TO_DO", row.source_file_id)
    if not live:
        return results, []
    taken = _taken_names(session, {row.file_name for row in live if row.status == IngestStatus.TRANSFERRED})
    workspace_ids = {row.workspace_id for row in live if row.workspace_id is not None}
    workspaces = {ws.id: ws for ws in session.scalars(select(Workspace).where(Workspace.id.in_(workspace_ids)))}
    brokers: dict[int, Broker | str] = {}  # one broker per workspace, or why there is none
    now = utcnow()
    changes: list[dict[str, object]] = []
    works: list[IngestWork] = []
    for row in live:
        change: dict[str, object] = {"id": row.id, "status": row.status, "error": row.error,
                                     "ingest_started": row.ingest_started, "ingest_ended": row.ingest_ended,
                                     "last_modified": now}
        changes.append(change)
        if row.status == IngestStatus.TRANSFERRED and row.file_name in taken:
            change["status"] = IngestStatus.DUPLICATE
            results[row.id] = IngestResult("DUPLICATE")
            continue
        workspace = workspaces.get(row.workspace_id) if row.workspace_id is not None else None
        broker: Broker | str = "the ingest has no active workspace to store the file in"
        if workspace is not None and workspace.is_active and row.file_path:
            if workspace.id not in brokers:
                try:
                    brokers[workspace.id] = broker_for(workspace)
                except ScaleError as error:
                    brokers[workspace.id] = str(error)
            broker = brokers[workspace.id]
        if isinstance(broker, str):
            change.update(status=IngestStatus.ERRORED, error=broker, ingest_ended=now)
            results[row.id] = IngestResult("ERRORED")
            continue
        assert workspace is not None and row.file_path
        change.update(status=IngestStatus.INGESTING, ingest_started=row.ingest_started or now)
        taken.add(row.file_name)
        works.append(IngestWork(ingest_id=row.id, file_name=row.file_name,
                                source=Path(row.ingest_path) if row.ingest_path else None,
                                expected_size=row.file_size,
                                transfer_path=Path(row.transfer_path) if row.transfer_path else None,
                                workspace_name=workspace.name, broker=broker, file_path=row.file_path))
    _update(session, changes)
    return results, works


def store_file(work: IngestWork) -> StoredFile:
    """Copy the file into the workspace (or checksum it in place); raises IngestFailure with the reason."""
    try:
        if work.source is None:
            with work.broker.open_read(work.file_path) as stream:
                checksum, size = _md5(stream)
            return StoredFile(work.file_path, size, checksum)
        _finish_move(work)
        # One descriptor for the checksum and the copy: the bytes summed are the bytes stored.
        with _open_source(work.source) as stream:
            checksum, size = _md5(stream)
            if work.expected_size is not None and size != work.expected_size:
                raise IngestFailure(f"{work.source} has {size} bytes, not the {work.expected_size} it had when "
                                    "its transfer ended: it is still being written or was cut short")
            stream.seek(0)
            stored = work.broker.store(stream, work.file_path)
        return StoredFile(stored, size, checksum)
    except confined.SymlinkOnTheWay as error:
        raise IngestFailure(f"refused {work.source}: {error.component} is a symlink, so the file is not where "
                            "it was found") from error
    except FileNotFoundError as error:
        raise IngestFailure(f"the file vanished: {error}") from error
    except IngestFailure:
        raise
    except (OSError, ScaleError) as error:
        raise IngestFailure(f"cannot store {work.file_name} in workspace {work.workspace_name!r}: {error}") from error


def _finish_move(work: IngestWork) -> None:
    """The monitor commits TRANSFERRED before it moves the file into `ingesting/`; after a crash
    in between, the file is still at its transfer path, so move it here."""
    assert work.source is not None
    if work.transfer_path is None or work.transfer_path == work.source:
        return
    try:
        with open_folder(work.transfer_path.parent) as src, open_folder(work.source.parent) as dst:
            if not exists_in(dst, work.source.name):
                os.rename(work.transfer_path.name, work.source.name, src_dir_fd=src, dst_dir_fd=dst)
    except FileNotFoundError:
        pass  # moved meanwhile (by the restarted monitor), or really gone: reading tells which


@contextmanager
def _open_source(path: Path) -> Iterator[BinaryIO]:
    """The regular file at `path`, with no symlink on its way, open for reading."""
    fd = confined.open_file(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO never blocks the open
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IngestFailure(f"{path} is not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as stream:
        yield stream


def _md5(stream: object) -> tuple[str, int]:
    digest, size = hashlib.md5(usedforsecurity=False), 0
    read = stream.read  # type: ignore[attr-defined]
    while chunk := read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def finish_ingests(session: Session, stored: Mapping[int, StoredFile],
                   failures: Mapping[int, str]) -> dict[int, IngestResult]:
    """Register the SOURCE files of the `stored` ingests and mark them INGESTED (only from
    INGESTING); mark the `failures` ERRORED with their reasons (only while TRANSFERRED or
    INGESTING). One lock, one INSERT and one UPDATE however many there are. An ingest that was
    not in that state is NOTHING_TO_DO."""
    rows = _lock(session, {*stored, *failures})
    results = {row.id: IngestResult("NOTHING_TO_DO", row.source_file_id) for row in rows}
    now = utcnow()
    changes: list[dict[str, object]] = []
    sources: list[tuple[int, dict[str, object], ScaleFile]] = []
    for row in rows:
        change: dict[str, object] = {"id": row.id, "status": IngestStatus.ERRORED, "error": failures.get(row.id),
                                     "source_file_id": row.source_file_id, "media_type": row.media_type,
                                     "file_size": row.file_size, "file_path": row.file_path, "ingest_ended": now,
                                     "last_modified": now}
        file = stored.get(row.id)
        if file is not None and row.status == IngestStatus.INGESTING:
            assert row.workspace_id is not None
            media_type = row.media_type or mimetypes.guess_type(row.file_name)[0] or DEFAULT_MEDIA_TYPE
            change.update(status=IngestStatus.INGESTED, media_type=media_type, file_size=file.size,
                          file_path=file.file_path)
            sources.append((row.id, change, ScaleFile(
                file_type=ScaleFileType.SOURCE, file_name=row.file_name, media_type=media_type,
                file_size=file.size, data_type=list(row.data_type or []), file_path=file.file_path,
                workspace_id=row.workspace_id, uuid=file.checksum, created=now, last_modified=now)))
        elif row.id in failures and row.status in IN_FLIGHT:
            results[row.id] = IngestResult("ERRORED")
        else:
            continue
        changes.append(change)
    session.add_all([source for _, _, source in sources])
    # One multi-row INSERT ... RETURNING on PostgreSQL; SQLite cannot return the ids of one in
    # order (no insert sentinel), so there the ORM inserts row by row, in process.
    session.flush()
    for ingest_id, change, source in sources:
        change["source_file_id"] = source.id
        results[ingest_id] = IngestResult("INGESTED", source.id)
    _update(session, changes)
    return results


def fail_ingests(session: Session, reasons: Mapping[int, str]) -> list[int]:
    """ERRORED with the reason, for ingests still TRANSFERRED or INGESTING; returns those it changed."""
    results = finish_ingests(session, {}, reasons)
    return [ingest_id for ingest_id, result in results.items() if result.outcome == "ERRORED"]


def ingest_file(sessions: sessionmaker, ingest_id: int) -> IngestResult:
    """`ingest_files` for one ingest."""
    return ingest_files(sessions, [ingest_id])[ingest_id]


def ingest_files(sessions: sessionmaker, ingest_ids: Sequence[int]) -> dict[int, IngestResult]:
    """Store TRANSFERRED (or interrupted INGESTING) ingests: idempotent and crash-safe (see the
    module docstring). A batch takes two short transactions of a fixed number of statements
    however many files it holds (start them all, copy outside any transaction, finish them
    all), then tidies the files on the Strike mount; the caller sends trigger evaluation for
    the INGESTED results.

    Returns each ingest id's result."""
    with sessions.begin() as session:
        results, works = start_ingests(session, set(ingest_ids))
    stored: dict[int, StoredFile] = {}
    failures: dict[int, str] = {}
    for work in works:
        try:
            stored[work.ingest_id] = store_file(work)
        except IngestFailure as failure:
            log.warning("ingest %s of %s failed: %s", work.ingest_id, work.file_name, failure)
            failures[work.ingest_id] = str(failure)
    if all(result.outcome == "NOTHING_TO_DO" for result in results.values()) and not works:
        return results
    with sessions.begin() as session:
        if works:
            results.update(finish_ingests(session, stored, failures))
        actions = file_actions(session, [ingest_id for ingest_id, result in results.items()
                                         if result.outcome != "NOTHING_TO_DO"])
    for ingest_id, action in actions.items():
        tidy_file(action, ingest_id)
    return results



def ingests_to_resend(session: Session, *, older_than: dt.timedelta) -> list[int]:
    """TRANSFERRED or INGESTING ingests untouched for `older_than`: their task was lost (a crash
    between commit and send, a dropped message, a worker killed mid-copy)."""
    cutoff = utcnow() - older_than
    return list(session.scalars(select(Ingest.id).where(Ingest.status.in_(IN_FLIGHT), Ingest.last_modified < cutoff)
                                .order_by(Ingest.id)))
