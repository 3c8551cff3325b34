"""One flask-restx namespace per reference service group, mounted under `/api`."""

from __future__ import annotations

from flask_restx import Namespace

from api.namespaces import configuration, errors, job_types, recipe_types, workspaces

NAMESPACES: list[tuple[Namespace, str]] = [
    (configuration.ns, "/configuration"),
    (errors.ns, "/errors"),
    (job_types.ns, "/job-types"),
    (recipe_types.ns, "/recipe-types"),
    (workspaces.ns, "/workspaces"),
]
