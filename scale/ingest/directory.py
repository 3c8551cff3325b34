"""What the Strike monitor makes of its directory: each scan's listing turned into ingests.

`StrikeDirectory` holds what the monitor knows of one Strike's directory, as configured now (a
changed configuration starts a new one), and works on the directory through a descriptor the
monitor (`scale.ingest.monitor`) opened; a scan is a directory listing, and each scan's database
writes are one batch.

* A file ending in `transfer_suffix` is TRANSFERRING (`bytes_transferred` follows its size);
  once it is renamed without the suffix (removed as a suffix, not as characters) it is complete.
  Without a `transfer_suffix`, a file is TRANSFERRING until its size and mtime have not changed
  for `settle_seconds`, then complete. A suffixed file that does not change for `stall_seconds`
  is ERRORED (the transfer stalled); if it changes again later it is tracked afresh.
* A complete file that a rule matches is TRANSFERRED and moved (one rename) into
  `<dir>/ingesting/`, then handed to `on_transferred` (the shell sends the ingest task); while a
  file of the same name is still in `ingesting/`, the newcomer waits where it is. No rule:
  DEFERRED, left in place, and re-examined whenever the configuration changes.
* A file that disappears before it is complete is ERRORED ("vanished").
* Hidden files (a leading `.`, as rsync's temporary files), directories and symlinks are
  ignored: only regular files on the top level are Strike files.

Restarts resume: TRANSFERRING and DEFERRED ingests are matched to their files again, TRANSFERRED
and INGESTING ones are handed to `on_transferred` again (the ingest is idempotent), and files
left in `ingesting/` by finished ingests are tidied (`tidy.file_actions`). Finished files have
left the directory, so nothing is ingested twice.

Files are looked at and renamed only by name in the descriptors of the directory and of its
`ingesting/` (opened beneath it), never by path (`scale.workspaces.confined`).
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from scale.ingest import service, transfers
from scale.ingest.tidy import FINAL, INGESTING_DIR, exists_in, settle_files
from scale.ingest.transfers import CompletedFile, Transfer
from scale.models.ingest import Ingest, IngestStatus
from scale.specs.strike_configuration import StrikeConfiguration
from scale.workspaces import confined

# The monitor's log lines have always carried this logger's name.
log = logging.getLogger("scale.ingest.monitor")

# At most this many files are registered (and handed on) per transaction, so the first files of
# a large batch reach their ingest tasks without waiting for the whole batch.
BATCH = 500

Stat = tuple[int, int]  # (size, mtime in ns)
_LISTING = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


@dataclass
class _Tracked:
    """A file being transferred: its ingest, what it looked like, and since when."""

    ingest_id: int
    stat: Stat | None
    since: float


class StrikeDirectory:
    """One Strike's directory under one configuration: the files being transferred, DEFERRED
    and left ERRORED in place, and the scans that record what changed."""

    def __init__(self, sessions: sessionmaker, strike_id: int, config: StrikeConfiguration, directory: Path, *,
                 on_transferred: Callable[[list[int]], None], settle_seconds: float, stall_seconds: float) -> None:
        self.sessions = sessions
        self.strike_id = strike_id
        self.config = config
        self.directory = directory
        self.on_transferred = on_transferred
        self.settle_seconds = settle_seconds
        self.stall_seconds = stall_seconds
        self.tracked: dict[str, _Tracked] = {}   # on-disk name -> transfer in progress
        self._deferred: dict[str, int] = {}       # name -> DEFERRED ingest id
        self._ignored: dict[str, Stat] = {}       # name -> stat of a file left ERRORED in place
        self._recheck_deferred = False
        self._first_scan = True

    # -- resuming ------------------------------------------------------------------------------

    def resume(self, fd: int) -> None:
        """Pick up the Strike's unfinished ingests (see the module docstring); `fd` holds the directory."""
        now = time.monotonic()
        resend: list[int] = []
        with self.sessions() as session:
            rows = transfers.live_ingests(session, self.strike_id)
        for row in rows:
            name = Path(row.transfer_path).name if row.transfer_path else row.file_name
            if row.status == IngestStatus.TRANSFERRING:
                self.tracked[self._key_for(name)] = _Tracked(row.id, None, now)
            elif row.status == IngestStatus.DEFERRED:
                self._deferred[name] = row.id
            else:
                self._finish_move(fd, row)
                resend.append(row.id)
        self._recheck_deferred = True
        if resend:
            log.info("strike %s: handing %d unfinished ingests on again", self.strike_id, len(resend))
            self.on_transferred(resend)

    def _key_for(self, name: str) -> str:
        """The key a file still transferring is tracked under: its name on disk, or, when an edit
        removed its suffix from the configuration, the name it would have had with the new suffix
        (so that it completes like a renamed file)."""
        suffix = self.config.transfer_suffix
        return name + suffix if suffix and not name.endswith(suffix) else name

    def _finish_move(self, fd: int, row: Ingest) -> None:
        """Move a TRANSFERRED file whose move was cut short (a crash after its commit)."""
        if row.ingest_path and row.transfer_path:
            try:
                self._move_in(fd, Path(row.transfer_path).name, only_if_missing=True)
            except FileNotFoundError:
                pass  # gone: the ingest task records it ERRORED

    def _move_in(self, fd: int, name: str, *, only_if_missing: bool = False) -> None:
        """Rename the file `name` on the directory's top level into `ingesting/`, by descriptors."""
        ingesting = confined.open_beneath(fd, INGESTING_DIR, os.O_PATH | os.O_DIRECTORY)
        try:
            if only_if_missing and exists_in(ingesting, name):
                return
            os.rename(name, name, src_dir_fd=fd, dst_dir_fd=ingesting)
        finally:
            os.close(ingesting)

    def tidy(self, fd: int) -> None:
        """Tidy files in `ingesting/` whose ingest has finished (a crash between its commit and
        the removal or move of the file); `fd` holds the directory."""
        try:
            names = [name for name, regular in _entries(fd, INGESTING_DIR) if regular]
        except OSError:
            return
        if not names:
            return
        folder = self.directory / INGESTING_DIR
        for part in transfers.chunked(names):
            with self.sessions() as session:
                newest = session.scalars(
                    select(func.max(Ingest.id)).where(
                        Ingest.file_name.in_(part), Ingest.strike_id == self.strike_id,
                        Ingest.ingest_path.in_([str(folder / name) for name in part])).group_by(Ingest.ingest_path)
                ).all()
                done = session.scalars(select(Ingest.id).where(Ingest.id.in_(newest), Ingest.status.in_(FINAL))).all()
            settle_files(self.sessions, done)

    # -- scanning ------------------------------------------------------------------------------

    def scan(self, fd: int) -> None:
        """Look at the directory (held by `fd`) once and record what changed (see the module docstring)."""
        listing = list_files(fd)
        if self._first_scan:
            self._first_scan = False
            self._ignore_errored(listing)
        now = time.monotonic()
        suffix = self.config.transfer_suffix
        new: list[tuple[str, Transfer, Stat]] = []
        sizes: dict[int, int] = {}
        errors: dict[int, str] = {}
        completed: list[tuple[str, CompletedFile, Stat]] = []
        busy = self._busy_names(fd)
        for name, current in listing.items():
            if name in self._ignored:
                if self._ignored[name] == current:
                    continue
                del self._ignored[name]  # it changed: a new attempt at the transfer
            path = self.directory / name
            if name in self._deferred:
                if self._recheck_deferred and name not in busy:
                    completed.append((name, CompletedFile(name, path, current[0], self._deferred[name]), current))
                continue
            if suffix and name.endswith(suffix):
                file_name = name.removesuffix(suffix)
                if file_name:
                    self._follow(name, Transfer(file_name, path, current[0]), current, now, new, sizes, errors,
                                 stall=True)
                continue
            tracked = self.tracked.get(name + suffix) if suffix else self.tracked.get(name)
            if not suffix and not self._settled(name, path, current, now, new, sizes):
                continue
            if name in busy:
                continue  # a file of this name is still being ingested: wait for it to leave
            completed.append((name, CompletedFile(name, path, current[0], tracked.ingest_id if tracked else None),
                              current))
        self._recheck_deferred = False
        for key, tracked in list(self.tracked.items()):
            renamed = bool(suffix) and key.endswith(suffix or "") and key.removesuffix(suffix or "") in listing
            if key not in listing and not renamed:
                errors[tracked.ingest_id] = "the file vanished before its transfer was complete"
                del self.tracked[key]
        for name, ingest_id in list(self._deferred.items()):
            if name not in listing:
                errors[ingest_id] = "the file was removed while it was DEFERRED"
                del self._deferred[name]
        self._write(fd, new, sizes, errors, completed)

    def _follow(self, key: str, transfer: Transfer, current: Stat, now: float, new: list[tuple[str, Transfer, Stat]],
                sizes: dict[int, int], errors: dict[int, str], *, stall: bool) -> None:
        """Track a file still being transferred: new, grown, or (suffixed) stalled."""
        tracked = self.tracked.get(key)
        if tracked is None:
            new.append((key, transfer, current))
        elif tracked.stat != current:
            tracked.stat, tracked.since = current, now
            sizes[tracked.ingest_id] = current[0]
        elif stall and now - tracked.since >= self.stall_seconds:
            errors[tracked.ingest_id] = (f"the transfer stalled: {current[0]} bytes and no change for "
                                         f"{self.stall_seconds:g}s")
            self._ignored[key] = current
            del self.tracked[key]

    def _settled(self, name: str, path: Path, current: Stat, now: float, new: list[tuple[str, Transfer, Stat]],
                 sizes: dict[int, int]) -> bool:
        """Without a transfer suffix: True once the file's size and mtime held for `settle_seconds`."""
        tracked = self.tracked.get(name)
        if tracked is not None and tracked.stat == current:
            return now - tracked.since >= self.settle_seconds
        self._follow(name, Transfer(name, path, current[0]), current, now, new, sizes, {}, stall=False)
        return False

    @staticmethod
    def _busy_names(fd: int) -> set[str]:
        try:
            return {name for name, _regular in _entries(fd, INGESTING_DIR)}
        except OSError:
            return set()

    def _ignore_errored(self, listing: dict[str, Stat]) -> None:
        """After a restart: files left in place by an ERRORED ingest stay ignored until they change."""
        paths = {str(self.directory / name): name for name in listing if name not in self.tracked}
        with self.sessions() as session:
            rows = transfers.errored_at(session, self.strike_id, list(paths))
        for path, row in rows.items():
            name = paths[path]
            if row.bytes_transferred == listing[name][0]:
                self._ignored[name] = listing[name]

    # -- writing -------------------------------------------------------------------------------

    def _write(self, fd: int, new: Sequence[tuple[str, Transfer, Stat]], sizes: dict[int, int],
               errors: dict[int, str], completed: Sequence[tuple[str, CompletedFile, Stat]]) -> None:
        now = time.monotonic()
        first = list(completed[:BATCH])
        with self.sessions.begin() as session:
            rows = transfers.start_transfers(session, self.strike_id, [transfer for _key, transfer, _stat in new])
            transfers.update_transfers(session, sizes)
            transfers.error_ingests(session, errors)
            registered = transfers.register_files(session, self.strike_id, self.config,
                                                  [item for _name, item, _stat in first], mount_dir=self.directory)
        for (key, _transfer, current), row in zip(new, rows, strict=True):
            self.tracked[key] = _Tracked(row.id, current, now)
        self._handle_registered(fd, first, registered)
        for start in range(BATCH, len(completed), BATCH):
            chunk = list(completed[start:start + BATCH])
            with self.sessions.begin() as session:
                registered = transfers.register_files(session, self.strike_id, self.config,
                                                      [item for _name, item, _stat in chunk], mount_dir=self.directory)
            self._handle_registered(fd, chunk, registered)

    def _handle_registered(self, fd: int, completed: Sequence[tuple[str, CompletedFile, Stat]],
                           rows: Sequence[Ingest]) -> None:
        """After the commit: move TRANSFERRED files into `ingesting/` and hand them on; remember
        DEFERRED and ERRORED files left in place."""
        stats = {name: current for name, _item, current in completed}
        by_name = {Path(row.transfer_path or row.file_name).name: row for row in rows}
        suffix = self.config.transfer_suffix
        moved: list[int] = []
        failed: dict[int, str] = {}
        for name, _item, _stat in completed:
            self.tracked.pop(name + suffix if suffix else name, None)
            self._deferred.pop(name, None)
            row = by_name.get(name)
            if row is None:
                continue
            if row.status == IngestStatus.DEFERRED:
                self._deferred[name] = row.id
            elif row.status == IngestStatus.ERRORED:
                self._ignored[name] = stats[name]
            elif row.status == IngestStatus.TRANSFERRED:
                assert row.transfer_path and row.ingest_path
                try:
                    self._move_in(fd, name)
                except OSError as error:
                    failed[row.id] = f"cannot move the file into {INGESTING_DIR}/: {error}"
                    continue
                moved.append(row.id)
        if failed:
            with self.sessions.begin() as session:
                service.fail_ingests(session, failed)
        if moved:
            log.info("strike %s: %d files transferred", self.strike_id, len(moved))
            self.on_transferred(moved)


def list_files(fd: int) -> dict[str, Stat]:
    """Regular, visible files on the top level of the directory `fd` (opened for reading),
    oldest first: name -> (size, mtime ns)."""
    found: dict[str, Stat] = {}
    try:
        with os.scandir(fd) as entries:
            names = [entry.name for entry in entries]
    except OSError as error:
        log.error("cannot list the Strike directory: %s", error)
        return found
    for name in names:
        if name.startswith("."):
            continue
        try:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        except OSError as error:  # a directory that may be listed but not searched
            log.warning("cannot look at %s: %s; skipping it", name, error.strerror)
            continue
        if stat.S_ISREG(info.st_mode):
            found[name] = (info.st_size, info.st_mtime_ns)
    # Oldest first, so that files are handed on in the order they landed.
    return dict(sorted(found.items(), key=lambda item: (item[1][1], item[0])))


def _entries(fd: int, folder: str) -> list[tuple[str, bool]]:
    """(name, is a regular file) of what is in `folder`, opened beneath the directory `fd`."""
    listing = confined.open_beneath(fd, folder, _LISTING)
    try:
        with os.scandir(listing) as entries:
            names = [entry.name for entry in entries]
        return [(name, _is_regular(listing, name)) for name in names]
    finally:
        os.close(listing)


def _is_regular(folder: int, name: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False

