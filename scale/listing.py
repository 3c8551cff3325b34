"""The one implementation of list queries: `page`, `page_size`, `started`/`ended`,
repeatable filters and multi-field `order` (with `-` to reverse, `__` for nested fields).

Each list endpoint describes what it offers in a `ListSpec`; `parse_list_args` turns query
arguments into a validated `ListQuery` and `paginate` runs it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from scale.exceptions import ValidationError
from scale.timeutil import parse_time_or_duration, utcnow

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Offsets past this many rows are refused rather than sent to the database to overflow.
MAX_PAGE = 10_000_000
# Integer filters compare with INTEGER columns; a value outside that range matches nothing
# and would make PostgreSQL raise, so it is refused as bad input.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

QueryArgs = Mapping[str, Sequence[str]]

# JSON schemas of the values the parsers below accept, for the API's documentation: a value
# the schema allows is accepted, so a client (or schemathesis) can trust the document.
INT_SCHEMA: dict[str, Any] = {"type": "integer", "minimum": INT_MIN, "maximum": INT_MAX}
BOOL_SCHEMA: dict[str, Any] = {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]}
TEXT_SCHEMA: dict[str, Any] = {"type": "string", "pattern": "^[^\\x00]*$"}
# `started`/`ended`: the common forms of an ISO-8601 datetime or duration, each of which parses.
# The parser accepts more (any ISO-8601 datetime or day/time duration); the pattern keeps to
# values that are certainly valid (days up to 28) so that every value it allows is accepted.
TIME_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": "^([1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]"
               "(:[0-5][0-9](\\.[0-9]{1,6})?)?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])?"
               "|P([0-9]{1,5}D|([0-9]{1,5}D)?T[0-9]{1,5}H([0-9]{1,5}M)?([0-9]{1,5}S)?))$",
}


def parse_bool(text: str, *, field: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValidationError(field, f"{text!r} is not a boolean (true or false)")


def parse_int(text: str, *, field: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValidationError(field, f"{text!r} is not an integer") from None
    if not INT_MIN <= value <= INT_MAX:
        raise ValidationError(field, f"{text} is out of range")
    return value


def parse_text(text: str, *, field: str) -> str:
    if "\x00" in text:  # PostgreSQL text cannot hold NUL
        raise ValidationError(field, "must not contain NUL characters")
    return text


@dataclass(frozen=True)
class Filter:
    """A repeatable query filter: `?status=QUEUED&status=RUNNING` matches either value."""

    column: Any
    parse: Callable[..., Any] = parse_text
    choices: tuple[str, ...] = ()

    def value_schema(self) -> dict[str, Any]:
        """The JSON schema of one value this filter accepts."""
        if self.choices:
            return {"type": "string", "enum": list(self.choices)}
        return dict({parse_int: INT_SCHEMA, parse_bool: BOOL_SCHEMA}.get(self.parse, TEXT_SCHEMA))

    def convert(self, name: str, raw: str) -> Any:
        if self.choices and raw not in self.choices:
            raise ValidationError(name, f"{raw!r} is not one of {', '.join(self.choices)}")
        return self.parse(raw, field=name)


@dataclass(frozen=True)
class ListSpec:
    """What one list endpoint offers.

    `time_column` is what `started`/`ended` bound (None: the endpoint has no time range);
    `orders` maps each accepted `order` key (`name`, `job_type__name`) to a column that the
    endpoint's statement can sort by; `default_order` applies when the request has none."""

    filters: Mapping[str, Filter] = field(default_factory=dict)
    orders: Mapping[str, Any] = field(default_factory=dict)
    default_order: tuple[str, ...] = ("id",)
    time_column: Any = None
    default_range: dt.timedelta | None = None


@dataclass(frozen=True)
class ListQuery:
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    filters: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    order: tuple[tuple[str, bool], ...] = ()  # (key, descending)


def _single(args: QueryArgs, name: str) -> str | None:
    """The one value of `name`; an empty value (`?started=`) is the same as none, as for filters."""
    values = args.get(name) or ()
    if len(values) > 1:
        raise ValidationError(name, "may be given only once")
    return values[0] or None if values else None


def parse_list_args(args: QueryArgs, spec: ListSpec, *, now: dt.datetime | None = None) -> ListQuery:
    """Validate list arguments against `spec`. Unknown arguments are ignored, as browsers and
    proxies add their own; a bad value of a known one is a ValidationError naming it."""
    now = now or utcnow()
    page = parse_int(_single(args, "page") or "1", field="page")
    if not 1 <= page <= MAX_PAGE:
        raise ValidationError("page", f"must be between 1 and {MAX_PAGE}")
    page_size = parse_int(_single(args, "page_size") or str(DEFAULT_PAGE_SIZE), field="page_size")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")

    started = ended = None
    if spec.time_column is not None:
        if (text := _single(args, "started")) is not None:
            started = parse_time_or_duration(text, field="started", now=now)
        if (text := _single(args, "ended")) is not None:
            ended = parse_time_or_duration(text, field="ended", now=now)
        if started is None and spec.default_range is not None:
            try:
                started = (ended or now) - spec.default_range
            except OverflowError:
                raise ValidationError("ended", "is too early for the default time range") from None
        # A range whose start is after its end is valid and empty: the document cannot say
        # that one argument must precede another, and an empty page is the honest answer.

    filters: dict[str, tuple[Any, ...]] = {}
    for name, flt in spec.filters.items():
        values = [v for v in args.get(name) or () if v != ""]
        if values:
            filters[name] = tuple(flt.convert(name, v) for v in values)

    order: list[tuple[str, bool]] = []
    for raw in args.get("order") or ():
        for key in (k.strip() for k in raw.split(",")):
            descending = key.startswith("-")
            key = key.lstrip("-")
            if key not in spec.orders:
                raise ValidationError("order", f"cannot order by {key!r}; choose from "
                                      f"{', '.join(sorted(spec.orders))}")
            order.append((key, descending))
    return ListQuery(page=page, page_size=page_size, started=started, ended=ended,
                     filters=filters, order=tuple(order))


def apply(stmt: Select, query: ListQuery, spec: ListSpec) -> Select:
    """`stmt` narrowed by the query's time range and filters and sorted by its order
    (ties broken by the spec's default order, so pages are stable)."""
    if spec.time_column is not None:
        if query.started is not None:
            stmt = stmt.where(spec.time_column >= query.started)
        if query.ended is not None:
            stmt = stmt.where(spec.time_column <= query.ended)
    for name, values in query.filters.items():
        column = spec.filters[name].column
        stmt = stmt.where(column.in_(values)) if len(values) > 1 else stmt.where(column == values[0])
    keys = list(query.order) + [(k.lstrip("-"), k.startswith("-")) for k in spec.default_order]
    seen: set[str] = set()
    clauses: list[ColumnElement[Any]] = []
    for key, descending in keys:
        if key in seen:
            continue
        seen.add(key)
        column = spec.orders[key]
        clauses.append(column.desc() if descending else column.asc())
    return stmt.order_by(*clauses)


@dataclass(frozen=True)
class Page:
    count: int
    page: int
    page_size: int
    results: list[Any]

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.count

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def paginate(session: Session, stmt: Select, query: ListQuery, spec: ListSpec, *,
             rows: bool = False) -> Page:
    """Run `stmt` with the query applied and return one page and the total.

    The page holds the first column of each row (the ORM object of `select(Model)`), or with
    `rows` the whole rows, so that a statement selecting an object and numbers about it
    (`select(JobType, running.c.jobs)`) pages in one query."""
    stmt = apply(stmt, query, spec)
    count = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = stmt.offset((query.page - 1) * query.page_size).limit(query.page_size)
    # Rows are kept as they come: unique() would hash them, and a JSON column cannot be hashed.
    results = list(session.execute(page)) if rows else list(session.scalars(page).unique())
    return Page(count=count, page=query.page, page_size=query.page_size, results=results)
