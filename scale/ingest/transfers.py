"""Recording what the Strike monitor sees: files being copied in (TRANSFERRING), and each
completed file's ingest, by the Strike's first matching rule (TRANSFERRED, or DEFERRED when no
rule matches). The life of an ingest that follows is told in `scale.ingest.service`.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from scale.ingest.tidy import INGESTING_DIR
from scale.models.ingest import Ingest, IngestStatus
from scale.models.workspaces import Workspace
from scale.specs.strike_configuration import IngestRule, StrikeConfiguration
from scale.timeutil import as_utc, utcnow

# Handed to the ingest task, and not finished yet.
T = TypeVar("T")

IN_FLIGHT = (IngestStatus.TRANSFERRED, IngestStatus.INGESTING)
# The most values one `IN (...)` of the monitor's queries takes: a directory may hold any number
# of files, and a statement may bind at most 65,535 parameters on PostgreSQL (32,766 on SQLite).
IN_LIMIT = 5000
DEFAULT_MEDIA_TYPE = "application/octet-stream"


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
    found: dict[str, Ingest] = {}
    for part in chunked(paths):
        rows = session.scalars(select(Ingest).where(Ingest.strike_id == strike_id,
                                                    Ingest.status == IngestStatus.ERRORED, Ingest.ingest_path.is_(None),
                                                    Ingest.transfer_path.in_(part)).order_by(Ingest.id))
        found.update((row.transfer_path, row) for row in rows if row.transfer_path)
    return found


def chunked(values: Sequence[T], size: int = IN_LIMIT) -> list[Sequence[T]]:
    """`values` in slices of at most `size`, for `IN (...)` lists (see IN_LIMIT)."""
    return [values[start:start + size] for start in range(0, len(values), size)]

