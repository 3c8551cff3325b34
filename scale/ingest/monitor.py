"""The Strike monitor: watches one Strike's directory and records what lands there as ingests.

`scale strike <id>` (the long-running `scale-strike` job) runs `StrikeMonitor.run`. It watches
the directory's top level with filesystem events (watchdog; inotify on Linux) and also rescans
it every `rescan_seconds`, so NFS mounts (whose remote writes raise no local events) and missed
events are covered. A scan is a directory listing; each scan's database writes are one batch.

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

The Strike row is re-read every `reload_seconds`: a changed configuration applies at once (the
monitor starts over on it, as a restart would); `is_active` false, or the row gone, ends `run`
with exit code 0.

The boundary (`scale.workspaces.confined`): every scan and tidy opens the directory afresh by
walking its configured path without following symlinks, then lists, looks at and renames files
only by name in that descriptor (and in `ingesting/`'s, opened beneath it). A directory that is,
or sits under, a symlink (swapped while watched, say) is refused: an error is logged once, nothing
is listed or moved, and the monitor keeps running; when the real directory is back it picks up
again (and watches the directory now at that path).
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from scale.exceptions import ScaleError
from scale.ingest import service, tidy, transfers
from scale.ingest.transfers import CompletedFile, Transfer
from scale.models.ingest import Ingest, IngestStatus, Strike
from scale.specs import strike_configuration
from scale.specs.strike_configuration import StrikeConfiguration
from scale.workspaces import confined
from scale.workspaces.mounts import ensure_nfs_mounted, mount_point

log = logging.getLogger(__name__)

# At most this many files are registered (and handed on) per transaction, so the first files of
# a large batch reach their ingest tasks without waiting for the whole batch.
BATCH = 500
# How soon after an event the directory is scanned again, and how often files still settling
# are looked at.
POLL_SECONDS = 0.2
DEFAULT_STALL_SECONDS = 3600.0

Stat = tuple[int, int]  # (size, mtime in ns)
_LISTING = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


@dataclass
class _Tracked:
    """A file being transferred: its ingest, what it looked like, and since when."""

    ingest_id: int
    stat: Stat | None
    since: float


class StrikeMonitor:
    """Watches one Strike's directory until `stop()`, deactivation or removal of the Strike."""

    def __init__(self, sessions: sessionmaker, strike_id: int, *, mount_root: Path,
                 on_transferred: Callable[[list[int]], None], settle_seconds: float = 5.0,
                 rescan_seconds: float = 10.0, stall_seconds: float = DEFAULT_STALL_SECONDS,
                 reload_seconds: float = 1.0) -> None:
        self.sessions = sessions
        self.strike_id = strike_id
        # Resolved once: at use, every folder on the way to a mount point must be a real one.
        self.mount_root = Path(os.path.realpath(mount_root))
        self.on_transferred = on_transferred
        self.settle_seconds = settle_seconds
        self.rescan_seconds = rescan_seconds
        self.stall_seconds = stall_seconds
        self.reload_seconds = reload_seconds
        self._wake = threading.Event()
        self._stopped = False
        self.scans = 0  # scans made so far (logs and tests watch it)
        self._observer: Any = None
        self._watched: tuple[int, int] | None = None  # (device, inode) of the directory watched
        self._refused = False  # the directory was refused at the last look (logged once)
        self._reset()

    def _reset(self) -> None:
        self.config: StrikeConfiguration | None = None
        self.directory: Path | None = None
        self._tracked: dict[str, _Tracked] = {}   # on-disk name -> transfer in progress
        self._deferred: dict[str, int] = {}        # name -> DEFERRED ingest id
        self._ignored: dict[str, Stat] = {}        # name -> stat of a file left ERRORED in place
        self._recheck_deferred = False
        self._first_scan = True

    # -- running -------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask `run` to return (from a signal handler or another thread)."""
        self._stopped = True
        self._wake.set()

    def run(self) -> int:
        """Watch until stopped; returns the exit code (0: stopped, deactivated or removed)."""
        next_reload = next_scan = next_tidy = 0.0
        raw: dict[str, Any] | None = None
        try:
            while not self._stopped:
                now = time.monotonic()
                if now >= next_reload:
                    next_reload = now + self.reload_seconds
                    strike = self._read_strike()
                    if strike is None:
                        return 0
                    if strike.configuration != raw:
                        raw = strike.configuration
                        self._restart(strike)
                        next_scan = next_tidy = now
                if self.directory is None:
                    if now >= next_scan:
                        next_scan = now + self.rescan_seconds
                        self._open(self._read_strike())
                elif self._wake.is_set() or now >= next_scan:
                    self._wake.clear()
                    self.scan()
                    busy = bool(self._tracked)
                    next_scan = time.monotonic() + (POLL_SECONDS if busy else self.rescan_seconds)
                    if now >= next_tidy:
                        next_tidy = now + self.rescan_seconds
                        self.tidy()
                self._wake.wait(max(0.0, min(next_reload, next_scan) - time.monotonic()))
            return 0
        finally:
            self._unwatch()

    def _read_strike(self) -> Strike | None:
        """The Strike while it is active; None when it was deactivated or deleted."""
        with self.sessions() as session:
            strike = session.get(Strike, self.strike_id)
            if strike is None or not strike.is_active:
                log.info("strike %s is %s; stopping", self.strike_id, "gone" if strike is None else "inactive")
                return None
            session.expunge(strike)
            return strike

    def _restart(self, strike: Strike) -> None:
        self._unwatch()
        self._reset()
        try:
            # The home was checked when the configuration was stored; system directories are
            # refused again here, so a row written before that rule existed is not watched.
            self.config = strike_configuration.parse(strike.configuration, home=None)
        except ScaleError as error:
            log.error("strike %s: its configuration is invalid (%s); waiting for an edit", strike.name, error)
            return
        self._open(strike)

    def _open(self, strike: Strike | None) -> None:
        """Find (or mount) the directory, make the Strike's folders, resume, and start watching.
        A directory that cannot be reached is logged and tried again at the next rescan."""
        if strike is None or self.config is None:
            return
        try:
            directory = self._directory(strike.name, self.config)
            fd = confined.open_root(directory)
        except (OSError, ScaleError) as error:
            log.error("strike %s: cannot use %s: %s; retrying in %ss", strike.name, self.config.mount,
                      _reason(error), self.rescan_seconds)
            return
        try:
            for folder in tidy.STRIKE_DIRS:
                try:
                    os.mkdir(folder, dir_fd=fd)
                except FileExistsError:
                    pass
            self.directory = directory
            self._resume(fd)
            self._watch(directory, fd)
        except OSError as error:
            log.error("strike %s: cannot use %s: %s; retrying in %ss", strike.name, self.config.mount, error,
                      self.rescan_seconds)
            return
        finally:
            os.close(fd)
        log.info("strike %s watching %s", strike.name, directory)

    def _directory(self, strike_name: str, config: StrikeConfiguration) -> Path:
        if config.mount_type == "nfs":
            return ensure_nfs_mounted(config.mount, mount_point(self.mount_root, "strikes", strike_name))
        return Path(config.mount_path)

    def _hold(self) -> int | None:
        """The directory opened now, by walking its path without following symlinks; None when it
        cannot be (a symlink on its way, gone), logged once until it is back."""
        assert self.directory is not None
        try:
            fd = confined.open_root(self.directory, flags=os.O_RDONLY)
        except OSError as error:
            if not self._refused:
                self._refused = True
                log.error("strike %s: refusing to touch %s: %s; nothing is listed or moved until it is a "
                          "directory of its own again", self.strike_id, self.directory, _reason(error))
            return None
        if self._refused:
            self._refused = False
            log.info("strike %s: %s is a directory again; resuming", self.strike_id, self.directory)
        self._watch(self.directory, fd)
        return fd

    def _watch(self, directory: Path, fd: int) -> None:
        """Watch the directory held by `fd` for events, unless it is the one already watched (a
        directory put back after a swap is a new one: its events would otherwise be missed)."""
        info = os.fstat(fd)
        if self._watched == (info.st_dev, info.st_ino):
            return
        self._unwatch()
        self._watched = (info.st_dev, info.st_ino)
        handler = _WakeOnChange(self._wake, directory)
        observer = Observer()
        try:
            observer.schedule(handler, str(directory), recursive=False)
            observer.start()
        except OSError as error:
            # Out of inotify watches, say: the periodic rescan still sees every file.
            log.warning("cannot watch %s for events (%s); relying on rescans", directory, error)
            return
        self._observer = observer

    def _unwatch(self) -> None:
        self._watched = None
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None

    # -- resuming ------------------------------------------------------------------------------

    def _resume(self, fd: int) -> None:
        """Pick up the Strike's unfinished ingests (see the module docstring); `fd` holds the directory."""
        assert self.directory is not None
        now = time.monotonic()
        resend: list[int] = []
        with self.sessions() as session:
            rows = transfers.live_ingests(session, self.strike_id)
        for row in rows:
            name = Path(row.transfer_path).name if row.transfer_path else row.file_name
            if row.status == IngestStatus.TRANSFERRING:
                self._tracked[self._key_for(name)] = _Tracked(row.id, None, now)
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
        suffix = self.config.transfer_suffix if self.config else None
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
        ingesting = confined.open_beneath(fd, tidy.INGESTING_DIR, os.O_PATH | os.O_DIRECTORY)
        try:
            if only_if_missing and _exists(ingesting, name):
                return
            os.rename(name, name, src_dir_fd=fd, dst_dir_fd=ingesting)
        finally:
            os.close(ingesting)

    def tidy(self) -> None:
        """Tidy files in `ingesting/` whose ingest has finished (a crash between its commit and
        the removal or move of the file)."""
        assert self.directory is not None
        fd = self._hold()
        if fd is None:
            return
        try:
            names = [name for name, regular in _entries(fd, tidy.INGESTING_DIR) if regular]
        except OSError:
            return
        finally:
            os.close(fd)
        if not names:
            return
        folder = self.directory / tidy.INGESTING_DIR
        with self.sessions() as session:
            newest = dict(session.execute(
                select(Ingest.ingest_path, func.max(Ingest.id)).where(
                    Ingest.file_name.in_(names), Ingest.strike_id == self.strike_id,
                    Ingest.ingest_path.in_([str(folder / name) for name in names])).group_by(Ingest.ingest_path)
            ).all())
            done = session.scalars(select(Ingest.id).where(Ingest.id.in_(list(newest.values())),
                                                           Ingest.status.in_(tidy.FINAL))).all()
        tidy.settle_files(self.sessions, done)

    # -- scanning ------------------------------------------------------------------------------

    def scan(self) -> None:
        """Look at the directory once and record what changed (see the module docstring)."""
        assert self.directory is not None and self.config is not None
        self.scans += 1
        fd = self._hold()
        if fd is None:
            return
        try:
            self._scan(fd)
        finally:
            os.close(fd)

    def _scan(self, fd: int) -> None:
        assert self.directory is not None and self.config is not None
        listing = self._list(fd)
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
            tracked = self._tracked.get(name + suffix) if suffix else self._tracked.get(name)
            if not suffix and not self._settled(name, path, current, now, new, sizes):
                continue
            if name in busy:
                continue  # a file of this name is still being ingested: wait for it to leave
            completed.append((name, CompletedFile(name, path, current[0], tracked.ingest_id if tracked else None),
                              current))
        self._recheck_deferred = False
        for key, tracked in list(self._tracked.items()):
            renamed = bool(suffix) and key.endswith(suffix or "") and key.removesuffix(suffix or "") in listing
            if key not in listing and not renamed:
                errors[tracked.ingest_id] = "the file vanished before its transfer was complete"
                del self._tracked[key]
        for name, ingest_id in list(self._deferred.items()):
            if name not in listing:
                errors[ingest_id] = "the file was removed while it was DEFERRED"
                del self._deferred[name]
        self._write(fd, new, sizes, errors, completed)

    def _follow(self, key: str, transfer: Transfer, current: Stat, now: float, new: list[tuple[str, Transfer, Stat]],
                sizes: dict[int, int], errors: dict[int, str], *, stall: bool) -> None:
        """Track a file still being transferred: new, grown, or (suffixed) stalled."""
        tracked = self._tracked.get(key)
        if tracked is None:
            new.append((key, transfer, current))
        elif tracked.stat != current:
            tracked.stat, tracked.since = current, now
            sizes[tracked.ingest_id] = current[0]
        elif stall and now - tracked.since >= self.stall_seconds:
            errors[tracked.ingest_id] = (f"the transfer stalled: {current[0]} bytes and no change for "
                                         f"{self.stall_seconds:g}s")
            self._ignored[key] = current
            del self._tracked[key]

    def _settled(self, name: str, path: Path, current: Stat, now: float, new: list[tuple[str, Transfer, Stat]],
                 sizes: dict[int, int]) -> bool:
        """Without a transfer suffix: True once the file's size and mtime held for `settle_seconds`."""
        tracked = self._tracked.get(name)
        if tracked is not None and tracked.stat == current:
            return now - tracked.since >= self.settle_seconds
        self._follow(name, Transfer(name, path, current[0]), current, now, new, sizes, {}, stall=False)
        return False

    @staticmethod
    def _busy_names(fd: int) -> set[str]:
        try:
            return {name for name, _regular in _entries(fd, tidy.INGESTING_DIR)}
        except OSError:
            return set()

    @staticmethod
    def _list(fd: int) -> dict[str, Stat]:
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

    def _ignore_errored(self, listing: dict[str, Stat]) -> None:
        """After a restart: files left in place by an ERRORED ingest stay ignored until they change."""
        assert self.directory is not None
        paths = {str(self.directory / name): name for name in listing if name not in self._tracked}
        with self.sessions() as session:
            rows = transfers.errored_at(session, self.strike_id, list(paths))
        for path, row in rows.items():
            name = paths[path]
            if row.bytes_transferred == listing[name][0]:
                self._ignored[name] = listing[name]

    # -- writing -------------------------------------------------------------------------------

    def _write(self, fd: int, new: Sequence[tuple[str, Transfer, Stat]], sizes: dict[int, int],
               errors: dict[int, str], completed: Sequence[tuple[str, CompletedFile, Stat]]) -> None:
        assert self.directory is not None and self.config is not None
        now = time.monotonic()
        first = list(completed[:BATCH])
        with self.sessions.begin() as session:
            rows = transfers.start_transfers(session, self.strike_id, [transfer for _key, transfer, _stat in new])
            transfers.update_transfers(session, sizes)
            transfers.error_ingests(session, errors)
            registered = transfers.register_files(session, self.strike_id, self.config,
                                                  [item for _name, item, _stat in first], mount_dir=self.directory)
        for (key, _transfer, current), row in zip(new, rows, strict=True):
            self._tracked[key] = _Tracked(row.id, current, now)
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
        suffix = self.config.transfer_suffix if self.config else None
        moved: list[int] = []
        failed: dict[int, str] = {}
        for name, _item, _stat in completed:
            self._tracked.pop(name + suffix if suffix else name, None)
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
                    failed[row.id] = f"cannot move the file into {tidy.INGESTING_DIR}/: {error}"
                    continue
                moved.append(row.id)
        if failed:
            with self.sessions.begin() as session:
                service.fail_ingests(session, failed)
        if moved:
            log.info("strike %s: %d files transferred", self.strike_id, len(moved))
            self.on_transferred(moved)


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


def _exists(folder: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _reason(error: Exception) -> str:
    if isinstance(error, confined.SymlinkOnTheWay):
        return f"{error.component} is a symlink"
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error)


class _WakeOnChange(FileSystemEventHandler):
    """Wakes the monitor on any change on the top level, except its own moves into its folders."""

    def __init__(self, wake: threading.Event, directory: Path) -> None:
        self.wake = wake
        self.own = tuple(str(directory / folder) for folder in tidy.STRIKE_DIRS)

    def on_any_event(self, event: FileSystemEvent) -> None:
        dest = getattr(event, "dest_path", "")
        if isinstance(dest, bytes):
            dest = dest.decode(errors="replace")
        if dest and dest.startswith(self.own):
            return
        self.wake.set()
