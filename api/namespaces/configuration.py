"""Import/Export services: `/api/configuration/`."""

from __future__ import annotations

import json

from flask import Response, request
from flask_restx import Namespace, Resource

from api.body import json_object
from api.context import db_session
from api.serialize.warnings import validation_result
from scale.definitions import commands, configuration
from scale.listing import INT_SCHEMA, TEXT_SCHEMA

ns = Namespace("configuration", description="Export and import recipe types, job types and errors")

IMPORT_BODY = ns.schema_model("ConfigurationImport", commands.IMPORT_SCHEMA)
EXPORT_PARAMS = {
    "include": {"description": "Sections to export; repeatable",
                "type": "array", "collectionFormat": "multi",
                "items": {"type": "string", "enum": list(configuration.EXPORT_SECTIONS)}},
    **{name: {"description": f"Only records with this {name}; repeatable", "type": "array",
              "collectionFormat": "multi", "items": kind}
       for name, kind in (("recipe_type_id", INT_SCHEMA), ("recipe_type_name", TEXT_SCHEMA),
                          ("job_type_id", INT_SCHEMA), ("job_type_name", TEXT_SCHEMA),
                          ("job_type_category", TEXT_SCHEMA), ("error_id", INT_SCHEMA),
                          ("error_name", TEXT_SCHEMA))},
}


def _export() -> dict:
    selection = configuration.selection_from_args(request.args.to_dict(flat=False))
    return configuration.export_configuration(db_session(), selection)


@ns.route("/")
class Configuration(Resource):
    @ns.doc(params=EXPORT_PARAMS)
    def get(self):
        """Export recipe types, job types and errors (SYSTEM errors and system job types left out)."""
        return _export()

    @ns.expect(IMPORT_BODY)
    def post(self):
        """Import a configuration: all or nothing. Returns warnings."""
        command = commands.ConfigurationImport.from_json(json_object())
        session = db_session()
        warnings = configuration.import_configuration(session, command)
        session.commit()
        return validation_result(warnings)


@ns.route("/validation/")
class ConfigurationValidation(Resource):
    @ns.expect(IMPORT_BODY)
    def post(self):
        """Check an import without changing anything. Returns warnings."""
        command = commands.ConfigurationImport.from_json(json_object())
        return validation_result(configuration.validate_configuration(db_session(), command))


@ns.route("/download/")
class ConfigurationDownload(Resource):
    @ns.doc(params=EXPORT_PARAMS)
    def get(self):
        """The export as a file attachment (for a browser's Save As)."""
        return Response(json.dumps(_export(), indent=2), mimetype="application/json",
                        headers={"Content-Disposition": 'attachment; filename="configuration.json"'})


@ns.route("/upload/")
class ConfigurationUpload(Resource):
    @ns.doc(consumes=["multipart/form-data"],
            params={"import": {"in": "formData", "type": "file",
                               "description": "An exported configuration file"}})
    def post(self):
        """Import an uploaded file: a multipart `import` field, or the raw file as the body
        with an `X-File-Name` header."""
        upload = request.files.get("import")
        command = commands.ConfigurationImport.from_upload(upload.read() if upload is not None else request.get_data())
        session = db_session()
        warnings = configuration.import_configuration(session, command)
        session.commit()
        return validation_result(warnings)
