"""List responses: the reference's `count`/`next`/`previous`/`results` envelope over
`scale.listing`, and the Swagger description of the shared list arguments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import request
from flask_restx import Namespace
from sqlalchemy import Select

from api.context import db_session
from scale.listing import (
    MAX_PAGE,
    MAX_PAGE_SIZE,
    TIME_SCHEMA,
    ListQuery,
    ListSpec,
    Page,
    paginate,
    parse_list_args,
)


def _page_url(page: int) -> str:
    """This request's URL at `page`: every argument kept (repeated ones too), URL-encoded."""
    args = request.args.copy()
    args.setlist("page", [str(page)])
    return request.base_url + "?" + urlencode(list(args.items(multi=True)))


def list_response(stmt: Select, spec: ListSpec, serialize: Callable[[Any], Any], *,
                  rows: bool = False, whole_page: bool = False) -> dict:
    """Run the request's list arguments against `stmt` and wrap one page of results, each
    given to `serialize`: the first column of a row, or with `rows` the whole row. With
    `whole_page`, `serialize` takes the page's list and returns the list of results, so what
    the results need from elsewhere is read in one query, not one per result."""
    query = parse_list_args(request.args.to_dict(flat=False), spec)
    page: Page = paginate(db_session(), stmt, query, spec, rows=rows)
    results = list(page.results)
    return {
        "count": page.count,
        "next": _page_url(page.page + 1) if page.has_next else None,
        "previous": _page_url(page.page - 1) if page.has_previous else None,
        "results": serialize(results) if whole_page else [serialize(item) for item in results],
    }


def page_params(what: str) -> dict[str, dict]:
    """Swagger parameters for `page` and `page_size` over `what`."""
    return {"page": {"description": f"Page of {what}, from 1", "type": "integer", "minimum": 1,
                     "maximum": MAX_PAGE, "in": "query", "allowEmptyValue": True},
            "page_size": {"description": f"{what.capitalize()} per page (default 100)", "type": "integer",
                          "minimum": 1, "maximum": MAX_PAGE_SIZE, "in": "query", "allowEmptyValue": True}}


def list_params(spec: ListSpec) -> dict[str, dict]:
    """Swagger parameters for a list endpoint built from its `ListSpec`."""
    params: dict[str, dict] = page_params("results")
    params["order"] = {"description": "Field to sort by; repeat to multi-sort, '-' reverses, '__' nests",
                       "type": "array", "collectionFormat": "multi", "in": "query",
                       "items": {"type": "string",
                                 "enum": [f"{sign}{key}" for key in sorted(spec.orders) for sign in ("", "-")]}}
    if spec.time_column is not None:
        for name in ("started", "ended"):
            params[name] = {"description": f"{name} of the time range: ISO-8601 datetime "
                                           "(2015-01-01T00:00:00Z) or duration (PT3H0M0S)",
                            "in": "query", "allowEmptyValue": True, **TIME_SCHEMA}
    for name, flt in spec.filters.items():
        params[name] = {"description": f"Filter by {name}; repeat for several values",
                        "type": "array", "items": flt.value_schema(), "collectionFormat": "multi", "in": "query"}
    return params


def document_list(ns: Namespace, spec: ListSpec) -> Callable:
    return ns.doc(params=list_params(spec))



def items_response(items: list[Any], query: ListQuery, serialize: Callable[[Any], Any]) -> dict:
    """The list envelope over one page of `items`, a list already in memory (metrics types,
    plot data), each given to `serialize`."""
    first = (query.page - 1) * query.page_size
    page = Page(count=len(items), page=query.page, page_size=query.page_size,
                results=items[first:first + query.page_size])
    return {
        "count": page.count,
        "next": _page_url(page.page + 1) if page.has_next else None,
        "previous": _page_url(page.page - 1) if page.has_previous else None,
        "results": [serialize(item) for item in page.results],
    }
