"""Ingests: recording the files a Strike finds, and storing each one in its workspace once.

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
from sqlalchemy.orm import Session, aliased, sessionmaker

from scale.exceptions import ScaleError
from scale.models.files import ScaleFile, ScaleFileType
from scale.models.ingest import Ingest, IngestStatus
from scale.models.workspaces import Workspace
from scale.specs.strike_configuration import IngestRule, StrikeConfiguration
from scale.timeutil import as_utc, utcnow
from scale.workspaces import confined
from scale.workspaces.brokers import Broker, broker_for

log = logging.getLogger(__name__)

# Directories a Strike keeps beside the files it watches (never watched themselves).
INGESTING_DIR = "ingesting"
DUPLICATE_DIR = "duplicate"
ERRORED_DIR = "errored"
STRIKE_DIRS = (INGESTING_DIR, DUPLICATE_DIR, ERRORED_DIR)

IN_FLIGHT = (IngestStatus.TRANSFERRED, IngestStatus.INGESTING)
FINAL = (IngestStatus.INGESTED, IngestStatus.DUPLICATE, IngestStatus.ERRORED)
DEFAULT_MEDIA_TYPE = "application/octet-stream"
_CHUNK = 1024 * 1024


class IngestFailure(ScaleError):
    """A file that could not be ingested; the message is the reason kept in `ingest.error`."""


# ---------------------------------------------------------------------------------------------
# Recording what the monitor sees


@dataclass(frozen=True)
class Transfer:
    """A file being copied into a Strike's directory: `path` is where it is now."""

    file_name: str
    path: Path
    size: int


@dataclass(frozen=True)
class CompletedFile:
    """A file whose transfer has ended, at `path` on the top level of the Strike's directory.
    `ingest_id` is its TRANSFERRING (or DEFERRED) ingest, None when it was never recorded."""

    file_name: str
    path: Path
    size: int
    ingest_id: int | None = None


def start_transfers(session: Session, strike_id: int, transfers: Sequence[Transfer]) -> list[Ingest]:
    """Record TRANSFERRING ingests (one insert batch); returns them with their ids."""
    now = utcnow()
    rows = [Ingest(file_name=item.file_name, strike_id=strike_id, status=IngestStatus.TRANSFERRING,
                   bytes_transferred=item.size, transfer_started=now, transfer_path=str(item.path),
                   data_type=[], created=now, last_modified=now) for item in transfers]
    session.add_all(rows)
    session.flush()
    return rows


def update_transfers(session: Session, sizes: Mapping[int, int]) -> None:
    """Set `bytes_transferred` of TRANSFERRING ingests (id -> bytes) in one statement batch."""
    if sizes:
        now = utcnow()
        session.execute(update(Ingest).where(Ingest.status == IngestStatus.TRANSFERRING).execution_options(
            synchronize_session=False), [{"id": ingest_id, "bytes_transferred": size, "last_modified": now}
                                         for ingest_id, size in sizes.items()])


def error_ingests(session: Session, reasons: Mapping[int, str]) -> None:
    """ERRORED, with the reason, for ingests not yet being stored (TRANSFERRING, DEFERRED)."""
    if reasons:
        now = utcnow()
        # An executemany UPDATE cannot take IN (...) criteria, hence the OR.
        waiting = or_(Ingest.status == IngestStatus.TRANSFERRING, Ingest.status == IngestStatus.DEFERRED)
        session.execute(update(Ingest).where(waiting)
                        .execution_options(synchronize_session=False),
                        [{"id": ingest_id, "status": IngestStatus.ERRORED, "error": reason, "last_modified": now}
                         for ingest_id, reason in reasons.items()])


def workspace_file_path(rule: IngestRule, file_name: str, when: dt.datetime) -> str:
    """`<workspace_path>/YYYY/MM/DD/<file name>` for the UTC date of `when`."""
    when = as_utc(when)
    parts = [rule.workspace_path.strip("/"), f"{when:%Y}", f"{when:%m}", f"{when:%d}", file_name]
    return "/".join(part for part in parts if part)


def register_files(session: Session, strike_id: int, config: StrikeConfiguration,
                   completed: Sequence[CompletedFile], *, mount_dir: Path) -> list[Ingest]:
    """Apply the Strike's rules to files whose transfer ended, creating or updating their ingests.

    First matching rule with an active workspace -> TRANSFERRED with `ingest_path` =
    `<mount_dir>/ingesting/<name>` (the caller moves the file there after the commit); a rule
    whose workspace is gone -> ERRORED; no rule -> DEFERRED (the file stays in place)."""
    if not completed:
        return []
    now = utcnow()
    names = {rule.workspace_name for rule in config.files_to_ingest}
    workspaces = {ws.name: ws for ws in session.scalars(select(Workspace).where(Workspace.name.in_(names)))}
    known_ids = [item.ingest_id for item in completed if item.ingest_id is not None]
    known = {row.id: row for row in session.scalars(select(Ingest).where(Ingest.id.in_(known_ids)))}
    rows: list[Ingest] = []
    for item in completed:
        row = known.get(item.ingest_id) if item.ingest_id is not None else None
        if row is None:
            row = Ingest(file_name=item.file_name, strike_id=strike_id, transfer_started=now, created=now,
                         data_type=[])
            session.add(row)
        elif row.status not in (IngestStatus.TRANSFERRING, IngestStatus.DEFERRED):
            continue  # already moved on (a second monitor, or a stale id): leave it be
        row.file_name = item.file_name  # differs only when an edit changed the transfer suffix
        row.bytes_transferred = item.size
        row.file_size = item.size
        row.transfer_path = str(item.path)
        row.transfer_ended = row.transfer_ended or now
        row.media_type = mimetypes.guess_type(item.file_name)[0] or DEFAULT_MEDIA_TYPE
        row.last_modified = now
        rule = config.rule_for(item.file_name)
        workspace = workspaces.get(rule.workspace_name) if rule else None
        if rule is None:
            row.status = IngestStatus.DEFERRED
        elif workspace is None or not workspace.is_active:
            row.status = IngestStatus.ERRORED
            row.error = f"workspace {rule.workspace_name!r} does not exist or is not active"
        else:
            row.status = IngestStatus.TRANSFERRED
            row.workspace_id = workspace.id
            row.data_type = list(rule.data_types)
            row.file_path = workspace_file_path(rule, item.file_name, row.transfer_ended)
            row.ingest_path = str(mount_dir / INGESTING_DIR / item.file_name)
            row.error = None
        rows.append(row)
    session.flush()
    return rows


def live_ingests(session: Session, strike_id: int) -> list[Ingest]:
    """The Strike's ingests that are not finished: what a (re)starting monitor picks up again."""
    live = (IngestStatus.TRANSFERRING, IngestStatus.DEFERRED, *IN_FLIGHT)
    return list(session.scalars(select(Ingest).where(Ingest.strike_id == strike_id, Ingest.status.in_(live))
                                .order_by(Ingest.id)))


def errored_at(session: Session, strike_id: int, paths: Sequence[str]) -> dict[str, Ingest]:
    """The newest ingest ERRORED in place (by the monitor: a stalled transfer, a rule's missing
    workspace) for each of `paths` (transfer paths) that has one. Files that failed while being
    stored went to `errored/`; one moved back is a new attempt, not listed here."""
    if not paths:
        return {}
    rows = session.scalars(select(Ingest).where(Ingest.strike_id == strike_id, Ingest.status == IngestStatus.ERRORED,
                                                Ingest.ingest_path.is_(None), Ingest.transfer_path.in_(list(paths)))
                           .order_by(Ingest.id))
    return {row.transfer_path: row for row in rows if row.transfer_path}


# ---------------------------------------------------------------------------------------------
# Storing a file in its workspace


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
        with _folder(work.transfer_path.parent) as src, _folder(work.source.parent) as dst:
            if not _exists(dst, work.source.name):
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


@contextmanager
def _folder(path: Path, *, create: str | None = None) -> Iterator[int]:
    """The directory `path`, opened by walking it without following symlinks. `create`: a folder
    made in it (if missing) and opened instead, beneath it."""
    fd = confined.open_root(path)
    try:
        if create is not None:
            try:
                os.mkdir(create, dir_fd=fd)
            except FileExistsError:
                pass
            inner = confined.open_beneath(fd, create, os.O_PATH | os.O_DIRECTORY)
            os.close(fd)
            fd = inner
        yield fd
    finally:
        os.close(fd)


def _exists(folder: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


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
        _apply_logged(action, ingest_id)
    return results


# ---------------------------------------------------------------------------------------------
# The file on the Strike mount after the ingest finished


@dataclass(frozen=True)
class FileAction:
    """What to do with a finished Strike ingest's file: remove it, or move it to `target`."""

    path: Path
    target: Path | None


def file_actions(session: Session, ingest_ids: Collection[int]) -> dict[int, FileAction]:
    """The action for each finished ingest's file in `<mount>/ingesting/`, in one query. None
    for an ingest that is not finished, is not a Strike's (a scan leaves originals alone), or
    whose path a newer ingest now owns."""
    if not ingest_ids:
        return {}
    newer = aliased(Ingest)
    # By file name first: it is indexed, and few ingests share one.
    superseded = select(newer.id).where(newer.file_name == Ingest.file_name, newer.strike_id == Ingest.strike_id,
                                        newer.ingest_path == Ingest.ingest_path, newer.id > Ingest.id).exists()
    rows = session.execute(select(Ingest.id, Ingest.status, Ingest.ingest_path).where(
        Ingest.id.in_(sorted(ingest_ids)), Ingest.strike_id.is_not(None), Ingest.status.in_(FINAL),
        Ingest.ingest_path.is_not(None), Ingest.ingest_path != "", ~superseded))
    actions: dict[int, FileAction] = {}
    for ingest_id, status, ingest_path in rows:
        assert ingest_path is not None  # the query's criteria
        path = Path(ingest_path)
        if status == IngestStatus.INGESTED:
            actions[ingest_id] = FileAction(path, None)
        else:
            folder = DUPLICATE_DIR if status == IngestStatus.DUPLICATE else ERRORED_DIR
            actions[ingest_id] = FileAction(path, path.parent.parent / folder / path.name)
    return actions


def apply_file_action(action: FileAction, ingest_id: int) -> None:
    """Carry out `action`; a file already gone is fine (the action was taken before a crash).
    A name taken in the target folder gets `.<ingest id>` appended: nothing is overwritten.
    Folders are opened without following symlinks (SymlinkOnTheWay, an OSError, otherwise)."""
    try:
        with _folder(action.path.parent) as source:
            if action.target is None:
                os.unlink(action.path.name, dir_fd=source)
                return
            with _folder(action.target.parent.parent, create=action.target.parent.name) as folder:
                name = action.target.name
                if _exists(folder, name):
                    name = f"{name}.{ingest_id}"
                os.rename(action.path.name, name, src_dir_fd=source, dst_dir_fd=folder)
    except FileNotFoundError:
        pass


def settle_files(sessions: sessionmaker, ingest_ids: Collection[int]) -> None:
    """Remove or move finished ingests' files (`file_actions`), after their status committed."""
    with sessions() as session:
        actions = file_actions(session, ingest_ids)
    for ingest_id, action in actions.items():
        _apply_logged(action, ingest_id)


def _apply_logged(action: FileAction, ingest_id: int) -> None:
    """Tidying is best effort: a file that cannot be moved stays where it is (nothing is lost),
    and the monitor tries again at its next rescan."""
    try:
        apply_file_action(action, ingest_id)
    except OSError as error:
        log.warning("ingest %s: cannot tidy %s: %s", ingest_id, action.path, error)


def ingests_to_resend(session: Session, *, older_than: dt.timedelta) -> list[int]:
    """TRANSFERRED or INGESTING ingests untouched for `older_than`: their task was lost (a crash
    between commit and send, a dropped message, a worker killed mid-copy)."""
    cutoff = utcnow() - older_than
    return list(session.scalars(select(Ingest.id).where(Ingest.status.in_(IN_FLIGHT), Ingest.last_modified < cutoff)
                                .order_by(Ingest.id)))
