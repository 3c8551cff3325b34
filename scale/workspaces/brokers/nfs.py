"""The `nfs` broker (the reference's): a workspace on an NFS export, `mount` = `host:/path`.

The export is mounted at `<mount root>/workspaces/<workspace name>` the first time the broker
touches a file (not when it is built, so listing or serializing a workspace never mounts), then
the broker is a host broker on that directory: the same confinement at every use and atomic
writes. The mount root comes from trusted settings and is made canonical (`os.path.realpath`)
once, when the process configures its brokers, so the mount point has no symlink on its way and
the host broker's walk from `/` finds it. A mount that fails is a MountError naming the
workspace, the remote and what `mount` said (not the mount point: see `MountError.for_owner`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scale.workspaces.brokers.base import Space
from scale.workspaces.brokers.host import HostBroker
from scale.workspaces.mounts import MountError, ensure_nfs_mounted, mount_point, mounted_at


class NfsBroker(HostBroker):
    """Files under the mount of `remote` at `mount_point`, mounted on first use."""

    def __init__(self, workspace_name: str, remote: str, mount_point: Path) -> None:
        super().__init__(mount_point, name=workspace_name)
        self.workspace_name = workspace_name
        self.remote = remote
        self._mounted = False

    @classmethod
    def for_workspace(cls, workspace_name: str, config: Mapping[str, Any], mount_root: Path) -> NfsBroker:
        """The broker for `{"type": "nfs", "mount": ...}` of the workspace called `workspace_name`."""
        return cls(workspace_name, config["mount"], mount_point(mount_root, "workspaces", workspace_name))

    def space(self) -> Space | None:
        """The figures of what is mounted at the mount point; None (and nothing mounted) when the
        export is not mounted yet, or another export is."""
        current = mounted_at(self.root)
        if current is None or (current[1].startswith("nfs") and current[0].rstrip("/") != self.remote.rstrip("/")):
            return None
        return super().space()

    @contextmanager
    def _root(self, rel_path: str, *, create: bool, missing_ok: bool = False) -> Iterator[Any]:
        # Every operation checks its path (`_relative`) before it opens the root, so a bad path is
        # refused before anything is mounted.
        if not self._mounted:
            try:
                ensure_nfs_mounted(self.remote, self.root)
            except MountError as error:
                raise error.for_owner(f"workspace {self.workspace_name!r}") from error
            self._mounted = True
        with super()._root(rel_path, create=create, missing_ok=missing_ok) as fd:
            yield fd
