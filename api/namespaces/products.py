"""Products: files that jobs produce: `/api/products/` (reference, Product Services).

Both lists filter on `job_type_id`, `job_type_name`, `job_type_category`, `is_operational` and
`file_name`, bound `last_modified` with `started`/`ended`, and order by the file's fields and
`job_type__{id,name,version,category}` (default: most recently modified first).
`/products/updates/` lists the products that have ever been published, each with its latest
update and its source files.

Beyond the reference: `GET /products/{id}/download/` streams the product's bytes from its
workspace (through the workspace's broker) with its media type; 404 for an unknown id, a
source file, a deleted product or a file missing from the workspace.

The list statements and the download lookup belong with the products service
(`scale/products/service.py`, another owner); they sit here until they move there."""

from __future__ import annotations

from flask import send_file
from flask_restx import Namespace, Resource
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from api.context import db_session
from api.listing import document_list, list_response
from api.serialize import products as serialize
from scale.errors import NotFound
from scale.listing import Filter, ListSpec, parse_bool, parse_int
from scale.models.files import FileAncestryLink, ScaleFile, ScaleFileType
from scale.models.job_types import JobType
from scale.workspaces.brokers import broker_for

ns = Namespace("products", description="Products: files that jobs produce")

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


def source_files_of(session: Session, product_id: int) -> list[ScaleFile]:
    """The source files a product was made from, directly or through its recipe."""
    return list(session.scalars(
        select(ScaleFile).join(FileAncestryLink, FileAncestryLink.ancestor_id == ScaleFile.id)
        .where(FileAncestryLink.descendant_id == product_id, ScaleFile.file_type == ScaleFileType.SOURCE)
        .distinct().order_by(ScaleFile.id)))


def get_product(session: Session, product_id: int) -> ScaleFile:
    """A product that is not deleted; NotFound otherwise (a source file is not a product)."""
    product = session.get(ScaleFile, product_id)
    if product is None or product.file_type != ScaleFileType.PRODUCT or product.is_deleted:
        raise NotFound(f"product {product_id} does not exist")
    return product


def _summary(row) -> dict:
    return serialize.product_summary(*row)


def _update(row) -> dict:
    product, job_type = row
    return serialize.product_update(product, job_type, source_files_of(db_session(), product.id))


@ns.route("/")
class ProductList(Resource):
    @document_list(ns, PRODUCT_LIST)
    def get(self):
        """List products."""
        return list_response(list_products_statement(), PRODUCT_LIST, _summary, rows=True)


@ns.route("/updates/")
class ProductUpdates(Resource):
    @document_list(ns, PRODUCT_LIST)
    def get(self):
        """List product updates (published, unpublished, deleted) in the time range."""
        stmt = list_products_statement().where(ScaleFile.has_been_published.is_(True))
        return list_response(stmt, PRODUCT_LIST, _update, rows=True)


@ns.route("/<int:product_id>/download/")
class ProductDownload(Resource):
    @ns.produces(["application/octet-stream"])
    @ns.response(404, "No such product, or its file is missing from the workspace")
    def get(self, product_id: int):
        """Download a product's file (beyond the reference)."""
        product = get_product(db_session(), product_id)
        stream = broker_for(product.workspace).open_read(product.file_path)
        return send_file(stream, mimetype=product.media_type, as_attachment=True,
                         download_name=product.file_name, max_age=0)
