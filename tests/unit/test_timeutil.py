import datetime as dt

import pytest

from scale.exceptions import ValidationError
from scale.timeutil import UTC, parse_time_or_duration, to_iso


def test_to_iso_is_utc_with_z_and_milliseconds():
    value = dt.datetime(2015, 6, 15, 19, 3, 26, 346789, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert to_iso(value) == "2015-06-15T17:03:26.346Z"


def test_naive_datetimes_are_taken_as_utc():
    assert to_iso(dt.datetime(2015, 1, 1)) == "2015-01-01T00:00:00.000Z"


def test_duration_counts_back_from_now():
    now = dt.datetime(2015, 1, 1, 12, tzinfo=UTC)
    assert parse_time_or_duration("PT3H0M0S", field="started", now=now) == now - dt.timedelta(hours=3)


def test_datetime_is_parsed():
    assert parse_time_or_duration("2015-01-01T00:00:00Z", field="started") == dt.datetime(2015, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "P1M", "2015-13-01T00:00:00Z", "PT3X", "P99999999D"])
def test_bad_time_names_the_field(text):
    with pytest.raises(ValidationError) as caught:
        parse_time_or_duration(text, field="ended")
    assert caught.value.field == "ended"
