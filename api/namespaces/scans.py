"""Scans (beyond the reference): `POST /api/scans/` ingests the files already in a directory or
workspace, each once (`scale/ingest/scan.py`).

Body: `{"configuration": {...}, "dry_run": false}`. The answer lists every file looked at with
its status (INGEST, DUPLICATE, NO_RULE, REGISTERED) and, unless a dry run, the id of the ingest
created for it; the ingest tasks are sent after the commit. A bad configuration is 400 naming
the field (`configuration.files_to_ingest[0].filename_regex`) and nothing is written."""

from __future__ import annotations

from flask import current_app
from flask_restx import Namespace, Resource

from api.body import json_object
from api.context import db_session
from api.tasks import send_after_request_commit
from scale.ingest import scan as scans
from scale.ingest.commands import SCAN_REQUEST_SCHEMA, ScanRequest
from scale.settings import Settings
from workers.ingest_tasks import ingest_sends

ns = Namespace("scans", description="Ingest the files already in a directory or workspace")

SCAN_REQUEST = ns.schema_model("ScanRequest", SCAN_REQUEST_SCHEMA)


@ns.route("/")
class Scan(Resource):
    @ns.expect(SCAN_REQUEST)
    @ns.response(400, "A field is invalid: `message` and `field` name it; nothing is written")
    def post(self):
        """Scan a directory or workspace; with `dry_run`, only list what would be ingested."""
        settings: Settings = current_app.extensions["scale.settings"]
        scan = ScanRequest.from_json(json_object(), home=settings.home)
        session = db_session()
        items = scans.scan(session, scan.configuration, dry_run=scan.dry_run, mount_root=settings.mounts)
        ingest_ids = [item.ingest_id for item in items if item.ingest_id is not None]
        if ingest_ids:
            send_after_request_commit(ingest_sends(ingest_ids))
        session.commit()
        return {"dry_run": scan.dry_run, "count": len(items), "files": [item.to_dict() for item in items]}

