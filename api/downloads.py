"""Streaming a workspace file to the client: the one download path of product and workspace files."""

from __future__ import annotations

from flask import Response, send_file

from scale.models.workspaces import Workspace
from scale.workspaces.brokers import broker_for


def send_workspace_file(workspace: Workspace, rel_path: str, *, download_name: str,
                        mimetype: str | None = None) -> Response:
    """The file at `rel_path` in `workspace`, read through its broker, as an attachment.

    The media type is `mimetype`, else guessed from `download_name`. The broker raises NotFound
    (no such file), ValidationError (a path that leaves the workspace) or MountError (an NFS
    workspace that cannot be mounted); `api.errors` maps them."""
    stream = broker_for(workspace).open_read(rel_path)
    return send_file(stream, mimetype=mimetype, as_attachment=True, download_name=download_name, max_age=0)
