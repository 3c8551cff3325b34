"""Recipes in the reference's shapes: Recipe List entries and Recipe Details (also the
response of `POST /queue/new-recipe/`).

In the details, `recipe_type` has the recipe type's summary fields and each of `jobs` has
`{job_name, job}`, the job as the job lists show it (`api.serialize.jobs.job_summary`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from api.serialize.jobs import job_summary
from api.serialize.products import scale_file_base
from api.serialize.recipe_types import recipe_type_summary
from api.serialize.triggers import trigger_rule_detail
from scale.models.files import ScaleFile
from scale.models.recipes import Recipe, RecipeType, RecipeTypeRevision
from scale.models.triggers import TriggerEvent
from scale.timeutil import to_iso


def recipe_type_base(recipe_type: RecipeType) -> dict[str, Any]:
    return {"id": recipe_type.id, "name": recipe_type.name, "version": recipe_type.version,
            "title": recipe_type.title, "description": recipe_type.description}


def recipe_type_rev_base(revision: RecipeTypeRevision) -> dict[str, Any]:
    return {"id": revision.id, "recipe_type": {"id": revision.recipe_type_id},
            "revision_num": revision.revision_num}


def event_base(event: TriggerEvent) -> dict[str, Any]:
    return {"id": event.id, "type": event.type,
            "rule": {"id": event.rule_id} if event.rule_id is not None else None,
            "occurred": to_iso(event.occurred)}


def event_detail(event: TriggerEvent) -> dict[str, Any]:
    return {**event_base(event), "rule": trigger_rule_detail(event.rule), "description": event.description}


def recipe_summary(recipe: Recipe) -> dict[str, Any]:
    """A Recipe List entry."""
    return {
        "id": recipe.id, "recipe_type": recipe_type_base(recipe.recipe_type),
        "recipe_type_rev": recipe_type_rev_base(recipe.recipe_type_rev), "event": event_base(recipe.event),
        "created": to_iso(recipe.created), "completed": to_iso(recipe.completed),
        "last_modified": to_iso(recipe.last_modified),
    }


def recipe_detail(recipe: Recipe, input_files: Iterable[ScaleFile]) -> dict[str, Any]:
    """Recipe Details: the full recipe type, revision and event, the data, the input files
    and the jobs under their names."""
    revision = recipe.recipe_type_rev
    return {
        **recipe_summary(recipe),
        "recipe_type": recipe_type_summary(recipe.recipe_type),
        "recipe_type_rev": {**recipe_type_rev_base(revision), "definition": revision.definition,
                            "created": to_iso(revision.created)},
        "event": event_detail(recipe.event),
        "data": recipe.data,
        "input_files": [scale_file_base(f) for f in input_files],
        "jobs": [{"job_name": rj.job_name, "job": job_summary(rj.job)} for rj in recipe.jobs],
    }
