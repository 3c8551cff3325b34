"""The read API of trigger rules and trigger events (the reference's Trigger Services are TODO).

Decisions:

* `GET /trigger-rules/` lists every rule, archived ones too (events keep pointing at them);
  filters `type`, `is_active`, `name`; `started`/`ended` bound `last_modified`. A rule's details
  add the job types and recipe types whose `trigger_rule` it is.
* `GET /trigger-events/` lists events; filters `type`, `rule_id`, `source_file_id`;
  `started`/`ended` bound `occurred`; newest first. An event's details add the jobs and
  recipes it created.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from scale.exceptions import NotFound
from scale.listing import Filter, ListSpec, parse_bool, parse_int
from scale.models.job_types import JobType
from scale.models.jobs import Job
from scale.models.recipes import Recipe, RecipeType
from scale.models.triggers import TriggerEvent, TriggerRule, TriggerRuleType
from scale.queue.service import list_jobs_statement

TRIGGER_RULE_LIST = ListSpec(
    filters={"type": Filter(TriggerRule.type, choices=tuple(TriggerRuleType)),
             "is_active": Filter(TriggerRule.is_active, parse_bool),
             "name": Filter(TriggerRule.name)},
    orders={name: getattr(TriggerRule, name) for name in (
        "id", "type", "name", "is_active", "created", "archived", "last_modified")},
    default_order=("-last_modified", "-id"),
    time_column=TriggerRule.last_modified,
)

TRIGGER_EVENT_LIST = ListSpec(
    filters={"type": Filter(TriggerEvent.type), "rule_id": Filter(TriggerEvent.rule_id, parse_int),
             "source_file_id": Filter(TriggerEvent.source_file_id, parse_int)},
    orders={"id": TriggerEvent.id, "type": TriggerEvent.type, "occurred": TriggerEvent.occurred,
            "rule_id": TriggerEvent.rule_id, "source_file_id": TriggerEvent.source_file_id},
    default_order=("-occurred", "-id"),
    time_column=TriggerEvent.occurred,
)


def list_rules_statement() -> Select:
    return select(TriggerRule)


def list_events_statement() -> Select:
    return select(TriggerEvent).options(selectinload(TriggerEvent.rule))


@dataclass(frozen=True)
class RuleDetails:
    rule: TriggerRule
    job_types: list[JobType]
    recipe_types: list[RecipeType]


@dataclass(frozen=True)
class EventDetails:
    event: TriggerEvent
    jobs: list[Job]
    recipes: list[Recipe]


def get_rule(session: Session, rule_id: int) -> RuleDetails:
    """The rule with the job types and recipe types using it; NotFound for an unknown id."""
    rule = session.get(TriggerRule, rule_id)
    if rule is None:
        raise NotFound(f"trigger rule {rule_id} does not exist")
    job_types = list(session.scalars(select(JobType).where(JobType.trigger_rule_id == rule_id).order_by(JobType.id)))
    recipe_types = list(session.scalars(
        select(RecipeType).where(RecipeType.trigger_rule_id == rule_id).order_by(RecipeType.id)))
    return RuleDetails(rule=rule, job_types=job_types, recipe_types=recipe_types)


def get_event(session: Session, event_id: int) -> EventDetails:
    """The event with the jobs and recipes it created; NotFound for an unknown id."""
    event = session.scalars(select(TriggerEvent).where(TriggerEvent.id == event_id)
                            .options(selectinload(TriggerEvent.rule))).one_or_none()
    if event is None:
        raise NotFound(f"trigger event {event_id} does not exist")
    jobs = list(session.scalars(list_jobs_statement().where(Job.event_id == event_id).order_by(Job.id)))
    recipes = list(session.scalars(select(Recipe).where(Recipe.event_id == event_id).order_by(Recipe.id).options(
        selectinload(Recipe.recipe_type), selectinload(Recipe.recipe_type_rev), selectinload(Recipe.event))))
    return EventDetails(event=event, jobs=jobs, recipes=recipes)
