"""Job Load (reference): `GET /load/`, PENDING, QUEUED and RUNNING job counts over time, from
the samples the clock's `scale-load` rule takes every minute. The range defaults to the past
week and may not exceed 31 days."""

from __future__ import annotations

from flask import request
from flask_restx import Namespace, Resource

from api.listing import document_list, list_response
from scale.listing import parse_list_args
from scale.metrics import load
from scale.timeutil import to_iso, utcnow

ns = Namespace("load", description="Job load: pending, queued and running counts over time")


@ns.route("/")
class JobLoadList(Resource):
    @document_list(ns, load.LOAD_LIST)
    def get(self):
        """Counts of PENDING, QUEUED and RUNNING jobs of the filtered job types, per sample time."""
        now = utcnow()
        query = parse_list_args(request.args.to_dict(flat=False), load.LOAD_LIST, now=now)
        load.check_range(query.started, query.ended, now=now)
        return list_response(load.load_statement(), load.LOAD_LIST, lambda row: {
            "time": to_iso(row[0]), "pending_count": row[1], "queued_count": row[2], "running_count": row[3],
        }, rows=True)
