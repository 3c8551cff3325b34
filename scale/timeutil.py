"""UTC times and ISO-8601 text: the one place that parses and prints them."""

from __future__ import annotations

import datetime as dt

import isodate

from scale.exceptions import ValidationError

UTC = dt.UTC


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC."""
    return dt.datetime.now(UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """`value` as aware UTC; a naive value (as SQLite returns) is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_iso(value: dt.datetime | None) -> str | None:
    """ISO-8601 with millisecond precision and `Z`, or None."""
    if value is None:
        return None
    value = as_utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_datetime(text: str, *, field: str) -> dt.datetime:
    """An ISO-8601 datetime as aware UTC (a value without a zone is UTC)."""
    try:
        return as_utc(isodate.parse_datetime(text))
    except (ValueError, isodate.ISO8601Error):
        raise ValidationError(field, f"{text!r} is not an ISO-8601 datetime") from None


def parse_duration(text: str, *, field: str) -> dt.timedelta:
    """An ISO-8601 duration (`PT3H`); years and months are not fixed lengths and are refused."""
    try:
        value = isodate.parse_duration(text)
    except (ValueError, isodate.ISO8601Error):
        raise ValidationError(field, f"{text!r} is not an ISO-8601 duration") from None
    if isinstance(value, isodate.Duration):
        raise ValidationError(field, f"{text!r}: durations in years or months are not supported")
    return value


def parse_time_or_duration(text: str, *, field: str, now: dt.datetime | None = None) -> dt.datetime:
    """A datetime, or a duration meaning that long before `now` (`started=PT3H`)."""
    if text.upper().startswith("P"):
        try:
            return (now or utcnow()) - parse_duration(text, field=field)
        except OverflowError:
            raise ValidationError(field, f"{text!r} reaches back before the year 1") from None
    return parse_datetime(text, field=field)
