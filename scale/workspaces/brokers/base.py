"""The broker interface: how Scale stores, fetches and removes files in one workspace.

Every path a broker takes is relative to the workspace root and may not leave it: `..`
segments, absolute paths and symlinks that resolve outside the root are refused with
ValidationError (field `path`), at the moment of each use (`scale.workspaces.confined`).
Returned paths are the normalized relative form that `ScaleFile.file_path` keeps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class Space:
    """The figures of the file system a workspace's root is on, in bytes (the reference's
    `used_size` and `total_size`)."""

    used: int
    total: int


class Broker(Protocol):
    """One workspace's storage. Implementations are registered by `type` in
    `scale.workspaces.brokers.BROKER_TYPES`."""

    def store(self, local: Path | BinaryIO, rel_path: str) -> str:
        """Copy the local file (a path, or a file already open for binary reading, copied from
        where it stands) into the workspace at `rel_path`, creating its parents. Readers never
        see a partly written file. Returns the stored relative path."""

    def retrieve(self, rel_path: str, local_path: Path) -> None:
        """Copy the workspace file at `rel_path` to `local_path`, creating its parents.
        Raises NotFound when there is no such file."""

    def move(self, src_rel: str, dst_rel: str) -> str:
        """Move a file within the workspace; returns the new relative path.
        Raises NotFound when `src_rel` does not exist."""

    def delete(self, rel_path: str) -> None:
        """Remove the file; removing a file that is already gone is not an error."""

    def open_read(self, rel_path: str) -> BinaryIO:
        """The file opened for binary reading (API downloads). Raises NotFound."""

    def exists(self, rel_path: str) -> bool:
        """True when a regular file is stored at `rel_path`."""

    def size(self, rel_path: str) -> int:
        """The file's size in bytes. Raises NotFound."""

    def space(self) -> Space | None:
        """The used and total bytes of the file system under the root, from one `statvfs` of the
        root's descriptor (no walk, nothing mounted or created). None when the root is missing,
        cannot be reached, or is not the directory it was configured with."""
