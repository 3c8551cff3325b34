"""Source files in the reference's shapes: Source File List and Source File Updates entries, and
the details (beyond the reference) with ingests, jobs and products.

`url` is the workspace's `base_url` joined with the file path when the workspace has one, else
the absolute URL of `GET /api/sources/{id}/download/` (`api.serialize.products.file_url`)."""

from __future__ import annotations

from typing import Any

from api.serialize.ingests import ingest_summary
from api.serialize.jobs import job_summary
from api.serialize.products import product_summary, source_file_summary
from scale.models.files import ScaleFile
from scale.sources.service import SourceDetails
from scale.timeutil import to_iso


def source_update(source: ScaleFile) -> dict[str, Any]:
    """An updates entry: the summary and the latest of DELETED, PARSED or CREATED."""
    if source.is_deleted:
        action, when = "DELETED", source.deleted
    elif source.is_parsed:
        action, when = "PARSED", source.parsed
    else:
        action, when = "CREATED", source.created
    return {**source_file_summary(source), "update": {"action": action, "when": to_iso(when)}}


def source_details(details: SourceDetails) -> dict[str, Any]:
    return {
        **source_file_summary(details.source),
        "ingests": [ingest_summary(ingest, with_source=False) for ingest in details.ingests],
        "jobs": [job_summary(job) for job in details.jobs],
        "products": [product_summary(product, job_type) for product, job_type in details.products],
    }
