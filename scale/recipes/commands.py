"""The recipe commands the API sends, parsed from their JSON at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scale.exceptions import ValidationError
from scale.listing import INT_MAX
from scale.specs import recipe_data
from scale.specs._fields import JSON_OBJECT, body_schema
from scale.specs._schema import validate
from scale.specs.recipe_data import RecipeData

_ID: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": INT_MAX}
NEW_RECIPE_SCHEMA = body_schema({"recipe_type_id": _ID, "recipe_data": JSON_OBJECT},
                                required=("recipe_type_id", "recipe_data"))


@dataclass(frozen=True)
class NewRecipe:
    """Queue a recipe of `recipe_type_id` on `recipe_data` (reference "Queue New Recipe")."""

    recipe_type_id: int
    recipe_data: RecipeData

    @classmethod
    def from_json(cls, doc: object) -> NewRecipe:
        """The command in a request body; ValidationError naming the field (`recipe_data.…`)."""
        validate(doc, NEW_RECIPE_SCHEMA)
        assert isinstance(doc, dict)
        try:
            data = recipe_data.parse(doc["recipe_data"])
        except ValidationError as error:
            raise error.within("recipe_data") from None
        return cls(recipe_type_id=doc["recipe_type_id"], recipe_data=data)
