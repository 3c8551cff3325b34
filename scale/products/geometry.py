"""The centroid of a GeoJSON geometry, as PostGIS's `ST_Centroid` (GEOS) computes it, so a
file's `center_point` is the same on PostgreSQL and on SQLite (no PostGIS there).

GEOS uses the geometry's highest dimension with something in it: the area-weighted centroid
of its polygons (holes subtract); if their area is zero, the length-weighted centroid of its
line segments (polygon rings count as lines); if those have no length, the mean of its points
(a zero-length line counts as its first point). An empty geometry has no centroid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Coordinates = Sequence[Sequence[float]]


@dataclass
class _Sums:
    area: float = 0.0
    area_x: float = 0.0
    area_y: float = 0.0
    length: float = 0.0
    length_x: float = 0.0
    length_y: float = 0.0
    points: list[tuple[float, float]] = field(default_factory=list)

    def add_ring(self, ring: Coordinates, *, hole: bool) -> None:
        twice_area = moment_x = moment_y = 0.0
        for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:], strict=False):
            cross = x0 * y1 - x1 * y0
            twice_area += cross
            moment_x += (x0 + x1) * cross
            moment_y += (y0 + y1) * cross
        sign = -1.0 if twice_area < 0 else 1.0  # orientation does not matter, only shell or hole
        if hole:
            sign = -sign
        self.area += sign * twice_area / 2
        self.area_x += sign * moment_x / 6
        self.area_y += sign * moment_y / 6
        self.add_line(ring)

    def add_line(self, line: Coordinates) -> None:
        length_before = self.length
        for (x0, y0, *_), (x1, y1, *_) in zip(line, line[1:], strict=False):
            segment = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
            self.length += segment
            self.length_x += segment * (x0 + x1) / 2
            self.length_y += segment * (y0 + y1) / 2
        if self.length == length_before and line:
            self.add_point(line[0])

    def add_point(self, point: Sequence[float]) -> None:
        self.points.append((float(point[0]), float(point[1])))

    def add(self, geometry: Mapping[str, Any]) -> None:
        kind, coordinates = geometry.get("type"), geometry.get("coordinates")
        if kind == "GeometryCollection":
            for member in geometry.get("geometries", []):
                self.add(member)
        elif kind == "Point" and coordinates:
            self.add_point(coordinates)
        elif kind == "MultiPoint":
            for point in coordinates or []:
                self.add_point(point)
        elif kind == "LineString":
            self.add_line(coordinates or [])
        elif kind == "MultiLineString":
            for line in coordinates or []:
                self.add_line(line)
        elif kind == "Polygon":
            self.add_polygon(coordinates or [])
        elif kind == "MultiPolygon":
            for polygon in coordinates or []:
                self.add_polygon(polygon)

    def add_polygon(self, rings: Sequence[Coordinates]) -> None:
        for index, ring in enumerate(rings):
            self.add_ring(ring, hole=index > 0)


def centroid(geometry: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The GeoJSON Point at the centroid of `geometry`, or None for None or an empty geometry."""
    if geometry is None:
        return None
    sums = _Sums()
    sums.add(geometry)
    if sums.area != 0:
        x, y = sums.area_x / sums.area, sums.area_y / sums.area
    elif sums.length > 0:
        x, y = sums.length_x / sums.length, sums.length_y / sums.length
    elif sums.points:
        x = sum(p[0] for p in sums.points) / len(sums.points)
        y = sum(p[1] for p in sums.points) / len(sums.points)
    else:
        return None
    return {"type": "Point", "coordinates": [x, y]}
