"""Column types shared by the models: aware timestamps and geometry kept as GeoJSON.

Geometry is a PostGIS `geometry(<type>, 4326)` column on PostgreSQL, so that spatial queries and GIST
indexes work there, and GeoJSON text on every other backend (the embedded SQLite default has no
spatial extension). Either way the Python value is a GeoJSON geometry `dict`; a GeoJSON `str` is
accepted on write too."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import DateTime, Text, func
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from scale.timeutil import utcnow

# WGS 84: GeoJSON coordinates are longitude/latitude on it (RFC 7946).
SRID = 4326

# Every time in Scale is UTC and aware; SQLite hands them back naive (see `timeutil.as_utc`).
Timestamp = DateTime(timezone=True)


def created_column() -> Mapped[dt.datetime]:
    """`created`: set once on insert, indexed because list endpoints filter and order on it."""
    return mapped_column(Timestamp, default=utcnow, index=True)


def last_modified_column() -> Mapped[dt.datetime]:
    """`last_modified`: bumped on every ORM update; list endpoints filter `started`/`ended` on it."""
    return mapped_column(Timestamp, default=utcnow, onupdate=utcnow, index=True)


class GeometryColumn(TypeDecorator[dict[str, Any]]):
    """A GeoJSON geometry: PostGIS on PostgreSQL, GeoJSON text elsewhere.

    On PostgreSQL values go in through `ST_GeomFromGeoJSON` and come out through `ST_AsGeoJSON`,
    so Python never sees WKB and no geometry library is needed."""

    impl = Text
    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY") -> None:
        super().__init__()
        self.geometry_type = geometry_type

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            # The GIST index is declared on the table, so that migrations and models agree on its name.
            return dialect.type_descriptor(Geometry(self.geometry_type, srid=SRID, spatial_index=False))
        return dialect.type_descriptor(Text())

    def _on_postgis(self) -> bool:
        # SQLAlchemy calls the expression hooks on the per-dialect copy, whose impl is the loaded one.
        return isinstance(self.impl_instance, Geometry)

    def bind_expression(self, bindvalue: BindParameter[Any]) -> ColumnElement[Any]:
        if self._on_postgis():
            return func.ST_SetSRID(func.ST_GeomFromGeoJSON(bindvalue), SRID)
        return bindvalue

    def column_expression(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        if self._on_postgis():
            return func.ST_AsGeoJSON(column, type_=self)
        return column

    # geoalchemy2's own processors speak WKT/WKB elements; both backends carry GeoJSON text here.
    def bind_processor(self, dialect: Dialect) -> Any:
        def process(value: dict[str, Any] | str | None) -> str | None:
            if value is None or isinstance(value, str):
                return value
            return json.dumps(value)

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        def process(value: str | None) -> dict[str, Any] | None:
            return None if value is None else json.loads(value)

        return process
