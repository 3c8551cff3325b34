"""Scale files in the reference's shapes: the file fields shared by products and source files,
Product List entries, and Product Updates entries (with `update` and `source_files`).

Decisions where the reference is silent:

* `url`: the workspace's `base_url` joined with the file's path when the workspace has one;
  otherwise, for a product, the absolute URL of `GET /api/products/{id}/download/` (beyond the
  reference); otherwise null.
* `geometry` and `center_point` are WKT strings, as the reference's field table says; they are
  kept as GeoJSON and converted here.
* The update `action` is DELETED for a deleted product, else UNPUBLISHED once unpublished,
  else PUBLISHED; `when` is the time of that action.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import url_for

from api.serialize.job_types import job_type_base
from api.serialize.workspaces import workspace_base
from scale.models.files import ScaleFile, ScaleFileType
from scale.models.job_types import JobType
from scale.timeutil import to_iso


def file_url(scale_file: ScaleFile) -> str:
    base_url = scale_file.workspace.base_url
    if base_url:
        return f"{base_url.rstrip('/')}/{scale_file.file_path.lstrip('/')}"
    if scale_file.file_type == ScaleFileType.PRODUCT:
        return url_for("api.products_product_download", product_id=scale_file.id, _external=True)
    return url_for("api.sources_source_download", source_id=scale_file.id, _external=True)


def scale_file_base(scale_file: ScaleFile) -> dict[str, Any]:
    """The fields every Scale file has (Scale File Details)."""
    return {
        "id": scale_file.id, "workspace": workspace_base(scale_file.workspace),
        "file_name": scale_file.file_name, "media_type": scale_file.media_type,
        "file_size": scale_file.file_size, "data_type": scale_file.data_type,
        "is_deleted": scale_file.is_deleted, "uuid": scale_file.uuid, "url": file_url(scale_file),
        "created": to_iso(scale_file.created), "deleted": to_iso(scale_file.deleted),
        "data_started": to_iso(scale_file.data_started), "data_ended": to_iso(scale_file.data_ended),
        "geometry": wkt(scale_file.geometry), "center_point": wkt(scale_file.center_point),
        "meta_data": scale_file.meta_data, "countries": scale_file.countries,
        "last_modified": to_iso(scale_file.last_modified),
    }


def source_file_summary(scale_file: ScaleFile) -> dict[str, Any]:
    return {**scale_file_base(scale_file), "is_parsed": scale_file.is_parsed,
            "parsed": to_iso(scale_file.parsed)}


def product_summary(product: ScaleFile, job_type: JobType | None) -> dict[str, Any]:
    """A Product List entry; `job_type` made the product (ScaleFile has no relationship to it)."""
    return {
        **scale_file_base(product), "is_operational": product.is_operational,
        "is_published": product.is_published, "published": to_iso(product.published),
        "unpublished": to_iso(product.unpublished),
        "job_type": job_type_base(job_type) if job_type is not None else None,
        "job": {"id": product.job_id} if product.job_id is not None else None,
        "job_exe": {"id": product.job_exe_id} if product.job_exe_id is not None else None,
    }


def product_update(product: ScaleFile, job_type: JobType | None, source_files: Iterable[ScaleFile]) -> dict[str, Any]:
    """A Product Updates entry: the summary, what happened last and the source files."""
    if product.is_deleted:
        action, when = "DELETED", product.deleted
    elif product.unpublished is not None:
        action, when = "UNPUBLISHED", product.unpublished
    else:
        action, when = "PUBLISHED", product.published
    return {**product_summary(product, job_type), "update": {"action": action, "when": to_iso(when)},
            "source_files": [source_file_summary(f) for f in source_files]}


def wkt(geometry: dict[str, Any] | None) -> str | None:
    """A GeoJSON geometry as WKT (`POINT (1 2)`); None stays None."""
    if geometry is None:
        return None
    kind = geometry["type"]
    if kind == "GeometryCollection":
        return f"GEOMETRYCOLLECTION ({', '.join(str(wkt(g)) for g in geometry['geometries'])})"
    return f"{kind.upper()} {_coordinates(kind, geometry['coordinates'])}"


def _coordinates(kind: str, coordinates: Any) -> str:
    def point(p: list[float]) -> str:
        return " ".join(_number(c) for c in p)

    def ring(points: list[list[float]]) -> str:
        return f"({', '.join(point(p) for p in points)})"

    def polygon(rings: list[list[list[float]]]) -> str:
        return f"({', '.join(ring(r) for r in rings)})"

    writers: dict[str, Callable[[Any], str]] = {
        "Point": lambda c: f"({point(c)})",
        "LineString": ring, "MultiPoint": ring,
        "Polygon": polygon, "MultiLineString": polygon,
        "MultiPolygon": lambda c: f"({', '.join(polygon(p) for p in c)})",
    }
    return writers[kind](coordinates)


def _number(value: float) -> str:
    return repr(float(value)).removesuffix(".0") if float(value).is_integer() else repr(float(value))
