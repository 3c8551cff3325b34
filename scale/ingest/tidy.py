"""The file on the Strike mount after its ingest finished, and the folders a Strike keeps there.

A Strike's directory holds, beside the files it watches, `ingesting/` (a TRANSFERRED file moved
there by the monitor, waiting for its ingest), `duplicate/` and `errored/`. Once an ingest's
final status has committed (`scale.ingest.service`), `file_actions` says what becomes of its
file in `<mount>/ingesting/`: an INGESTED one's is removed, a DUPLICATE's is moved to
`<mount>/duplicate/`, an ERRORED one's to `<mount>/errored/`. Such an action is taken only by the
newest ingest of that `ingest_path`, so a late redelivery never touches a newer file of the same
name. Folders are opened by walking their path without following symlinks
(`scale.workspaces.confined`), and files are moved and removed by name in them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from scale.models.ingest import Ingest, IngestStatus
from scale.workspaces import confined

# The ingest's log lines have always carried this logger's name.
log = logging.getLogger("scale.ingest.service")

# Directories a Strike keeps beside the files it watches (never watched themselves).
INGESTING_DIR = "ingesting"
DUPLICATE_DIR = "duplicate"
ERRORED_DIR = "errored"
STRIKE_DIRS = (INGESTING_DIR, DUPLICATE_DIR, ERRORED_DIR)

FINAL = (IngestStatus.INGESTED, IngestStatus.DUPLICATE, IngestStatus.ERRORED)


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
        with open_folder(action.path.parent) as source:
            if action.target is None:
                os.unlink(action.path.name, dir_fd=source)
                return
            with open_folder(action.target.parent.parent, create=action.target.parent.name) as folder:
                name = action.target.name
                if exists_in(folder, name):
                    name = f"{name}.{ingest_id}"
                os.rename(action.path.name, name, src_dir_fd=source, dst_dir_fd=folder)
    except FileNotFoundError:
        pass


def settle_files(sessions: sessionmaker, ingest_ids: Collection[int]) -> None:
    """Remove or move finished ingests' files (`file_actions`), after their status committed."""
    with sessions() as session:
        actions = file_actions(session, ingest_ids)
    for ingest_id, action in actions.items():
        tidy_file(action, ingest_id)


def tidy_file(action: FileAction, ingest_id: int) -> None:
    """`apply_file_action`, best effort: a file that cannot be moved stays where it is (nothing is lost),
    and the monitor tries again at its next rescan."""
    try:
        apply_file_action(action, ingest_id)
    except OSError as error:
        log.warning("ingest %s: cannot tidy %s: %s", ingest_id, action.path, error)


@contextmanager
def open_folder(path: Path, *, create: str | None = None) -> Iterator[int]:
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


def exists_in(folder: int, name: str) -> bool:
    """Whether `name` is in the open `folder` (a symlink counts; it is not followed)."""
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True
