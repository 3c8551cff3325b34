"""Recipe types in the reference's shapes (Recipe Type List, Recipe Type Details), and their
revisions, which go beyond the reference: `{revision_num, definition, created}`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from api.serialize.job_types import job_type_base
from api.serialize.triggers import trigger_rule_detail
from scale.models.job_types import JobType
from scale.models.recipes import RecipeType, RecipeTypeRevision
from scale.timeutil import to_iso


def recipe_type_summary(recipe_type: RecipeType) -> dict[str, Any]:
    """A list entry. As in the reference's list example, `trigger_rule` is only `{"id"}`."""
    rule_id = recipe_type.trigger_rule_id
    return {
        "id": recipe_type.id, "name": recipe_type.name, "version": recipe_type.version,
        "title": recipe_type.title, "description": recipe_type.description,
        "is_active": recipe_type.is_active, "definition": recipe_type.definition,
        "revision_num": recipe_type.revision_num, "created": to_iso(recipe_type.created),
        "last_modified": to_iso(recipe_type.last_modified),
        "archived": to_iso(recipe_type.archived),
        "trigger_rule": None if rule_id is None else {"id": rule_id},
    }


def recipe_type_detail(recipe_type: RecipeType, job_types: Iterable[JobType]) -> dict[str, Any]:
    """The details: the full trigger rule and `job_types`, those the definition uses, with the
    fields of the reference's example (a job type's base fields and its interface)."""
    return {
        **recipe_type_summary(recipe_type),
        "trigger_rule": trigger_rule_detail(recipe_type.trigger_rule),
        "job_types": [{**job_type_base(job_type), "interface": job_type.interface}
                      for job_type in job_types],
    }


def recipe_type_revision(revision: RecipeTypeRevision) -> dict[str, Any]:
    return {"revision_num": revision.revision_num, "definition": revision.definition,
            "created": to_iso(revision.created)}
