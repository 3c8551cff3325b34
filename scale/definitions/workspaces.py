"""Workspaces: where source and product files are stored, through a broker
(`json_config.broker`: `nfs` or `host`).

Beyond the reference: `is_public` (default false) lets anyone download the workspace's files;
the files of other workspaces need a token even when reads are open (docs/decisions.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scale.definitions.fields import BOOLEAN, JSON_OBJECT, SHORT_TEXT, STABLE_NAME, TEXT, body_schema
from scale.errors import Conflict, NotFound, ValidationError
from scale.listing import Filter, ListSpec, parse_bool
from scale.models.workspaces import Workspace
from scale.specs import workspace_configuration
from scale.specs._schema import validate
from scale.timeutil import utcnow

_FIELDS = {
    "title": SHORT_TEXT,
    "description": TEXT,
    "base_url": {"type": ["string", "null"], "maxLength": 1000},
    "is_active": BOOLEAN,
    "is_public": BOOLEAN,
    "json_config": JSON_OBJECT,
}
CREATE_SCHEMA = body_schema({"name": STABLE_NAME, **_FIELDS}, required=("name", "json_config"))
EDIT_SCHEMA = body_schema(_FIELDS)

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


def parse_json_config(doc: Any, *, home: Path) -> dict[str, Any]:
    """The workspace configuration, validated against Scale's `home` too; fields start with `json_config`."""
    try:
        return workspace_configuration.parse(doc, home=home).to_dict()
    except ValidationError as error:
        raise error.within("json_config") from None


def create_workspace(session: Session, body: dict[str, Any], *, home: Path) -> Workspace:
    """Create a workspace from a create body. `home` is Scale's home, which no workspace may hold.

    Raises ValidationError (a Conflict for a taken `name`) before anything is written."""
    validate(body, CREATE_SCHEMA)
    json_config = parse_json_config(body["json_config"], home=home)
    if workspaces_by_name(session, {body["name"]}):
        raise Conflict("name", f"a workspace called {body['name']!r} already exists")
    now = utcnow()
    workspace = Workspace(name=body["name"], title=body.get("title"),
                          description=body.get("description"), base_url=body.get("base_url"),
                          is_active=body.get("is_active", True), is_public=body.get("is_public", False),
                          json_config=json_config,
                          created=now, last_modified=now,
                          archived=None if body.get("is_active", True) else now)
    session.add(workspace)
    session.flush()
    return workspace


def edit_workspace(session: Session, workspace_id: int, body: dict[str, Any], *, home: Path) -> Workspace:
    """Apply an edit body; `home` as for `create_workspace`. Raises ValidationError before
    anything is written, NotFound for an unknown id."""
    validate(body, EDIT_SCHEMA)
    json_config = parse_json_config(body["json_config"], home=home) if "json_config" in body else None
    workspace = get_workspace(session, workspace_id)
    now = utcnow()
    for name, value in body.items():
        if name == "json_config":
            value = json_config
        elif name == "is_active" and value != workspace.is_active:
            workspace.archived = None if value else now
        setattr(workspace, name, value)
    workspace.last_modified = now
    session.flush()
    return workspace
