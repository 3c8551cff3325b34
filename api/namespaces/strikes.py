"""Strike processes: `POST /api/strike/create/` (reference, Strike Services) and, beyond the
reference, `GET /api/strikes/`, `GET /api/strikes/{id}/` and `PATCH /api/strikes/{id}/`.

Create answers `{"strike_id": id}` (200, as the reference shows) after queueing the Strike's
`scale-strike` job. The list filters on `name` and `is_active`, bounds `last_modified` with
`started`/`ended` and is ordered by name. PATCH edits `title`, `description`, `configuration`
and `is_active` (false stops the Strike's job, true starts one if none is live) and answers with
the details."""

from __future__ import annotations

from flask import current_app
from flask_restx import Namespace, Resource

from api.body import json_object
from api.context import db_session
from api.listing import document_list, list_response
from api.serialize import strikes as serialize
from scale.ingest import commands, strikes
from scale.settings import Settings

ns = Namespace("strikes", description="Strike processes: directory watchers that ingest files")
create_ns = Namespace("strike", description="Create a Strike process (reference path)")

STRIKE_CREATE = create_ns.schema_model("StrikeCreate", commands.CREATE_SCHEMA)
STRIKE_EDIT = ns.schema_model("StrikeEdit", commands.EDIT_SCHEMA)


@create_ns.route("/create/")
class StrikeCreate(Resource):
    @create_ns.expect(STRIKE_CREATE)
    @create_ns.response(400, "A field is invalid: `message` and `field` name it; nothing is written")
    def post(self):
        """Create a Strike process and queue its job."""
        session = db_session()
        command = commands.StrikeCreate.from_json(json_object(), home=_settings().home)
        strike = strikes.create_strike(session, command)
        session.commit()
        return {"strike_id": strike.id}


@ns.route("/")
class StrikeList(Resource):
    @document_list(ns, strikes.STRIKE_LIST)
    def get(self):
        """List Strike processes."""
        return list_response(strikes.list_strikes_statement(), strikes.STRIKE_LIST, serialize.strike_summary)


@ns.route("/<int:strike_id>/")
@ns.response(404, "No Strike process has this id")
class StrikeDetail(Resource):
    def get(self, strike_id: int):
        """Details of one Strike process: its job and configuration."""
        return serialize.strike_details(strikes.get_strike(db_session(), strike_id))

    @ns.expect(STRIKE_EDIT)
    @ns.response(400, "A field is invalid: `message` and `field` name it; nothing is written")
    def patch(self, strike_id: int):
        """Edit a Strike process; `is_active` stops or starts its job."""
        session = db_session()
        edit = commands.StrikeEdit.from_json(json_object(), home=_settings().home)
        strike = strikes.edit_strike(session, strike_id, edit)
        session.commit()
        return serialize.strike_details(strike)


def _settings() -> Settings:
    return current_app.extensions["scale.settings"]
