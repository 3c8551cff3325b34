from __future__ import annotations

from typing import Any

from scale.models.workspaces import Workspace
from scale.timeutil import to_iso
from scale.workspaces.brokers import Space


def workspace_base(workspace: Workspace) -> dict[str, Any]:
    return {"id": workspace.id, "name": workspace.name}


def workspace_summary(workspace: Workspace, space: Space | None) -> dict[str, Any]:
    """The reference's workspace fields; `space` gives `used_size` and `total_size` (null: unknown)."""
    return {
        "id": workspace.id, "name": workspace.name, "title": workspace.title,
        "description": workspace.description, "base_url": workspace.base_url,
        "is_active": workspace.is_active, "is_public": workspace.is_public, "used_size": space.used if space else None,
        "total_size": space.total if space else None, "created": to_iso(workspace.created),
        "archived": to_iso(workspace.archived), "last_modified": to_iso(workspace.last_modified),
    }


def workspace_detail(workspace: Workspace, space: Space | None) -> dict[str, Any]:
    return {**workspace_summary(workspace, space), "json_config": workspace.json_config}
