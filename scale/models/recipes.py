"""Recipe types (DAGs of job types), their revisions, recipe instances and their jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scale.db import Base
from scale.models.jobs import Job
from scale.models.triggers import TriggerEvent, TriggerRule
from scale.models.types import Timestamp, created_column, last_modified_column


class RecipeType(Base):
    """A versioned recipe definition: the jobs, their dependencies and how data flows between them."""

    __tablename__ = "recipe_type"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    version: Mapped[str] = mapped_column(String(50))
    title: Mapped[str | None] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True, index=True)
    definition: Mapped[dict[str, Any]]
    revision_num: Mapped[int] = mapped_column(default=1)
    trigger_rule_id: Mapped[int | None] = mapped_column(ForeignKey("trigger_rule.id"), index=True)
    created: Mapped[dt.datetime] = created_column()
    archived: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    last_modified: Mapped[dt.datetime] = last_modified_column()

    trigger_rule: Mapped[TriggerRule | None] = relationship()


class RecipeTypeRevision(Base):
    """The definition a recipe type had at `revision_num`."""

    __tablename__ = "recipe_type_revision"
    __table_args__ = (UniqueConstraint("recipe_type_id", "revision_num"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipe_type_id: Mapped[int] = mapped_column(ForeignKey("recipe_type.id"))
    revision_num: Mapped[int]
    definition: Mapped[dict[str, Any]]
    created: Mapped[dt.datetime] = created_column()

    recipe_type: Mapped[RecipeType] = relationship()


class Recipe(Base):
    """One run of a recipe type on some recipe data. `completed` stays null until every job completes."""

    __tablename__ = "recipe"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipe_type_id: Mapped[int] = mapped_column(ForeignKey("recipe_type.id"), index=True)
    recipe_type_rev_id: Mapped[int] = mapped_column(ForeignKey("recipe_type_revision.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("trigger_event.id"), index=True)
    data: Mapped[dict[str, Any]]
    created: Mapped[dt.datetime] = created_column()
    completed: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    last_modified: Mapped[dt.datetime] = last_modified_column()

    recipe_type: Mapped[RecipeType] = relationship()
    recipe_type_rev: Mapped[RecipeTypeRevision] = relationship()
    event: Mapped[TriggerEvent] = relationship()
    jobs: Mapped[list[RecipeJob]] = relationship(back_populates="recipe", order_by="RecipeJob.id")


class RecipeJob(Base):
    """A job of a recipe, under its name in the recipe definition."""

    __tablename__ = "recipe_job"
    __table_args__ = (UniqueConstraint("recipe_id", "job_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipe.id"))
    job_name: Mapped[str] = mapped_column(String(100))
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), index=True)
    # False when the job was carried over from another recipe rather than created for this one.
    is_original: Mapped[bool] = mapped_column(default=True)

    recipe: Mapped[Recipe] = relationship(back_populates="jobs")
    job: Mapped[Job] = relationship()
