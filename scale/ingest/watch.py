"""Filesystem events of one Strike directory's top level (watchdog; inotify on Linux), and the
one event they cannot carry: the kernel's inotify queue overflowed.

A burst of files larger than the inotify queue of the watch (`fs.inotify.max_queued_events`,
16,384 by default) makes the kernel drop every event after the queue fills and report
IN_Q_OVERFLOW instead. watchdog logs it and, for a watch that is not recursive, delivers
nothing: a monitor woken by events only would not know that files landed, and would find them
at its next periodic rescan, minutes later on a Strike with a long rescan interval. Here the
overflow calls `on_overflow`, and the monitor lists the directory at once. The overflow is
read after the events it replaced were dropped, so a listing made after it sees every file
those events were about. (Linux only, as the directory confinement is: `openat2`, `O_PATH`.)"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver
from watchdog.observers.inotify import InotifyEmitter, InotifyWatchGroup
from watchdog.observers.inotify_c import InotifyFD

from scale.ingest.tidy import STRIKE_DIRS


def watch_directory(directory: Path, *, on_change: Callable[[], None],
                    on_overflow: Callable[[], None]) -> BaseObserver:
    """Start watching the top level of `directory`: `on_change()` for any change except the
    Strike's own moves into its folders, `on_overflow()` when events were lost. Both are called
    from the observer's threads. Raises OSError when the watch cannot be set up (out of inotify
    watches or instances, say)."""
    observer = _OverflowObserver(on_overflow)
    observer.schedule(_OnChange(on_change, directory), str(directory), recursive=False)
    observer.start()
    return observer


class _OnChange(FileSystemEventHandler):
    """Calls `on_change` on any change on the top level, except the monitor's own moves into its folders."""

    def __init__(self, on_change: Callable[[], None], directory: Path) -> None:
        self.on_change = on_change
        self.own = tuple(str(directory / folder) for folder in STRIKE_DIRS)

    def on_any_event(self, event: FileSystemEvent) -> None:
        dest = getattr(event, "dest_path", "")
        if isinstance(dest, bytes):
            dest = dest.decode(errors="replace")
        if dest and dest.startswith(self.own):
            return
        self.on_change()


@dataclass
class _OverflowWatchGroup(InotifyWatchGroup):
    """watchdog's watch group, which also reports the queue's overflow."""

    on_overflow: Callable[[], None] = lambda: None

    def on_queue_overflow(self) -> None:
        super().on_queue_overflow()
        self.on_overflow()


class _OverflowEmitter(InotifyEmitter):
    """watchdog's inotify emitter on a watch group that reports the queue's overflow."""

    def __init__(self, *args: Any, on_overflow: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_overflow = on_overflow

    def on_thread_start(self) -> None:
        self._inotify = _OverflowWatchGroup(
            self._inotify_fd, os.fsencode(self.watch.path), is_recursive=self.watch.is_recursive,
            event_mask=self.get_event_mask_from_filter(), follow_symlink=self.watch.follow_symlink,
            on_overflow=self._on_overflow)


class _OverflowObserver(BaseObserver):
    """watchdog's `InotifyObserver` (one inotify instance of its own), with the emitter above."""

    def __init__(self, on_overflow: Callable[[], None]) -> None:
        self._inotify_fd = InotifyFD()
        self._inotify_fd.start()
        super().__init__(_OverflowEmitter, inotify_fd=self._inotify_fd, on_overflow=on_overflow)

    def on_thread_stop(self) -> None:
        super().on_thread_stop()
        self._inotify_fd.stop()
        self._inotify_fd.join()
