"""Workspace services: `/api/workspaces/` (create and edit go beyond the reference)."""

from __future__ import annotations

from flask import url_for
from flask_restx import Namespace, Resource

from api.body import json_object
from api.context import db_session
from api.listing import document_list, list_response
from api.serialize import workspaces as serialize
from scale.definitions import workspaces

ns = Namespace("workspaces", description="Where source and product files are stored")

WORKSPACE_BODY = ns.schema_model("WorkspaceCreate", workspaces.CREATE_SCHEMA)
WORKSPACE_EDIT = ns.schema_model("WorkspaceEdit", workspaces.EDIT_SCHEMA)


@ns.route("/")
class WorkspaceList(Resource):
    @document_list(ns, workspaces.WORKSPACE_LIST)
    def get(self):
        """List workspaces."""
        return list_response(workspaces.list_workspaces_statement(), workspaces.WORKSPACE_LIST,
                             serialize.workspace_summary)

    @ns.expect(WORKSPACE_BODY)
    @ns.response(201, "Created")
    def post(self):
        """Create a workspace."""
        session = db_session()
        workspace = workspaces.create_workspace(session, json_object())
        session.commit()
        location = url_for("api.workspaces_workspace_detail", workspace_id=workspace.id)
        return serialize.workspace_detail(workspace), 201, {"Location": location}


@ns.route("/<int:workspace_id>/")
class WorkspaceDetail(Resource):
    def get(self, workspace_id: int):
        """Details of one workspace, with its configuration."""
        return serialize.workspace_detail(workspaces.get_workspace(db_session(), workspace_id))

    @ns.expect(WORKSPACE_EDIT)
    def patch(self, workspace_id: int):
        """Edit a workspace; `is_active: false` archives it."""
        session = db_session()
        workspace = workspaces.edit_workspace(session, workspace_id, json_object())
        session.commit()
        return serialize.workspace_detail(workspace)
