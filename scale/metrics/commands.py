"""The metrics command the API sends, parsed from its JSON at the edge."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scale.metrics.rollup import parse_day
from scale.specs._fields import body_schema
from scale.specs._schema import validate

# `POST /metrics/compute/`: the day to recompute.
COMPUTE_SCHEMA = body_schema({"day": {"type": "string", "format": "date"}}, required=("day",))


@dataclass(frozen=True)
class ComputeDay:
    """Recompute one day's rollups (`scale.metrics.rollup.compute_day`)."""

    day: dt.date

    @classmethod
    def from_json(cls, doc: object) -> ComputeDay:
        """The body `{"day": "YYYY-MM-DD"}`; any other field is refused (ValidationError naming it)."""
        validate(doc, COMPUTE_SCHEMA)
        assert isinstance(doc, dict)
        return cls(parse_day(doc["day"]))
