"""What must happen after an execution ends, read in one query for the common case.

The scheduler's shell sends the Celery tasks: the advancement of the recipes the job belongs
to, and the PARSE trigger evaluations of the source files whose parse results it recorded."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from scale.models.jobs import Job, JobExecution
from scale.models.recipes import RecipeJob
from scale.specs import job_data
from scale.triggers.service import parsed_files_due


@dataclass(frozen=True)
class FollowUps:
    recipe_ids: set[int] = field(default_factory=set)
    parsed_source_ids: list[int] = field(default_factory=list)


def execution_followups(session: Session, job_exe_id: int) -> FollowUps:
    """The recipes of the execution's job and its parsed input files whose parse rules are due.
    One query for a job with no input files (most no-op and system jobs), two otherwise."""
    rows = session.execute(
        select(JobExecution.job_id, Job.data, RecipeJob.recipe_id)
        .join(Job, Job.id == JobExecution.job_id)
        .outerjoin(RecipeJob, RecipeJob.job_id == JobExecution.job_id)
        .where(JobExecution.id == job_exe_id)).all()
    if not rows:
        return FollowUps()
    job_id, data = rows[0][0], rows[0][1]
    recipe_ids: set[int] = {row[2] for row in rows if row[2] is not None}
    has_files = bool(job_data.parse(data).file_ids())
    return FollowUps(recipe_ids, parsed_files_due(session, job_id) if has_files else [])
