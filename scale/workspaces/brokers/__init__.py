"""Workspace brokers: one registry keyed by the broker `type` of a workspace configuration.

`host` is a directory on this machine; `nfs` (the reference's) is an NFS export that the
broker mounts under the process's mount root (`Settings.mount_root`). Every process sets that
root once at start with `configure(mount_root=...)` (the `scale` commands and the web app do),
so the many places that ask `broker_for(workspace)` need no settings of their own. The root is
made canonical there, once (see `nfs`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from scale.exceptions import ConfigError
from scale.models.workspaces import Workspace
from scale.workspaces.brokers.base import Broker, Space
from scale.workspaces.brokers.host import HostBroker
from scale.workspaces.brokers.nfs import NfsBroker

__all__ = ["BROKER_TYPES", "Broker", "HostBroker", "NfsBroker", "Space", "broker_for", "configure"]

_mount_root: Path | None = None


def configure(*, mount_root: Path | None) -> None:
    """Set where this process mounts `nfs` workspaces (`Settings.mount_root`); call at start.
    The path is resolved here, once: a settings value may name it through a symlink, but at use
    every folder on the way to a mount point must be a real one."""
    global _mount_root
    _mount_root = Path(os.path.realpath(mount_root)) if mount_root is not None else None


def _nfs(workspace_name: str, config: Mapping[str, Any]) -> Broker:
    if _mount_root is None:
        raise ConfigError(f"workspace {workspace_name!r} is on NFS, but this process has no mount root "
                          "(SCALE_MOUNT_ROOT; brokers.configure was not called)")
    return NfsBroker.for_workspace(workspace_name, config, _mount_root)


# A broker type's factory takes the workspace name and the validated `json_config["broker"]`.
BROKER_TYPES: dict[str, Callable[[str, Mapping[str, Any]], Broker]] = {
    "host": lambda name, config: HostBroker.from_config(config, name=name),
    "nfs": _nfs,
}


def broker_for(workspace: Workspace) -> Broker:
    """The broker that stores `workspace`'s files, from its `json_config["broker"]`. Building it
    touches nothing; an `nfs` broker mounts on its first file operation (MountError if it cannot).

    Raises ConfigError for a type no build knows (the workspace configuration spec refuses
    those, so only a hand-edited row has one)."""
    config = (workspace.json_config or {}).get("broker") or {}
    kind = config.get("type")
    factory = BROKER_TYPES.get(kind) if isinstance(kind, str) else None
    if factory is None:
        raise ConfigError(f"workspace {workspace.name!r} has an unknown broker type {kind!r}")
    return factory(workspace.name, config)
