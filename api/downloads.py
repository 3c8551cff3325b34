"""Streaming a workspace file to the client: the one download path of product, source and
workspace files.

A workspace's files may hold anything (inputs, products, what a Strike ingested), so downloading
needs a valid token even when reads are open, unless the workspace is public (`is_public`)."""

from __future__ import annotations

from flask import Response, send_file

from api.auth import require_token
from scale.models.workspaces import Workspace
from scale.workspaces.brokers import broker_for


def send_workspace_file(workspace: Workspace, rel_path: str, *, download_name: str,
                        mimetype: str | None = None) -> Response:
    """The file at `rel_path` in `workspace`, read through its broker, as an attachment.

    The media type is `mimetype`, else guessed from `download_name`. Raises Unauthorized (no
    valid token for a workspace that is not public); the broker raises NotFound (no such file),
    ValidationError (a path that leaves the workspace), Forbidden (a file this process may not
    read, or a root with a symlink on its way) or MountError (an NFS workspace that cannot be
    mounted); `api.error_handlers` maps them."""
    if not workspace.is_public:
        require_token("to download the files of a workspace that is not public")
    stream = broker_for(workspace).open_read(rel_path)
    return send_file(stream, mimetype=mimetype, as_attachment=True, download_name=download_name, max_age=0)
