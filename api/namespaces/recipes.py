"""Recipes: running instances of recipe types: `/api/recipes/` (reference, Recipe Services).

The list filters on `type_id` and `type_name`, bounds `last_modified` with `started`/`ended`
and orders by `id`, `created`, `completed`, `last_modified` and `recipe_type__{id,name,version}`
(default: most recently modified first)."""

from __future__ import annotations

from flask_restx import Namespace, Resource

from api.context import db_session
from api.listing import document_list, list_response
from api.serialize import recipes as serialize
from scale.recipes import service as recipes

ns = Namespace("recipes", description="Recipes: running instances of recipe types")


def recipe_detail(recipe) -> dict:
    """Recipe Details, shared with `POST /queue/new-recipe/`."""
    return serialize.recipe_detail(recipe, recipes.recipe_input_files(db_session(), recipe))


@ns.route("/")
class RecipeList(Resource):
    @document_list(ns, recipes.RECIPE_LIST)
    def get(self):
        """List recipes."""
        return list_response(recipes.list_recipes_statement(), recipes.RECIPE_LIST, serialize.recipe_summary)


@ns.route("/<int:recipe_id>/")
class RecipeDetail(Resource):
    @ns.response(404, "No such recipe")
    def get(self, recipe_id: int):
        """Details of one recipe: its type, revision, event, data, input files and jobs."""
        return recipe_detail(recipes.get_recipe(db_session(), recipe_id))
