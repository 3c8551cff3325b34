"""Scale's system tasks. Each is thin: one transaction around one `scale/` service call.

Send `advance_sends` only after the data they read has committed (`workers.sending`); tasks
are idempotent, so a duplicate delivery changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from celery import shared_task

from scale.exceptions import NotFound
from scale.recipes import service as recipes
from workers.sending import TaskSend, send_after_commit
from workers.system_task import SystemTask

logger = logging.getLogger(__name__)

ADVANCE_RECIPE = "scale.advance_recipe"
SWEEP_RECIPES = "scale.sweep_recipes"


@shared_task(bind=True, name=ADVANCE_RECIPE, base=SystemTask)
def advance_recipe(self, recipe_id: int) -> list[int]:
    """Queue the recipe's jobs whose dependencies have completed (and block/unblock, complete);
    returns the ids queued. A no-op when there is nothing to do, or no such recipe."""
    try:
        with self.app.sessions().begin() as session:
            return recipes.advance_recipe(session, recipe_id)
    except NotFound:
        logger.warning("advance_recipe: recipe %s does not exist", recipe_id)
        return []


@shared_task(bind=True, name=SWEEP_RECIPES, base=SystemTask)
def sweep_recipes(self) -> list[int]:
    """Re-send advances that were lost (a crash between commit and send, or a lost message):
    the clock sends this periodically. Returns the recipe ids it sent advances for."""
    with self.app.sessions().begin() as session:
        recipe_ids = recipes.recipes_needing_advance(session)
        send_after_commit(session, self.app, advance_sends(recipe_ids))
    return recipe_ids


def advance_sends(recipe_ids: Iterable[int]) -> list[TaskSend]:
    """`scale.advance_recipe` once for each recipe id, to send after the transaction that
    finished the recipes' jobs has committed."""
    return [TaskSend(ADVANCE_RECIPE, (recipe_id,)) for recipe_id in sorted(set(recipe_ids))]
