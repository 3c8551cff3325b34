"""One flask-restx namespace per reference service group, mounted under `/api`."""

from __future__ import annotations

from flask_restx import Namespace

from api.namespaces import (
    configuration,
    errors,
    job_executions,
    job_types,
    jobs,
    nodes,
    products,
    queue,
    queue_recipes,
    recipe_types,
    recipes,
    scheduler,
    system_status,
    workspaces,
)

NAMESPACES: list[tuple[Namespace, str]] = [
    (configuration.ns, "/configuration"),
    (errors.ns, "/errors"),
    (job_executions.ns, "/job-executions"),
    (job_types.ns, "/job-types"),
    (jobs.ns, "/jobs"),
    (nodes.ns, "/nodes"),
    (products.ns, "/products"),
    (queue.ns, "/queue"),
    (queue_recipes.ns, "/queue"),
    (recipe_types.ns, "/recipe-types"),
    (recipes.ns, "/recipes"),
    (scheduler.ns, "/scheduler"),
    (system_status.ns, "/status"),
    (workspaces.ns, "/workspaces"),
]
