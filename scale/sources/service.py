"""The reads of source files: the list, the updates, one source's details and its bytes.

Decisions where the reference is silent:

* The list's `started`/`ended` bound the time the source was parsed, or, not parsed yet, when it
  was created. The updates' bound the time of each source's latest update: DELETED (`deleted`),
  else PARSED (`parsed`), else CREATED (`created`). Both filter on `is_parsed` and `file_name`
  and default to the most recently modified first.
* Details (beyond the reference) hold the file, its ingests, the jobs that used it or any file
  made from it (through file ancestry, plus jobs and recipe jobs its trigger events created that
  have not made products yet), and every product descending from it.
* A deleted source file still has details; it cannot be downloaded (404).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select, union
from sqlalchemy.orm import Session, selectinload

from scale.exceptions import NotFound
from scale.listing import Filter, ListSpec, parse_bool
from scale.models.files import FileAncestryLink, ScaleFile, ScaleFileType
from scale.models.ingest import Ingest
from scale.models.job_types import JobType
from scale.models.jobs import Job
from scale.models.recipes import Recipe, RecipeJob
from scale.models.triggers import TriggerEvent
from scale.models.workspaces import Workspace
from scale.queue.service import list_jobs_statement

_FILTERS = {"is_parsed": Filter(ScaleFile.is_parsed, parse_bool), "file_name": Filter(ScaleFile.file_name)}
_ORDERS = {**{name: getattr(ScaleFile, name) for name in (
    "id", "file_name", "media_type", "file_size", "is_deleted", "created", "deleted", "data_started",
    "data_ended", "last_modified", "is_parsed", "parsed")},
    "workspace__id": Workspace.id, "workspace__name": Workspace.name}

SOURCE_LIST = ListSpec(filters=_FILTERS, orders=_ORDERS, default_order=("-last_modified", "-id"),
                       time_column=func.coalesce(ScaleFile.parsed, ScaleFile.created))
SOURCE_UPDATES = ListSpec(filters=_FILTERS, orders=_ORDERS, default_order=("-last_modified", "-id"),
                          time_column=func.coalesce(ScaleFile.deleted, ScaleFile.parsed, ScaleFile.created))


def list_sources_statement() -> Select:
    """Source files joined to their workspace (so orders may name it)."""
    return (select(ScaleFile).join(ScaleFile.workspace)
            .where(ScaleFile.file_type == ScaleFileType.SOURCE))


def get_source(session: Session, source_id: int) -> ScaleFile:
    """The source file (deleted ones too); NotFound for an unknown id or a product."""
    source = session.get(ScaleFile, source_id)
    if source is None or source.file_type != ScaleFileType.SOURCE:
        raise NotFound(f"source file {source_id} does not exist")
    return source


def get_source_for_download(session: Session, source_id: int) -> ScaleFile:
    """A source file that is not deleted; NotFound otherwise."""
    source = get_source(session, source_id)
    if source.is_deleted:
        raise NotFound(f"source file {source_id} has been deleted")
    return source


@dataclass(frozen=True)
class SourceDetails:
    source: ScaleFile
    ingests: list[Ingest]
    jobs: list[Job]
    products: Sequence[tuple[ScaleFile, JobType | None]]


def get_source_details(session: Session, source_id: int) -> SourceDetails:
    """The source file with its ingests, the jobs that used it or its descendants, and its products."""
    source = get_source(session, source_id)
    ingests = list(session.scalars(select(Ingest).where(Ingest.source_file_id == source_id).order_by(Ingest.id)
                                   .options(selectinload(Ingest.strike))))
    events = select(TriggerEvent.id).where(TriggerEvent.source_file_id == source_id)
    job_ids = union(
        select(FileAncestryLink.job_id).where(FileAncestryLink.ancestor_id == source_id),
        select(Job.id).where(Job.event_id.in_(events)),
        select(RecipeJob.job_id).join(Recipe, Recipe.id == RecipeJob.recipe_id).where(Recipe.event_id.in_(events)),
    ).subquery()
    jobs = list(session.scalars(list_jobs_statement().where(Job.id.in_(select(job_ids.c[0]))).order_by(Job.id)))
    descendants = select(FileAncestryLink.descendant_id).where(FileAncestryLink.ancestor_id == source_id)
    products: list[Any] = list(session.execute(
        select(ScaleFile, JobType).outerjoin(JobType, ScaleFile.job_type_id == JobType.id)
        .where(ScaleFile.id.in_(descendants), ScaleFile.file_type == ScaleFileType.PRODUCT)
        .order_by(ScaleFile.id).options(selectinload(ScaleFile.workspace))))
    return SourceDetails(source=source, ingests=ingests, jobs=jobs, products=products)
