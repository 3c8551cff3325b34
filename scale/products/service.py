"""Storing an execution's products with their provenance, and recording parse results.

Decisions where the reference is silent:

* A product is stored in the workspace its output names in the job data, at
  `<job type name>/<job_exe_id>/<path within the output directory>`, so two executions (or two
  files of one `files` output) never overwrite each other.
* Provenance: each product gets a `FileAncestryLink` to every input file of its job and to
  every ancestor of those inputs, so a file's full lineage is one query away.
* `recipe_id` is the recipe the job belongs to, if any (through `RecipeJob`).
* A parse result updates every input file of the job with that `filename` (its `data_types`
  join the file's data types from ingest; `center_point` is the new geometry's centroid); a `filename`
  matching no input file is a ValidationError. `new_workspace_path` is the file's new path
  (name included) within its workspace: the file is moved there through the broker.
  `gis_data_path`'s document becomes the file's `meta_data`, and its geometry the file's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from scale.exceptions import NotFound, ValidationError
from scale.listing import Filter, ListSpec, parse_bool, parse_int
from scale.models.files import FileAncestryLink, ScaleFile, ScaleFileType
from scale.models.job_types import JobType
from scale.models.jobs import Job, JobExecution
from scale.models.recipes import RecipeJob
from scale.models.workspaces import Workspace
from scale.products.geometry import centroid
from scale.products.values import CollectedOutput, ParsedInput
from scale.specs import job_data
from scale.specs._paths import check_relative_path
from scale.timeutil import utcnow
from scale.workspaces.brokers import broker_for


def store_products(session: Session, job_exe: JobExecution, outputs: Sequence[CollectedOutput]) -> list[ScaleFile]:
    """Copy each output file into its workspace and record it as a PRODUCT `ScaleFile` with
    ancestry links. Returns the products in the order of `outputs` and their files.

    Raises ValidationError when the job data gives an output no workspace (or an unknown one),
    ScaleError when the workspace's broker cannot be used, and OSError when copying fails.
    Files already copied stay in the workspace if a later one fails (the rows are rolled back)."""
    if not any(output.files for output in outputs):
        return []  # no lineage or recipe lookups for a job that made nothing
    job = job_exe.job
    data = job_data.parse(job.data)
    recipe_id = session.scalar(select(RecipeJob.recipe_id).where(RecipeJob.job_id == job.id).limit(1))
    ancestor_ids = _lineage(session, data.file_ids())
    products = []
    published = utcnow()
    for output in outputs:
        workspace = _output_workspace(session, data, output.name)
        broker = broker_for(workspace)
        for item in output.files:
            stored = broker.store(item.path, f"{job.job_type.name}/{job_exe.id}/{item.rel_path}")
            geo = item.geo_metadata
            product = ScaleFile(
                file_type=ScaleFileType.PRODUCT,
                file_name=item.path.name,
                media_type=item.media_type,
                file_size=item.path.stat().st_size,
                file_path=stored,
                workspace_id=workspace.id,
                uuid=uuid.uuid4().hex,
                job_exe_id=job_exe.id,
                job_id=job.id,
                job_type_id=job.job_type_id,
                recipe_id=recipe_id,
                is_operational=job.job_type.is_operational,
                # Published as its job completes: these rows commit with the completion.
                is_published=True, has_been_published=True, published=published,
                data_started=geo.data_started if geo else None,
                data_ended=geo.data_ended if geo else None,
                geometry=geometry_of(geo.geo_json) if geo and geo.geo_json else None,
            )
            product.center_point = centroid(product.geometry)
            session.add(product)
            products.append(product)
    session.flush()
    for product in products:
        session.add_all(
            FileAncestryLink(
                ancestor_id=ancestor_id, descendant_id=product.id, job_exe_id=job_exe.id, job_id=job.id,
                recipe_id=recipe_id,
            )
            for ancestor_id in ancestor_ids
        )
    session.flush()
    return products


def record_parse_results(session: Session, job: Job, parsed: Sequence[ParsedInput]) -> list[ScaleFile]:
    """Mark the job's input files named by `parsed` as parsed, with their data times, data types,
    geometry and GIS meta data; move those given a `new_workspace_path`. Returns the updated files.

    Raises ValidationError (field `parse_results[i].filename` / `.new_workspace_path`)."""
    inputs = list(session.scalars(select(ScaleFile).where(ScaleFile.id.in_(job_data.parse(job.data).file_ids()))))
    updated = []
    now = utcnow()
    for index, entry in enumerate(parsed):
        result = entry.result
        files = [item for item in inputs if item.file_name == result.filename]
        if not files:
            raise ValidationError(f"parse_results[{index}].filename",
                                  f"{result.filename!r} is not the name of an input file of this job")
        for source in files:
            source.is_parsed = True
            source.parsed = now
            # The ingest's tags stay: parse results add data types, they do not replace them.
            source.data_type = list(dict.fromkeys([*source.data_type, *result.data_types]))
            geo = result.geo_metadata
            if geo is not None:
                source.data_started = geo.data_started
                source.data_ended = geo.data_ended
                if geo.geo_json:
                    source.geometry = geometry_of(geo.geo_json)
            if entry.gis_data is not None:
                source.meta_data = entry.gis_data
                source.geometry = geometry_of(entry.gis_data)
            source.center_point = centroid(source.geometry)
            if result.new_workspace_path is not None:
                field = f"parse_results[{index}].new_workspace_path"
                target = check_relative_path(result.new_workspace_path, field=field)
                source.file_path = broker_for(source.workspace).move(source.file_path, target)
                source.file_name = source.file_path.rsplit("/", 1)[-1]
            updated.append(source)
    session.flush()
    return updated


def geometry_of(geo_json: Mapping[str, Any]) -> dict[str, Any] | None:
    """The geometry a GeoJSON object describes: a Feature's geometry, a FeatureCollection's
    geometries as one GeometryCollection, or the geometry itself."""
    kind = geo_json.get("type")
    if kind == "Feature":
        geometry = geo_json.get("geometry")
        return dict(geometry) if isinstance(geometry, Mapping) else None
    if kind == "FeatureCollection":
        geometries = [g for g in (geometry_of(f) for f in geo_json.get("features", [])) if g is not None]
        if not geometries:
            return None
        return geometries[0] if len(geometries) == 1 else {"type": "GeometryCollection", "geometries": geometries}
    return dict(geo_json)


def _lineage(session: Session, file_ids: Sequence[int]) -> list[int]:
    """`file_ids` and every ancestor of those files, each once."""
    if not file_ids:
        return []
    ancestors = session.scalars(
        select(FileAncestryLink.ancestor_id).where(FileAncestryLink.descendant_id.in_(file_ids)).distinct()
    )
    return list(dict.fromkeys([*file_ids, *ancestors]))


def _output_workspace(session: Session, data: job_data.JobData, output_name: str) -> Workspace:
    entry = data.get_output(output_name)
    if entry is None:
        raise ValidationError("output_data", f"output {output_name!r} has no workspace_id in the job data")
    workspace = session.get(Workspace, entry.workspace_id)
    if workspace is None:
        raise ValidationError("output_data", f"workspace {entry.workspace_id} of output {output_name!r} does not exist")
    return workspace


PRODUCT_LIST = ListSpec(
    filters={"job_type_id": Filter(ScaleFile.job_type_id, parse_int),
             "job_type_name": Filter(JobType.name),
             "job_type_category": Filter(JobType.category),
             "is_operational": Filter(ScaleFile.is_operational, parse_bool),
             "file_name": Filter(ScaleFile.file_name)},
    orders={"id": ScaleFile.id, "file_name": ScaleFile.file_name, "media_type": ScaleFile.media_type,
            "file_size": ScaleFile.file_size, "created": ScaleFile.created,
            "last_modified": ScaleFile.last_modified, "data_started": ScaleFile.data_started,
            "data_ended": ScaleFile.data_ended, "is_operational": ScaleFile.is_operational,
            "is_published": ScaleFile.is_published, "published": ScaleFile.published,
            "unpublished": ScaleFile.unpublished, "deleted": ScaleFile.deleted,
            "job_type__id": JobType.id, "job_type__name": JobType.name,
            "job_type__version": JobType.version, "job_type__category": JobType.category},
    default_order=("-last_modified", "-id"),
    time_column=ScaleFile.last_modified,
)


def list_products_statement() -> Select:
    """Rows of (product, the job type that made it)."""
    return (select(ScaleFile, JobType).join(JobType, ScaleFile.job_type_id == JobType.id)
            .where(ScaleFile.file_type == ScaleFileType.PRODUCT)
            .options(selectinload(ScaleFile.workspace)))


def list_product_updates_statement() -> Select:
    """Rows of (product, job type) for the products that have ever been published."""
    return list_products_statement().where(ScaleFile.has_been_published.is_(True))


def source_files_of(session: Session, product_ids: Sequence[int]) -> dict[int, list[ScaleFile]]:
    """The source files each product was made from, directly or through its recipe, in id
    order: one query for a whole page of products."""
    found: dict[int, list[ScaleFile]] = {product_id: [] for product_id in product_ids}
    rows = session.execute(
        select(FileAncestryLink.descendant_id, ScaleFile)
        .join(FileAncestryLink, FileAncestryLink.ancestor_id == ScaleFile.id)
        .where(FileAncestryLink.descendant_id.in_(found), ScaleFile.file_type == ScaleFileType.SOURCE)
        .distinct().order_by(FileAncestryLink.descendant_id, ScaleFile.id)
        .options(selectinload(ScaleFile.workspace)))
    for product_id, source in rows:
        if product_id is not None:  # the IN above already excludes null; this tells the type checker
            found[product_id].append(source)
    return found


def get_product(session: Session, product_id: int) -> ScaleFile:
    """A product that is not deleted; NotFound otherwise (a source file is not a product)."""
    product = session.get(ScaleFile, product_id)
    if product is None or product.file_type != ScaleFileType.PRODUCT or product.is_deleted:
        raise NotFound(f"product {product_id} does not exist")
    return product
