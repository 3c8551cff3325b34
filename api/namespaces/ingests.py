"""Ingests: `/api/ingests/` (reference, Ingest Services): the list, one ingest's details and the
per-Strike ingest status in hourly slots (see `scale.ingest.queries` for the decisions)."""

from __future__ import annotations

from flask import request
from flask_restx import Namespace, Resource

from api.context import db_session
from api.listing import document_list, list_response
from api.serialize import ingests as serialize
from scale.ingest import queries, strikes
from scale.listing import TIME_SCHEMA

ns = Namespace("ingests", description="Files Strike processes found, from transfer to source file")

STATUS_PARAMS = {
    "started": {"description": "Start of the time range: ISO-8601 datetime or duration (default: 1 week "
                               "before ended); at most 31 days before ended", "in": "query", "allowEmptyValue": True,
                **TIME_SCHEMA},
    "ended": {"description": "End of the time range: ISO-8601 datetime or duration (default: now)",
              "in": "query", "allowEmptyValue": True, **TIME_SCHEMA},
    "use_ingest_time": {"description": "Count files at their ingest time (true) or data time (false, default)",
                        "type": "boolean", "in": "query"},
}


def _identity(strike):
    return strike


@ns.route("/")
class IngestList(Resource):
    @document_list(ns, queries.INGEST_LIST)
    def get(self):
        """List ingests."""
        return list_response(queries.list_ingests_statement(), queries.INGEST_LIST, serialize.ingest_summary)


@ns.route("/status/")
class IngestStatus(Resource):
    @document_list(ns, queries.STATUS_LIST)
    @ns.doc(params=STATUS_PARAMS)
    @ns.response(400, "A query argument is invalid, or the range spans more than 31 days")
    def get(self):
        """Files ingested per Strike process, counted and sized in one-hour slots."""
        window = queries.parse_status_args(request.args.to_dict(flat=False))
        body = list_response(strikes.list_strikes_statement(), queries.STATUS_LIST, _identity)
        body["results"] = [serialize.strike_status(status)
                           for status in queries.ingest_status(db_session(), body["results"], window)]
        return body


@ns.route("/<int:ingest_id>/")
@ns.response(404, "No ingest has this id")
class IngestDetail(Resource):
    def get(self, ingest_id: int):
        """Details of one ingest: its Strike, source file and paths."""
        return serialize.ingest_details(queries.get_ingest(db_session(), ingest_id))
