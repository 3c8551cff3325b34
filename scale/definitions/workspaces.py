"""Workspaces: where source and product files are stored, through a broker
(`json_config.broker`: `nfs` or `host`).

Beyond the reference: `is_public` (default false) lets anyone download the workspace's files;
the files of other workspaces need a token even when reads are open (docs/decisions.md)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scale.definitions.commands import WorkspaceCreate, WorkspaceEdit
from scale.exceptions import Conflict, NotFound
from scale.listing import Filter, ListSpec, parse_bool
from scale.models.workspaces import Workspace
from scale.timeutil import utcnow

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
