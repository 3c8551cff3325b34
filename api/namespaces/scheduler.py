"""The scheduler: `/api/scheduler/`. PATCH answers 201 with a `Location`, as the reference says."""

from __future__ import annotations

from flask import url_for
from flask_restx import Namespace, Resource

from api.body import json_object
from api.context import db_session
from api.serialize import nodes as serialize
from scale.nodes import service as nodes
from scale.nodes.commands import SCHEDULER_EDIT_SCHEMA, SchedulerEdit

ns = Namespace("scheduler", description="The scheduler")

SCHEDULER_EDIT = ns.schema_model("SchedulerEdit", SCHEDULER_EDIT_SCHEMA)


@ns.route("/")
class SchedulerDetail(Resource):
    def get(self):
        """Whether the scheduler is paused."""
        return serialize.scheduler(nodes.get_scheduler(db_session()))

    @ns.expect(SCHEDULER_EDIT)
    @ns.response(201, "Updated")
    def patch(self):
        """Pause (`is_paused: true`) or resume the scheduler; nodes keep their own pauses."""
        edit = SchedulerEdit.from_json(json_object())
        session = db_session()
        scheduler = nodes.edit_scheduler(session, edit)
        session.commit()
        return serialize.scheduler(scheduler), 201, {"Location": url_for("api.scheduler_scheduler_detail")}
