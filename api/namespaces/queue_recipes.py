"""`POST /api/queue/new-recipe/` (reference, Queue Services). A namespace of its own, mounted at
`/queue` next to the queue namespace, so that recipes and the queue each keep one owner."""

from __future__ import annotations

from flask import url_for
from flask_restx import Namespace, Resource

from api.body import json_object
from api.context import db_session
from api.namespaces.recipes import recipe_detail
from scale.recipes import commands
from scale.recipes import service as recipes

ns = Namespace("queue-recipes", description="Queue a new recipe")

NEW_RECIPE_BODY = ns.schema_model("NewRecipe", commands.NEW_RECIPE_SCHEMA)


@ns.route("/new-recipe/")
class NewRecipe(Resource):
    @ns.expect(NEW_RECIPE_BODY)
    @ns.response(201, "Created; Location is the recipe's details")
    @ns.response(400, "Unknown or archived recipe type, or recipe data that does not fit it")
    def post(self):
        """Create a recipe of a recipe type on the given recipe data and queue its first jobs."""
        session = db_session()
        recipe = recipes.queue_new_recipe(session, commands.NewRecipe.from_json(json_object()))
        session.commit()
        location = url_for("api.recipes_recipe_detail", recipe_id=recipe.id)
        return recipe_detail(recipe), 201, {"Location": location}
