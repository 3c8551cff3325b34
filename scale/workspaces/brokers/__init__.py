"""Workspace brokers: one registry keyed by the broker `type` of a workspace configuration.

`nfs` workspaces (the reference's broker) arrive with Strike ingest in issue 4; until then
asking for one is an Unsupported error (501) that says so."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from scale.errors import ConfigError, Unsupported
from scale.models.workspaces import Workspace
from scale.workspaces.brokers.base import Broker
from scale.workspaces.brokers.host import HostBroker

__all__ = ["BROKER_TYPES", "Broker", "HostBroker", "broker_for"]

# A broker type's factory takes the validated `json_config["broker"]` object.
BROKER_TYPES: dict[str, Callable[[Mapping[str, Any]], Broker]] = {
    "host": HostBroker.from_config,
}


def broker_for(workspace: Workspace) -> Broker:
    """The broker that stores `workspace`'s files, from its `json_config["broker"]`.

    Raises Unsupported for `nfs` (not yet built) and ConfigError for a type no build knows
    (the workspace configuration spec refuses those, so only a hand-edited row has one)."""
    config = (workspace.json_config or {}).get("broker") or {}
    kind = config.get("type")
    if kind == "nfs":
        raise Unsupported(f"workspace {workspace.name!r}: nfs brokers are not supported yet; "
                          "use a host broker (nfs arrives with Strike ingest)")
    factory = BROKER_TYPES.get(kind) if isinstance(kind, str) else None
    if factory is None:
        raise ConfigError(f"workspace {workspace.name!r} has an unknown broker type {kind!r}")
    return factory(config)
