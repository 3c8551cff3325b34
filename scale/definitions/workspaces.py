"""Workspaces: where source and product files are stored, through a broker
(`json_config.broker`: `nfs` or `host`).

`used_size` and `total_size` are the file system's figures under the workspace's root, read when
asked (`workspace_space`: one `statvfs`, bounded by `SPACE_TIMEOUT`), null when they are unknown.

Beyond the reference: `is_public` (default false) lets anyone download the workspace's files;
the files of other workspaces need a token even when reads are open (docs/decisions.md)."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from scale.definitions.commands import WorkspaceCreate, WorkspaceEdit
from scale.exceptions import ConfigError, Conflict, NotFound
from scale.listing import Filter, ListSpec, parse_bool
from scale.models.workspaces import Workspace
from scale.timeutil import utcnow
from scale.workspaces.brokers import Space, broker_for

log = logging.getLogger(__name__)

# How long a workspace's space figures are waited for. A soft NFS mount of an unreachable server
# answers `statvfs` only after its retries (~30 s); the listing must not wait that long.
SPACE_TIMEOUT = 2.0

WORKSPACE_LIST = ListSpec(
    filters={"name": Filter(Workspace.name), "is_active": Filter(Workspace.is_active, parse_bool)},
    orders={"id": Workspace.id, "name": Workspace.name, "title": Workspace.title,
            "created": Workspace.created, "last_modified": Workspace.last_modified},
    default_order=("name",),
    time_column=Workspace.last_modified,
)


def list_workspaces_statement():
    return select(Workspace)


def get_workspace(session: Session, workspace_id: int) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise NotFound(f"workspace {workspace_id} does not exist")
    return workspace


def workspaces_by_name(session: Session, names: set[str]) -> dict[str, Workspace]:
    if not names:
        return {}
    stmt = select(Workspace).where(Workspace.name.in_(names))
    return {w.name: w for w in session.scalars(stmt)}


def create_workspace(session: Session, command: WorkspaceCreate) -> Workspace:
    """Create a workspace. Raises a Conflict for a taken `name` before anything is written."""
    if workspaces_by_name(session, {command.name}):
        raise Conflict("name", f"a workspace called {command.name!r} already exists")
    now = utcnow()
    workspace = Workspace(name=command.name, title=command.title, description=command.description,
                          base_url=command.base_url, is_active=command.is_active, is_public=command.is_public,
                          json_config=command.json_config.to_dict(), created=now, last_modified=now,
                          archived=None if command.is_active else now)
    session.add(workspace)
    session.flush()
    return workspace


def edit_workspace(session: Session, workspace_id: int, edit: WorkspaceEdit) -> Workspace:
    """Apply the edit's given fields; NotFound for an unknown id."""
    workspace = get_workspace(session, workspace_id)
    now = utcnow()
    for name in sorted(edit.given):
        value = getattr(edit, name)
        if name == "json_config":
            value = value.to_dict()
        elif name == "is_active" and value != workspace.is_active:
            workspace.archived = None if value else now
        setattr(workspace, name, value)
    workspace.last_modified = now
    session.flush()
    return workspace


def workspace_space(workspace: Workspace) -> Space | None:
    """The used and total bytes of the file system under `workspace`'s root, or None when they are
    unknown: the root is missing, unreachable, not the directory it was configured with, an NFS
    export not mounted yet (reading the figures never mounts), or no answer within `SPACE_TIMEOUT`."""
    try:
        broker = broker_for(workspace)
    except ConfigError:
        return None
    answer: list[Space | None] = []
    # A daemon thread: one stuck in the kernel on a dead server never holds up the process's exit.
    reader = threading.Thread(target=lambda: answer.append(broker.space()), daemon=True,
                              name=f"workspace-space-{workspace.name}")
    reader.start()
    reader.join(SPACE_TIMEOUT)
    if not answer:
        log.warning("workspace %r: no space figures within %.0f s", workspace.name, SPACE_TIMEOUT)
        return None
    return answer[0]
