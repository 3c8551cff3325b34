"""Recipe types services: `/api/recipe-types/` (reference, Recipe Type Services).

Beyond the reference: `GET /recipe-types/{id}/revisions/` lists a recipe type's definition
revisions (`{revision_num, definition, created}`, in the shared list envelope) and
`GET /recipe-types/{id}/revisions/{revision_num}/` returns one; `PATCH` also takes
`is_active` (`false` archives); the list also filters on `name` and `is_active`.

The reference's validation example puts `input_data` and `jobs` at the top level of the body,
but its field table (and create's) has them under `definition`; the field table is followed."""

from __future__ import annotations

from flask import url_for
from flask_restx import Namespace, Resource

from api.body import json_object
from api.context import db_session
from api.listing import document_list, list_response
from api.serialize import recipe_types as serialize
from api.serialize.warnings import validation_result
from scale.definitions import commands, recipe_types

ns = Namespace("recipe-types", description="Recipe types: DAGs of job types")

RECIPE_TYPE_BODY = ns.schema_model("RecipeTypeCreate", commands.RECIPE_TYPE_CREATE_SCHEMA)
RECIPE_TYPE_EDIT = ns.schema_model("RecipeTypeEdit", commands.RECIPE_TYPE_EDIT_SCHEMA)


def _detail(recipe_type) -> dict:
    return serialize.recipe_type_detail(
        recipe_type, recipe_types.referenced_job_types(db_session(), recipe_type))


@ns.route("/")
class RecipeTypeList(Resource):
    @document_list(ns, recipe_types.RECIPE_TYPE_LIST)
    def get(self):
        """List recipe types."""
        return list_response(recipe_types.list_recipe_types_statement(),
                             recipe_types.RECIPE_TYPE_LIST, serialize.recipe_type_summary)

    @ns.expect(RECIPE_TYPE_BODY)
    @ns.response(201, "Created")
    @ns.response(400, "Invalid body, definition or trigger rule, or name+version taken")
    def post(self):
        """Create a recipe type (revision 1) and its trigger rule."""
        command = commands.RecipeTypeCreate.from_json(json_object())
        session = db_session()
        recipe_type = recipe_types.create_recipe_type(session, command)
        session.commit()
        location = url_for("api.recipe-types_recipe_type_detail", recipe_type_id=recipe_type.id)
        return _detail(recipe_type), 201, {"Location": location}


@ns.route("/validation/")
class RecipeTypeValidation(Resource):
    @ns.expect(RECIPE_TYPE_BODY)
    @ns.response(400, "What create would refuse")
    def post(self):
        """Validate a new recipe type without saving it: `{"warnings": [{"id", "details"}]}`."""
        command = commands.RecipeTypeCreate.from_json(json_object())
        return validation_result(recipe_types.validate_recipe_type(db_session(), command))


@ns.route("/<int:recipe_type_id>/")
class RecipeTypeDetail(Resource):
    @ns.response(404, "No such recipe type")
    def get(self, recipe_type_id: int):
        """Details of one recipe type, with its trigger rule and the job types it uses."""
        return _detail(recipe_types.get_recipe_type(db_session(), recipe_type_id))

    @ns.expect(RECIPE_TYPE_EDIT)
    @ns.response(400, "Invalid body, definition or trigger rule")
    @ns.response(404, "No such recipe type")
    def patch(self, recipe_type_id: int):
        """Edit a recipe type; a changed definition makes a new revision, `trigger_rule: null`
        removes the rule and `is_active: false` archives."""
        edit = commands.RecipeTypeEdit.from_json(json_object())
        session = db_session()
        recipe_type = recipe_types.edit_recipe_type(session, recipe_type_id, edit)
        session.commit()
        return _detail(recipe_type)


@ns.route("/<int:recipe_type_id>/revisions/")
class RecipeTypeRevisionList(Resource):
    @document_list(ns, recipe_types.REVISION_LIST)
    @ns.response(404, "No such recipe type")
    def get(self, recipe_type_id: int):
        """List a recipe type's definition revisions (beyond the reference)."""
        stmt = recipe_types.list_revisions_statement(db_session(), recipe_type_id)
        return list_response(stmt, recipe_types.REVISION_LIST, serialize.recipe_type_revision)


@ns.route("/<int:recipe_type_id>/revisions/<int:revision_num>/")
class RecipeTypeRevisionDetail(Resource):
    @ns.response(404, "No such recipe type or revision")
    def get(self, recipe_type_id: int, revision_num: int):
        """One definition revision of a recipe type (beyond the reference)."""
        revision = recipe_types.get_revision(db_session(), recipe_type_id, revision_num)
        return serialize.recipe_type_revision(revision)
