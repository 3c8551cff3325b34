"""One flask-restx namespace per reference service group, mounted under `/api`."""

from __future__ import annotations

from flask_restx import Namespace

from api.namespaces import (
    configuration,
    errors,
    ingests,
    job_executions,
    job_type_revisions,
    job_types,
    jobs,
    load,
    metrics,
    nodes,
    products,
    queue,
    queue_recipes,
    recipe_types,
    recipes,
    scans,
    scheduler,
    sources,
    strikes,
    system_status,
    triggers,
    workspaces,
)

NAMESPACES: list[tuple[Namespace, str]] = [
    (configuration.ns, "/configuration"),
    (errors.ns, "/errors"),
    (ingests.ns, "/ingests"),
    (job_executions.ns, "/job-executions"),
    (job_types.ns, "/job-types"),
    (job_type_revisions.ns, "/job-types"),
    (jobs.ns, "/jobs"),
    (load.ns, "/load"),
    (metrics.ns, "/metrics"),
    (nodes.ns, "/nodes"),
    (products.ns, "/products"),
    (queue.ns, "/queue"),
    (queue_recipes.ns, "/queue"),
    (recipe_types.ns, "/recipe-types"),
    (recipes.ns, "/recipes"),
    (scans.ns, "/scans"),
    (scheduler.ns, "/scheduler"),
    (sources.ns, "/sources"),
    (strikes.create_ns, "/strike"),
    (strikes.ns, "/strikes"),
    (system_status.ns, "/status"),
    (triggers.rules_ns, "/trigger-rules"),
    (triggers.events_ns, "/trigger-events"),
    (workspaces.ns, "/workspaces"),
]
