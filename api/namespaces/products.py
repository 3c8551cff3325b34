"""Products: files that jobs produce: `/api/products/` (reference, Product Services).

Both lists filter on `job_type_id`, `job_type_name`, `job_type_category`, `is_operational` and
`file_name`, bound `last_modified` with `started`/`ended`, and order by the file's fields and
`job_type__{id,name,version,category}` (default: most recently modified first).
`/products/updates/` lists the products that have ever been published, each with its latest
update and its source files.

Beyond the reference: `GET /products/{id}/download/` streams the product's bytes from its
workspace (through the workspace's broker) with its media type; 404 for an unknown id, a
source file, a deleted product or a file missing from the workspace; 401 without a valid token
unless the product's workspace is public (`api.downloads`)."""

from __future__ import annotations

from flask_restx import Namespace, Resource

from api.context import db_session
from api.downloads import send_workspace_file
from api.listing import document_list, list_response
from api.serialize import products as serialize
from scale.products.service import (
    PRODUCT_LIST,
    get_product,
    list_product_updates_statement,
    list_products_statement,
    source_files_of,
)

ns = Namespace("products", description="Products: files that jobs produce")

def _summary(row) -> dict:
    return serialize.product_summary(*row)


def _updates(rows: list) -> list[dict]:
    sources = source_files_of(db_session(), [product.id for product, _job_type in rows])
    return [serialize.product_update(product, job_type, sources[product.id]) for product, job_type in rows]


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
        return list_response(list_product_updates_statement(), PRODUCT_LIST, _updates, rows=True,
                             whole_page=True)


@ns.route("/<int:product_id>/download/")
class ProductDownload(Resource):
    @ns.produces(["application/octet-stream"])
    @ns.response(401, "The product's workspace is not public and the request has no valid token")
    @ns.response(403, "Scale may not read the file")
    @ns.response(404, "No such product, or its file is missing from the workspace")
    @ns.response(503, "The product's NFS workspace cannot be mounted")
    def get(self, product_id: int):
        """Download a product's file (beyond the reference)."""
        product = get_product(db_session(), product_id)
        return send_workspace_file(product.workspace, product.file_path, download_name=product.file_name,
                                   mimetype=product.media_type)
