"""Error services: `/api/errors/`."""

from __future__ import annotations

from flask import url_for
from flask_restx import Namespace, Resource

from api.body import json_object
from api.context import db_session
from api.listing import document_list, list_response
from api.serialize import errors as serialize
from scale.definitions import commands, errors

ns = Namespace("errors", description="Registered errors that exit codes map to")

ERROR_BODY = ns.schema_model("ErrorCreate", commands.ERROR_CREATE_SCHEMA)
ERROR_EDIT = ns.schema_model("ErrorEdit", commands.ERROR_EDIT_SCHEMA)


@ns.route("/")
class ErrorList(Resource):
    @document_list(ns, errors.ERROR_LIST)
    def get(self):
        """List errors."""
        return list_response(errors.list_errors_statement(), errors.ERROR_LIST,
                             serialize.error_detail)

    @ns.expect(ERROR_BODY)
    @ns.response(201, "Created")
    def post(self):
        """Create an ALGORITHM or DATA error."""
        session = db_session()
        error = errors.create_error(session, commands.ErrorCreate.from_json(json_object()))
        session.commit()
        location = url_for("api.errors_error_detail", error_id=error.id)
        return serialize.error_detail(error), 201, {"Location": location}


@ns.route("/<int:error_id>/")
class ErrorDetail(Resource):
    def get(self, error_id: int):
        """Details of one error."""
        return serialize.error_detail(errors.get_error(db_session(), error_id))

    @ns.expect(ERROR_EDIT)
    def patch(self, error_id: int):
        """Edit an error's title, description or category."""
        session = db_session()
        error = errors.edit_error(session, error_id, commands.ErrorEdit.from_json(json_object()))
        session.commit()
        return serialize.error_detail(error)
