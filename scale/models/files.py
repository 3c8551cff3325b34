"""Scale files: source files (ingested) and products (made by jobs) in one table, and file ancestry."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scale.db import Base
from scale.models.types import (
    GeometryColumn,
    Timestamp,
    created_column,
    last_modified_column,
)
from scale.models.workspaces import Workspace


class ScaleFileType(StrEnum):
    """Which of the reference's two file kinds a `scale_file` row is."""

    SOURCE = "SOURCE"
    PRODUCT = "PRODUCT"


class ScaleFile(Base):
    """A file stored in a workspace at `file_path` (relative to the workspace root).

    `geometry` and `center_point` are GeoJSON geometries (see `GeometryColumn`); sizes are bytes.
    The product columns are null for source files, and `is_parsed`/`parsed` are unused for products."""

    __tablename__ = "scale_file"
    __table_args__ = (
        Index("ix_scale_file_geometry", "geometry", postgresql_using="gist").ddl_if(dialect="postgresql"),
        Index("ix_scale_file_center_point", "center_point", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    file_type: Mapped[str] = mapped_column(String(50), index=True)
    file_name: Mapped[str] = mapped_column(String(250), index=True)
    media_type: Mapped[str] = mapped_column(String(250))
    file_size: Mapped[int] = mapped_column(BigInteger)
    data_type: Mapped[list[Any]] = mapped_column(default=list)
    file_path: Mapped[str] = mapped_column(String(1000))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    is_deleted: Mapped[bool] = mapped_column(default=False)
    uuid: Mapped[str] = mapped_column(String(32), index=True)
    deleted: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    data_started: Mapped[dt.datetime | None] = mapped_column(Timestamp, index=True)
    data_ended: Mapped[dt.datetime | None] = mapped_column(Timestamp, index=True)
    geometry: Mapped[dict[str, Any] | None] = mapped_column(GeometryColumn("GEOMETRY"))
    center_point: Mapped[dict[str, Any] | None] = mapped_column(GeometryColumn("POINT"))
    meta_data: Mapped[dict[str, Any] | None]
    countries: Mapped[list[Any]] = mapped_column(default=list)
    is_parsed: Mapped[bool] = mapped_column(default=False, index=True)
    parsed: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    # When parse trigger rules were last evaluated for the file (null or before `parsed`: due).
    parse_triggered: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    created: Mapped[dt.datetime] = created_column()
    last_modified: Mapped[dt.datetime] = last_modified_column()

    # Products only.
    job_exe_id: Mapped[int | None] = mapped_column(ForeignKey("job_exe.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    job_type_id: Mapped[int | None] = mapped_column(ForeignKey("job_type.id"), index=True)
    recipe_id: Mapped[int | None] = mapped_column(ForeignKey("recipe.id"), index=True)
    is_operational: Mapped[bool | None] = mapped_column(index=True)
    has_been_published: Mapped[bool] = mapped_column(default=False)
    is_published: Mapped[bool] = mapped_column(default=False, index=True)
    published: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    unpublished: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    workspace: Mapped[Workspace] = relationship()


class FileAncestryLink(Base):
    """`descendant` (a product) was made, directly or through a recipe, from `ancestor`.

    `descendant_id` is null while the job that will make the products is still running."""

    __tablename__ = "file_ancestry_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    ancestor_id: Mapped[int] = mapped_column(ForeignKey("scale_file.id"), index=True)
    descendant_id: Mapped[int | None] = mapped_column(ForeignKey("scale_file.id"), index=True)
    job_exe_id: Mapped[int] = mapped_column(ForeignKey("job_exe.id"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"), index=True)
    recipe_id: Mapped[int | None] = mapped_column(ForeignKey("recipe.id"), index=True)
    created: Mapped[dt.datetime] = created_column()

    ancestor: Mapped[ScaleFile] = relationship(foreign_keys=[ancestor_id])
    descendant: Mapped[ScaleFile | None] = relationship(foreign_keys=[descendant_id])
