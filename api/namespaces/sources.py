"""Source files: `/api/sources/` (reference, Source File Services): the list and the updates,
and beyond the reference a source's details (its ingests, the jobs that used it or its
descendants, the products made from it) and `GET /sources/{id}/download/`, which streams its
bytes from its workspace (404 for an unknown id, a product, a deleted file or a file missing
from the workspace; 401 without a valid token unless its workspace is public, `api.downloads`).
See `scale.sources.service` for the time ranges."""

from __future__ import annotations

from flask_restx import Namespace, Resource

from api.context import db_session
from api.downloads import send_workspace_file
from api.listing import document_list, list_response
from api.serialize import sources as serialize
from api.serialize.products import source_file_summary
from scale.sources import service

ns = Namespace("sources", description="Source files: the files Strike processes ingested")


@ns.route("/")
class SourceList(Resource):
    @document_list(ns, service.SOURCE_LIST)
    def get(self):
        """List source files."""
        return list_response(service.list_sources_statement(), service.SOURCE_LIST, source_file_summary)


@ns.route("/updates/")
class SourceUpdates(Resource):
    @document_list(ns, service.SOURCE_UPDATES)
    def get(self):
        """List source file updates (created, parsed, deleted) in the time range."""
        return list_response(service.list_sources_statement(), service.SOURCE_UPDATES, serialize.source_update)


@ns.route("/<int:source_id>/")
@ns.response(404, "No source file has this id")
class SourceDetail(Resource):
    def get(self, source_id: int):
        """Details of one source file: its ingests, jobs and products."""
        return serialize.source_details(service.get_source_details(db_session(), source_id))


@ns.route("/<int:source_id>/download/")
class SourceDownload(Resource):
    @ns.produces(["application/octet-stream"])
    @ns.response(401, "The source file's workspace is not public and the request has no valid token")
    @ns.response(403, "Scale may not read the file")
    @ns.response(404, "No such source file, or its file is missing from the workspace")
    @ns.response(503, "The source file's NFS workspace cannot be mounted")
    def get(self, source_id: int):
        """Download a source file (beyond the reference)."""
        source = service.get_source_for_download(db_session(), source_id)
        return send_workspace_file(source.workspace, source.file_path, download_name=source.file_name,
                                   mimetype=source.media_type)
