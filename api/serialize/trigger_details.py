"""The trigger read API's shapes (the reference leaves Trigger Services TODO). Apart from
`api.serialize.triggers`, which the job type, recipe type and recipe serializers import, so that
these, which import them in turn, make no import cycle.

A rule is `trigger_rule_detail`; its details add `job_types` and `recipe_types` (their base
fields). An event is `{id, type, rule, occurred, description, source_file}` with the full rule;
its details add `jobs` (as the job lists show them) and `recipes` (as the recipe list does)."""

from __future__ import annotations

from typing import Any

from api.serialize.job_types import job_type_base
from api.serialize.jobs import job_summary
from api.serialize.recipes import event_detail, recipe_summary, recipe_type_base
from api.serialize.triggers import trigger_rule_detail
from scale.models.triggers import TriggerEvent
from scale.triggers.queries import EventDetails, RuleDetails


def rule_details(details: RuleDetails) -> dict[str, Any]:
    return {**(trigger_rule_detail(details.rule) or {}),
            "job_types": [job_type_base(job_type) for job_type in details.job_types],
            "recipe_types": [recipe_type_base(recipe_type) for recipe_type in details.recipe_types]}


def event_summary(event: TriggerEvent) -> dict[str, Any]:
    return {**event_detail(event),
            "source_file": None if event.source_file_id is None else {"id": event.source_file_id}}


def event_details(details: EventDetails) -> dict[str, Any]:
    return {**event_summary(details.event), "jobs": [job_summary(job) for job in details.jobs],
            "recipes": [recipe_summary(recipe) for recipe in details.recipes]}
