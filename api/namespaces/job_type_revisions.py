"""`GET /api/job-types/{id}/revisions/` (beyond the reference): a job type's interface
revisions, for the web UI's job type page. A namespace of its own, mounted at `/job-types`
next to the job types namespace."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource

from api.context import db_session
from api.listing import document_list, list_response
from scale.definitions import job_type_revisions
from scale.timeutil import to_iso

ns = Namespace("job-type-revisions", description="A job type's interface revisions")


def revision(rev) -> dict[str, Any]:
    return {"id": rev.id, "revision_num": rev.revision_num, "interface": rev.interface,
            "created": to_iso(rev.created)}


@ns.route("/<int:job_type_id>/revisions/")
class JobTypeRevisionList(Resource):
    @document_list(ns, job_type_revisions.REVISION_LIST)
    @ns.response(404, "No such job type")
    def get(self, job_type_id: int):
        """List a job type's interface revisions (beyond the reference)."""
        stmt = job_type_revisions.list_revisions_statement(db_session(), job_type_id)
        return list_response(stmt, job_type_revisions.REVISION_LIST, revision)
