"""Workspace services: `/api/workspaces/` (create and edit go beyond the reference).

Beyond the reference: `is_public` (create, edit, list and details; default false), and
`GET /workspaces/{id}/files/<path>`, which streams the file stored at `path` (relative to the
workspace root) through the workspace's broker: 401 without a valid token unless the workspace
is public (even when reads are open), 404 for an unknown workspace or file, 400 for a path that
leaves the workspace (`..`, a symlink out), 403 for a file Scale may not read or a workspace whose
root is no longer the directory it was configured with (a symlink on its way), 503 when an NFS
workspace cannot be mounted (the message names the workspace and what `mount` said). Error
messages name the path in the workspace, never the host path."""

from __future__ import annotations

from pathlib import PurePosixPath

from flask import current_app, url_for
from flask_restx import Namespace, Resource

from api.body import json_object
from api.context import db_session
from api.downloads import send_workspace_file
from api.listing import document_list, list_response
from api.serialize import workspaces as serialize
from scale.definitions import commands, workspaces
from scale.settings import Settings

ns = Namespace("workspaces", description="Where source and product files are stored")

WORKSPACE_BODY = ns.schema_model("WorkspaceCreate", commands.WORKSPACE_CREATE_SCHEMA)
WORKSPACE_EDIT = ns.schema_model("WorkspaceEdit", commands.WORKSPACE_EDIT_SCHEMA)


@ns.route("/")
class WorkspaceList(Resource):
    @document_list(ns, workspaces.WORKSPACE_LIST)
    def get(self):
        """List workspaces."""
        return list_response(workspaces.list_workspaces_statement(), workspaces.WORKSPACE_LIST,
                             lambda w: serialize.workspace_summary(w, workspaces.workspace_space(w)))

    @ns.expect(WORKSPACE_BODY)
    @ns.response(201, "Created")
    def post(self):
        """Create a workspace."""
        session = db_session()
        command = commands.WorkspaceCreate.from_json(json_object(), home=_settings().home)
        workspace = workspaces.create_workspace(session, command)
        session.commit()
        location = url_for("api.workspaces_workspace_detail", workspace_id=workspace.id)
        return serialize.workspace_detail(workspace, workspaces.workspace_space(workspace)), 201, {"Location": location}


@ns.route("/<int:workspace_id>/")
class WorkspaceDetail(Resource):
    def get(self, workspace_id: int):
        """Details of one workspace, with its configuration."""
        workspace = workspaces.get_workspace(db_session(), workspace_id)
        return serialize.workspace_detail(workspace, workspaces.workspace_space(workspace))

    @ns.expect(WORKSPACE_EDIT)
    def patch(self, workspace_id: int):
        """Edit a workspace; `is_active: false` archives it."""
        session = db_session()
        edit = commands.WorkspaceEdit.from_json(json_object(), home=_settings().home)
        workspace = workspaces.edit_workspace(session, workspace_id, edit)
        session.commit()
        return serialize.workspace_detail(workspace, workspaces.workspace_space(workspace))


@ns.route("/<int:workspace_id>/files/<path:rel_path>")
class WorkspaceFile(Resource):
    @ns.produces(["application/octet-stream"])
    @ns.response(400, "The path leaves the workspace")
    @ns.response(401, "The workspace is not public and the request has no valid token")
    @ns.response(403, "Scale may not read the file, or the workspace's root has become a symlink")
    @ns.response(404, "No such workspace, or no such file in it")
    @ns.response(503, "The workspace is on NFS and cannot be mounted")
    def get(self, workspace_id: int, rel_path: str):
        """Download a file stored in a workspace (beyond the reference)."""
        workspace = workspaces.get_workspace(db_session(), workspace_id)
        return send_workspace_file(workspace, rel_path, download_name=PurePosixPath(rel_path).name)


def _settings() -> Settings:
    return current_app.extensions["scale.settings"]
