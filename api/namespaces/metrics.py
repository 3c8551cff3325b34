"""Metrics Services (reference): `GET /metrics/`, `/metrics/{name}/`, `/metrics/{name}/plot-data/`,
and `POST /metrics/compute/` {"day": "YYYY-MM-DD"}, which recomputes a day's rollups now
(a write: token required)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from flask_restx import Namespace, Resource

from api.body import json_object
from api.context import db_session
from api.listing import document_list, items_response
from api.serialize.errors import error_detail
from api.serialize.job_types import job_type_base
from api.serialize.strikes import strike_summary
from scale.listing import ListSpec, parse_list_args
from scale.metrics import rollup
from scale.metrics import types as metrics
from scale.metrics.commands import COMPUTE_SCHEMA, ComputeDay

ns = Namespace("metrics", description="Processing counts and timings, rolled up per day")

# A metrics type's name in a path: one of the known names only, so that `/metrics/compute/`
# belongs to the compute resource alone (a GET there is not a metrics type called "compute").
NAME = "<any({}):name>".format(", ".join(f'"{name}"' for name in metrics.METRICS_TYPES))
NAME_DOC = {"name": {"description": "A metrics type", "enum": list(metrics.METRICS_TYPES)}}

_CHOICE: dict[str, Callable[[Any], dict[str, Any]]] = {
    "job-types": job_type_base, "error-types": error_detail, "ingest": strike_summary}
_PAGE_ONLY = ListSpec()


def _column(column: metrics.Column) -> dict[str, Any]:
    return {"name": column.name, "title": column.title, "description": column.description, "units": column.units,
            "group": column.group, "aggregate": column.aggregate}


def _type(kind: metrics.MetricsType) -> dict[str, Any]:
    return {"name": kind.name, "title": kind.title, "description": kind.description,
            "filters": [{"param": param, "type": kind_of} for param, kind_of in kind.filters],
            "groups": [{"name": g.name, "title": g.title, "description": g.description} for g in kind.groups],
            "columns": [_column(c) for c in kind.columns]}


def _plot(data: metrics.PlotData) -> dict[str, Any]:
    return {"column": _column(data.column),
            "min_x": data.min_x.isoformat() if data.min_x else None,
            "max_x": data.max_x.isoformat() if data.max_x else None,
            "min_y": data.min_y, "max_y": data.max_y,
            "values": [{**({"id": v.id} if v.id is not None else {}), "date": v.date.isoformat(), "value": v.value}
                       for v in data.values]}


@ns.route("/")
class MetricsList(Resource):
    @document_list(ns, _PAGE_ONLY)
    def get(self):
        """Every metrics type with its filters, groups and columns."""
        query = parse_list_args(request.args.to_dict(flat=False), _PAGE_ONLY)
        return items_response(list(metrics.METRICS_TYPES.values()), query, _type)


COMPUTE_BODY = ns.schema_model("MetricsCompute", COMPUTE_SCHEMA)


@ns.route("/compute/")
class MetricsCompute(Resource):
    @ns.expect(COMPUTE_BODY)
    def post(self):
        """Recompute one day's rollups (`{"day": "YYYY-MM-DD"}`), replacing what the day had."""
        day = ComputeDay.from_json(json_object()).day
        session = db_session()
        rows = rollup.compute_day(session, day)
        session.commit()
        return {"day": day.isoformat(), "rows": rows}


@ns.route(f"/{NAME}/")
@ns.doc(params=NAME_DOC)
class MetricsDetail(Resource):
    def get(self, name: str):
        """A metrics type with the choices its plot data can be filtered by."""
        kind = metrics.get_metrics_type(name)
        serialize = _CHOICE[kind.name]
        return {**_type(kind), "choices": [serialize(choice) for choice in metrics.choices(db_session(), kind)]}


def _plot_data_resource(kind: metrics.MetricsType) -> None:
    """`GET /metrics/{kind}/plot-data/`, one resource per metrics type: each documents the
    columns and groups of its own type, which one path with a name argument could not."""
    spec = metrics.plot_spec(kind)

    class MetricsPlotData(Resource):
        @document_list(ns, spec)
        def get(self):
            """Plot values per column, oldest first."""
            query = parse_list_args(request.args.to_dict(flat=False), spec)
            return items_response(metrics.plot_data(db_session(), kind, query), query, _plot)

    ns.route(f"/{kind.name}/plot-data/", endpoint=f"metrics_plot_data_{kind.name}")(MetricsPlotData)


for _kind in metrics.METRICS_TYPES.values():
    _plot_data_resource(_kind)
