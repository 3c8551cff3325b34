"""The Strike monitor: watches one Strike's directory and records what lands there as ingests.

`scale strike <id>` (the long-running `scale-strike` job) runs `StrikeMonitor.run`. It watches
the directory's top level with filesystem events (watchdog; inotify on Linux) and also rescans
it every `rescan_seconds`, so NFS mounts (whose remote writes raise no local events) and missed
events are covered. Events lost to an overflow of the kernel's inotify queue (a burst of files)
are reported as such (`scale.ingest.watch`), and the monitor lists the directory at once.
What a scan makes of the directory's files, and how a restart resumes, is
`scale.ingest.directory` (`StrikeDirectory`).

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
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker

from scale.exceptions import ScaleError
from scale.ingest.directory import StrikeDirectory
from scale.ingest.tidy import STRIKE_DIRS
from scale.ingest.watch import watch_directory
from scale.models.ingest import Strike
from scale.specs import strike_configuration
from scale.specs.strike_configuration import StrikeConfiguration
from scale.workspaces import confined
from scale.workspaces.mounts import ensure_nfs_mounted, mount_point

log = logging.getLogger(__name__)

# How soon after an event the directory is scanned again, and how often files still settling
# are looked at.
POLL_SECONDS = 0.2
DEFAULT_STALL_SECONDS = 3600.0


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
        self.files: StrikeDirectory | None = None  # what is known of the directory's files

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
                    busy = bool(self.files and self.files.tracked)
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
            for folder in STRIKE_DIRS:
                try:
                    os.mkdir(folder, dir_fd=fd)
                except FileExistsError:
                    pass
            self.directory = directory
            self.files = StrikeDirectory(self.sessions, self.strike_id, self.config, directory,
                                         on_transferred=self.on_transferred, settle_seconds=self.settle_seconds,
                                         stall_seconds=self.stall_seconds)
            self.files.resume(fd)
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
        try:
            self._observer = watch_directory(directory, on_change=self._wake.set, on_overflow=self._overflowed)
        except OSError as error:
            # Out of inotify watches, say: the periodic rescan still sees every file.
            log.warning("cannot watch %s for events (%s); relying on rescans", directory, error)

    def _overflowed(self) -> None:
        log.warning("strike %s: the inotify queue overflowed (filesystem events were lost); listing %s now",
                    self.strike_id, self.directory)
        self._wake.set()

    def _unwatch(self) -> None:
        self._watched = None
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None

    # -- scanning and tidying -----------------------------------------------------------------

    def scan(self) -> None:
        """Look at the directory once and record what changed (`StrikeDirectory.scan`)."""
        assert self.files is not None
        self.scans += 1
        fd = self._hold()
        if fd is None:
            return
        try:
            self.files.scan(fd)
        finally:
            os.close(fd)

    def tidy(self) -> None:
        """Tidy files in `ingesting/` whose ingest has finished (`StrikeDirectory.tidy`)."""
        assert self.files is not None
        fd = self._hold()
        if fd is None:
            return
        try:
            self.files.tidy(fd)
        finally:
            os.close(fd)


def _reason(error: Exception) -> str:
    if isinstance(error, confined.SymlinkOnTheWay):
        return f"{error.component} is a symlink"
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error)
