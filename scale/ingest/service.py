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

Crash safety: the status moves in short transactions (INGESTING is committed before the copy,
INGESTED together with the `ScaleFile`), so a redelivered task either finds the work done (a
no-op) or repeats the copy, which overwrites only its own earlier, uncommitted bytes. Files on
the Strike mount are handled only after the status they follow from has committed
(`file_action`): the file in `<mount>/ingesting/` of an INGESTED ingest is removed, a
DUPLICATE's is moved to `<mount>/duplicate/`, an ERRORED one's to `<mount>/errored/`. Such an
action is taken only by the newest ingest of that `ingest_path`, so a late redelivery never
touches a newer file of the same name.

The checksum in `ScaleFile.uuid` is the MD5 of the file's bytes (32 hex digits, the column's size).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import mimetypes
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from scale.errors import ScaleError
from scale.models.files import ScaleFile, ScaleFileType
from scale.models.ingest import Ingest, IngestStatus
from scale.models.workspaces import Workspace
from scale.specs.strike_configuration import IngestRule, StrikeConfiguration
from scale.timeutil import as_utc, utcnow
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


def _locked(session: Session, ingest_id: int) -> Ingest | None:
    return session.scalars(select(Ingest).where(Ingest.id == ingest_id).with_for_update()).one_or_none()


def _is_duplicate(session: Session, ingest: Ingest) -> bool:
    """True when the name is already a source file, or another ingest is storing it now."""
    if session.get_bind().dialect.name == "postgresql":
        # Two ingests of one name check and claim it one after the other (SQLite's BEGIN
        # IMMEDIATE already serialises every writing transaction).
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": ingest.file_name})
    source = select(ScaleFile.id).where(ScaleFile.file_type == ScaleFileType.SOURCE,
                                        ScaleFile.file_name == ingest.file_name, ScaleFile.is_deleted.is_(False))
    other = select(Ingest.id).where(Ingest.file_name == ingest.file_name, Ingest.status == IngestStatus.INGESTING,
                                    Ingest.id != ingest.id)
    return bool(session.scalar(select(or_(source.exists(), other.exists()))))


def start_ingest(session: Session, ingest_id: int) -> IngestWork | IngestResult:
    """Lock the ingest and begin storing it: INGESTING, and the work to do; or a result when
    there is nothing to store (already finished, not ready, a DUPLICATE, or no usable workspace:
    ERRORED)."""
    ingest = _locked(session, ingest_id)
    if ingest is None or ingest.status not in IN_FLIGHT:
        return IngestResult("NOTHING_TO_DO", ingest.source_file_id if ingest else None)
    now = utcnow()
    if ingest.status == IngestStatus.TRANSFERRED and _is_duplicate(session, ingest):
        ingest.status = IngestStatus.DUPLICATE
        ingest.last_modified = now
        session.flush()
        return IngestResult("DUPLICATE")
    workspace = session.get(Workspace, ingest.workspace_id) if ingest.workspace_id is not None else None
    try:
        if workspace is None or not workspace.is_active or not ingest.file_path:
            raise IngestFailure("the ingest has no active workspace to store the file in")
        broker = broker_for(workspace)
    except ScaleError as error:
        _set_errored(ingest, str(error), now)
        session.flush()
        return IngestResult("ERRORED")
    ingest.status = IngestStatus.INGESTING
    ingest.ingest_started = ingest.ingest_started or now
    ingest.last_modified = now
    session.flush()
    return IngestWork(ingest_id=ingest.id, file_name=ingest.file_name,
                      source=Path(ingest.ingest_path) if ingest.ingest_path else None,
                      expected_size=ingest.file_size,
                      transfer_path=Path(ingest.transfer_path) if ingest.transfer_path else None,
                      workspace_name=workspace.name, broker=broker,
                      file_path=ingest.file_path)


def store_file(work: IngestWork) -> StoredFile:
    """Copy the file into the workspace (or checksum it in place); raises IngestFailure with the reason."""
    try:
        if work.source is None:
            with work.broker.open_read(work.file_path) as stream:
                checksum, size = _md5(stream)
            return StoredFile(work.file_path, size, checksum)
        _finish_move(work)
        with work.source.open("rb") as stream:
            checksum, size = _md5(stream)
        if work.expected_size is not None and size != work.expected_size:
            raise IngestFailure(f"{work.source} has {size} bytes, not the {work.expected_size} it had when its "
                                "transfer ended: it is still being written or was cut short")
        stored = work.broker.store(work.source, work.file_path)
        return StoredFile(stored, size, checksum)
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
    if work.transfer_path is not None and work.transfer_path != work.source and not work.source.exists():
        try:
            os.rename(work.transfer_path, work.source)
        except FileNotFoundError:
            pass  # moved meanwhile (by the restarted monitor), or really gone: reading tells which


def _md5(stream: object) -> tuple[str, int]:
    digest, size = hashlib.md5(usedforsecurity=False), 0
    read = stream.read  # type: ignore[attr-defined]
    while chunk := read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def finish_ingest(session: Session, ingest_id: int, stored: StoredFile) -> IngestResult:
    """Register the SOURCE file and mark the ingest INGESTED (only from INGESTING)."""
    ingest = _locked(session, ingest_id)
    if ingest is None or ingest.status != IngestStatus.INGESTING:
        return IngestResult("NOTHING_TO_DO", ingest.source_file_id if ingest else None)
    assert ingest.workspace_id is not None
    now = utcnow()
    media_type = ingest.media_type or mimetypes.guess_type(ingest.file_name)[0] or DEFAULT_MEDIA_TYPE
    source = ScaleFile(file_type=ScaleFileType.SOURCE, file_name=ingest.file_name, media_type=media_type,
                       file_size=stored.size, data_type=list(ingest.data_type or []), file_path=stored.file_path,
                       workspace_id=ingest.workspace_id, uuid=stored.checksum, created=now, last_modified=now)
    session.add(source)
    session.flush()
    ingest.source_file_id = source.id
    ingest.status = IngestStatus.INGESTED
    ingest.media_type = media_type
    ingest.file_size = stored.size
    ingest.file_path = stored.file_path
    ingest.ingest_ended = now
    ingest.error = None
    ingest.last_modified = now
    session.flush()
    return IngestResult("INGESTED", source.id)


def fail_ingest(session: Session, ingest_id: int, reason: str) -> bool:
    """ERRORED with `reason`, for an ingest still TRANSFERRED or INGESTING; False otherwise."""
    ingest = _locked(session, ingest_id)
    if ingest is None or ingest.status not in IN_FLIGHT:
        return False
    _set_errored(ingest, reason, utcnow())
    session.flush()
    return True


def _set_errored(ingest: Ingest, reason: str, now: dt.datetime) -> None:
    ingest.status = IngestStatus.ERRORED
    ingest.error = reason
    ingest.ingest_ended = now
    ingest.last_modified = now


def ingest_file(sessions: sessionmaker, ingest_id: int) -> IngestResult:
    """`ingest_files` for one ingest."""
    return ingest_files(sessions, [ingest_id])[ingest_id]


def ingest_files(sessions: sessionmaker, ingest_ids: Sequence[int]) -> dict[int, IngestResult]:
    """Store TRANSFERRED (or interrupted INGESTING) ingests: idempotent and crash-safe (see the
    module docstring). A batch takes two short transactions however many files it holds (start
    them all, copy outside any transaction, finish them all), then tidies the files on the
    Strike mount; the caller sends trigger evaluation for the INGESTED results.

    Returns each ingest id's result."""
    results: dict[int, IngestResult] = {}
    works: list[IngestWork] = []
    finished: list[int] = []
    with sessions.begin() as session:
        for ingest_id in sorted(set(ingest_ids)):  # one lock order for every batch
            work = start_ingest(session, ingest_id)
            if isinstance(work, IngestResult):
                results[ingest_id] = work
                if work.outcome != "NOTHING_TO_DO":
                    finished.append(ingest_id)
            else:
                works.append(work)
    stored: dict[int, StoredFile] = {}
    failures: dict[int, str] = {}
    for work in works:
        try:
            stored[work.ingest_id] = store_file(work)
        except IngestFailure as failure:
            log.warning("ingest %s of %s failed: %s", work.ingest_id, work.file_name, failure)
            failures[work.ingest_id] = str(failure)
    if not works and not finished:
        return results
    with sessions.begin() as session:
        for ingest_id, reason in failures.items():
            results[ingest_id] = IngestResult("ERRORED")
            if fail_ingest(session, ingest_id, reason):
                finished.append(ingest_id)
        for ingest_id, file in stored.items():
            results[ingest_id] = finish_ingest(session, ingest_id, file)
            if results[ingest_id].outcome == "INGESTED":
                finished.append(ingest_id)
        actions = {ingest_id: file_action(session, ingest_id) for ingest_id in finished}
    for ingest_id, action in actions.items():
        if action is not None:
            _apply_logged(action, ingest_id)
    return results


# ---------------------------------------------------------------------------------------------
# The file on the Strike mount after the ingest finished


@dataclass(frozen=True)
class FileAction:
    """What to do with a finished Strike ingest's file: remove it, or move it to `target`."""

    path: Path
    target: Path | None


def file_action(session: Session, ingest_id: int) -> FileAction | None:
    """The action for a finished ingest's file in `<mount>/ingesting/`, or None: the ingest is
    not finished, is not a Strike's (a scan leaves originals alone), or a newer ingest now owns
    that path."""
    ingest = session.get(Ingest, ingest_id)
    if ingest is None or ingest.strike_id is None or ingest.status not in FINAL or not ingest.ingest_path:
        return None
    # By file name first: it is indexed, and few ingests share one.
    newest = session.scalar(select(func.max(Ingest.id)).where(
        Ingest.file_name == ingest.file_name, Ingest.strike_id == ingest.strike_id,
        Ingest.ingest_path == ingest.ingest_path))
    if newest != ingest.id:
        return None
    path = Path(ingest.ingest_path)
    if ingest.status == IngestStatus.INGESTED:
        return FileAction(path, None)
    folder = DUPLICATE_DIR if ingest.status == IngestStatus.DUPLICATE else ERRORED_DIR
    return FileAction(path, path.parent.parent / folder / path.name)


def apply_file_action(action: FileAction, ingest_id: int) -> None:
    """Carry out `action`; a file already gone is fine (the action was taken before a crash).
    A name taken in the target folder gets `.<ingest id>` appended: nothing is overwritten."""
    if action.target is None:
        action.path.unlink(missing_ok=True)
        return
    target = action.target
    if target.exists():
        target = target.with_name(f"{target.name}.{ingest_id}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(action.path, target)
    except FileNotFoundError:
        pass


def settle_file(sessions: sessionmaker, ingest_id: int) -> None:
    """Remove or move a finished ingest's file (`file_action`), after its status committed."""
    with sessions() as session:
        action = file_action(session, ingest_id)
    if action is not None:
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
