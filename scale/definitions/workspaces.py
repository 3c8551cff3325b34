"""Workspaces: where source and product files are stored, through a broker
(`json_config.broker`: `nfs` or `host`)."""

from __future__ import annotations

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


def parse_json_config(doc: Any) -> dict[str, Any]:
    try:
        return workspace_configuration.parse(doc).to_dict()
    except ValidationError as error:
        raise error.within("json_config") from None


def create_workspace(session: Session, body: dict[str, Any]) -> Workspace:
    validate(body, CREATE_SCHEMA)
    json_config = parse_json_config(body["json_config"])
    if workspaces_by_name(session, {body["name"]}):
        raise Conflict("name", f"a workspace called {body['name']!r} already exists")
    now = utcnow()
    workspace = Workspace(name=body["name"], title=body.get("title"),
                          description=body.get("description"), base_url=body.get("base_url"),
                          is_active=body.get("is_active", True), json_config=json_config,
                          created=now, last_modified=now,
                          archived=None if body.get("is_active", True) else now)
    session.add(workspace)
    session.flush()
    return workspace


def edit_workspace(session: Session, workspace_id: int, body: dict[str, Any]) -> Workspace:
    validate(body, EDIT_SCHEMA)
    workspace = get_workspace(session, workspace_id)
    now = utcnow()
    for name, value in body.items():
        if name == "json_config":
            value = parse_json_config(value)
        elif name == "is_active" and value != workspace.is_active:
            workspace.archived = None if value else now
        setattr(workspace, name, value)
    workspace.last_modified = now
    session.flush()
    return workspace
