"""A job type's interface revisions (beyond the reference): each edit of the interface makes
one, and each job points at the revision it was made from."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from scale.definitions.job_types import get_job_type
from scale.listing import ListSpec
from scale.models.job_types import JobTypeRevision

REVISION_LIST = ListSpec(
    orders={"revision_num": JobTypeRevision.revision_num, "created": JobTypeRevision.created},
    default_order=("revision_num",),
    time_column=JobTypeRevision.created,
)


def list_revisions_statement(session: Session, job_type_id: int) -> Select:
    """The revisions of one job type; NotFound for an unknown job type (not an empty list)."""
    get_job_type(session, job_type_id)
    return select(JobTypeRevision).where(JobTypeRevision.job_type_id == job_type_id)
