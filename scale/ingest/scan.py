"""Scans: ingest the files already sitting in a directory or a workspace, each file once.

A scan configuration is a Strike configuration (`mount`, optional `transfer_suffix`,
`files_to_ingest`) or the same with `workspace` (a workspace name) in place of `mount`:

* a directory scan looks at the top level of the directory (hidden files, directories, symlinks
  and names ending in `transfer_suffix` are skipped, as a Strike does) and copies each file a rule
  matches into the rule's workspace at `<workspace_path>/YYYY/MM/DD/<name>`; the originals stay;
* a workspace scan walks the whole workspace: a file already registered there is skipped; a file
  whose rule names the scanned workspace is registered in place (its path unchanged); a rule
  naming another workspace copies it there.

Each file is `INGEST` (an Ingest is created TRANSFERRED, with no Strike, and the shell sends its
ingest task after the commit), `DUPLICATE` (the name is already a source file, is being
ingested, or appears twice in the scan: nothing is written), `NO_RULE` (no rule matches:
nothing is written; DEFERRED belongs to Strike directories) or `REGISTERED` (workspace scans: the
file already is a Scale file). A dry run reports the same and writes nothing.

A file the scan cannot read, or whose directory entry it cannot look at, is skipped with a
logged warning (its ingest could only fail); a directory of a workspace it cannot list likewise.

The boundary (`scale.workspaces.confined`): the directory is opened by walking its path without
following symlinks and listed by descriptor, so a directory that is, or sits under, a symlink is
refused (400, `configuration.mount`) and nothing outside it is listed; a workspace is walked by its
broker, by descriptor, never through a symlink (a swapped root is 403).
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from scale.exceptions import ScaleError, Unsupported, ValidationError
from scale.ingest import service, strikes, transfers
from scale.ingest.commands import ScanConfiguration
from scale.models.files import ScaleFile
from scale.models.ingest import Ingest, IngestStatus
from scale.models.workspaces import Workspace
from scale.specs.strike_configuration import IngestRule, StrikeConfiguration
from scale.timeutil import utcnow
from scale.workspaces import confined
from scale.workspaces.brokers import HostBroker, broker_for
from scale.workspaces.mounts import ensure_nfs_mounted

log = logging.getLogger(__name__)

# Files checked for duplicates and recorded per round trip, so a large directory costs a few
# queries per SCAN_BATCH files rather than two per file.
SCAN_BATCH = 500

ScanStatus = Literal["INGEST", "DUPLICATE", "NO_RULE", "REGISTERED"]
# Temporary files of the host broker's atomic writes (`.<name>.<random>.part`) are not files yet.
_HIDDEN = re.compile(r"^\.")


@dataclass(frozen=True)
class ScanItem:
    """One file the scan looked at. `path` is absolute for a directory, workspace-relative for a
    workspace; `workspace` and `file_path` say where it would be (or is being) stored."""

    file_name: str
    path: str
    status: ScanStatus
    rule: str | None = None
    workspace: str | None = None
    file_path: str | None = None
    ingest_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rules(session: Session, config: ScanConfiguration) -> StrikeConfiguration:
    """The scan's rules, once the scanned workspace and every workspace a rule names are known
    to exist and be active; a ValidationError names the field under `configuration`."""
    if config.workspace is not None and session.scalar(
            select(Workspace.id).where(Workspace.name == config.workspace, Workspace.is_active)) is None:
        raise ValidationError("configuration.workspace",
                              f"workspace {config.workspace!r} does not exist or is not active")
    rules = config.rules.value()
    strikes.check_workspaces(session, rules)
    return rules


def scan(session: Session, config: ScanConfiguration, *, dry_run: bool, mount_root: Path,
         progress: Callable[[ScanItem], None] | None = None) -> list[ScanItem]:
    """Scan a directory or workspace (see the module docstring) and return what each file is.

    Unless `dry_run`, creates a TRANSFERRED ingest for each `INGEST` file (flushed, not
    committed): the caller commits, then sends `scale.ingest_files` for their `ingest_id`s.
    Raises ValidationError for a workspace that does not exist or is not active, or a directory
    that does not exist."""
    rules = _rules(session, config)
    workspaces = {ws.name: ws for ws in session.scalars(select(Workspace).where(
        Workspace.name.in_({rule.workspace_name for rule in rules.files_to_ingest})))}
    if config.workspace is None:
        candidates = _directory_files(_directory(rules, mount_root), rules.transfer_suffix)
        registered: set[str] = set()
        scanned: Workspace | None = None
    else:
        scanned = session.scalars(select(Workspace).where(Workspace.name == config.workspace)).one()
        candidates = _workspace_files(scanned)
        registered = set(session.scalars(select(ScaleFile.file_path).where(ScaleFile.workspace_id == scanned.id)))
    items: list[ScanItem] = []
    seen: set[str] = set()
    now = utcnow()
    for chunk in _chunks(candidates, SCAN_BATCH):
        taken = service.names_taken(session, {os.path.basename(rel) for rel, _absolute, _size in chunk},
                                    ingest_statuses=transfers.IN_FLIGHT)
        found: list[ScanItem] = []
        new: dict[int, Ingest] = {}  # index in `found` -> the ingest made for it
        for rel, absolute, size in chunk:
            name = os.path.basename(rel)
            rule = rules.rule_for(name)
            if rel in registered:
                item = ScanItem(name, rel, "REGISTERED", workspace=config.workspace, file_path=rel)
            elif rule is None:
                item = ScanItem(name, _shown(rel, absolute, scanned), "NO_RULE")
            else:
                in_place = scanned is not None and rule.workspace_name == scanned.name
                file_path = rel if in_place else transfers.workspace_file_path(rule, name, now)
                item = ScanItem(name, _shown(rel, absolute, scanned), "INGEST", rule.filename_regex,
                                rule.workspace_name, file_path)
                if name in seen or name in taken:
                    item = replace(item, status="DUPLICATE")
                elif not dry_run:
                    new[len(found)] = _new_ingest(name, absolute, size, rule, workspaces[rule.workspace_name],
                                                  file_path, in_place=in_place, now=now)
                seen.add(name)
            found.append(item)
        if new:
            session.add_all(new.values())
            session.flush()
            for index, ingest in new.items():
                found[index] = replace(found[index], ingest_id=ingest.id)
        for item in found:
            items.append(item)
            if progress is not None:
                progress(item)
    return items


def _shown(rel: str, absolute: Path, scanned: Workspace | None) -> str:
    return rel if scanned is not None else str(absolute)


def _chunks(rows: Iterable[tuple[str, Path, int]], size: int) -> Iterator[list[tuple[str, Path, int]]]:
    chunk: list[tuple[str, Path, int]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _new_ingest(name: str, absolute: Path, size: int, rule: IngestRule, workspace: Workspace,
                file_path: str, *, in_place: bool, now: dt.datetime) -> Ingest:
    return Ingest(file_name=name, strike_id=None, status=IngestStatus.TRANSFERRED, bytes_transferred=size,
                    file_size=size, transfer_started=now, transfer_ended=now, transfer_path=str(absolute),
                    ingest_path=None if in_place else str(absolute), file_path=file_path, workspace_id=workspace.id,
                    data_type=list(rule.data_types), created=now, last_modified=now,
                    media_type=mimetypes.guess_type(name)[0] or transfers.DEFAULT_MEDIA_TYPE)


def _directory(config: StrikeConfiguration, mount_root: Path) -> Path:
    if config.mount_type == "nfs":
        try:
            # The mount root comes from the settings; resolved here so the walk from `/` finds it.
            point = Path(os.path.realpath(mount_root)) / "scans" / re.sub(r"[^A-Za-z0-9._-]", "_", config.mount)
            return ensure_nfs_mounted(config.mount, point)
        except ScaleError as error:
            raise ValidationError("configuration.mount", str(error)) from error
    return Path(config.mount_path)


def _directory_files(directory: Path, suffix: str | None) -> Iterator[tuple[str, Path, int]]:
    """(name, path, size) of the regular, visible, complete files on the directory's top level, by
    name, listed from the directory opened without following symlinks."""
    shown = str(directory)
    try:
        root = confined.open_root(directory)
    except confined.SymlinkOnTheWay as error:
        log.warning("scan: refused %s: %s is a symlink", shown, error.component)
        raise ValidationError("configuration.mount", f"{shown!r} has a symlink on its way ({error.component!r}); "
                                                     "give the real path of the directory") from None
    except NotADirectoryError:
        raise ValidationError("configuration.mount", f"{shown!r} is not a directory") from None
    except FileNotFoundError:
        raise ValidationError("configuration.mount", f"{shown!r} is not a directory") from None
    except OSError as error:  # a folder on the way that this process may not search
        raise ValidationError("configuration.mount", f"cannot use {shown!r}: {error.strerror}") from error
    try:
        try:
            listing = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=root)
            with os.scandir(listing) as entries:
                names = sorted(entry.name for entry in entries)
            os.close(listing)
        except OSError as error:
            raise ValidationError("configuration.mount", f"cannot list {shown!r}: {error.strerror}") from error
        found: list[tuple[str, Path, int]] = []
        for name in names:
            if _HIDDEN.match(name) or (suffix and name.endswith(suffix)):
                continue
            try:
                info = os.stat(name, dir_fd=root, follow_symlinks=False)
            except FileNotFoundError:
                continue  # gone since the listing
            except OSError as error:
                log.warning("scan: skipping %s: %s", directory / name, error.strerror)
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            if os.access(name, os.R_OK, dir_fd=root, effective_ids=True, follow_symlinks=False):
                found.append((name, directory / name, info.st_size))
            else:
                # The effective ids are the ones that count (a root process that gave up its
                # file system privileges cannot read).
                log.warning("scan: skipping %s: this process may not read it", directory / name)
        return iter(found)
    finally:
        os.close(root)


def _workspace_files(workspace: Workspace) -> Iterator[tuple[str, Path, int]]:
    """(relative path, absolute path, size) of the regular, visible files in the workspace, by
    path, as its broker walks them (by descriptor, never through a symlink)."""
    broker = broker_for(workspace)
    if not isinstance(broker, HostBroker):
        raise Unsupported(f"workspace {workspace.name!r}: its broker cannot list files")
    return iter(sorted((rel, broker.root / rel, size) for rel, size in broker.walk_files()))
