"""The one list implementation: page, page_size, started/ended, filters, order."""

import datetime as dt

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.orm import Session

from scale.exceptions import ValidationError
from scale.listing import Filter, ListSpec, paginate, parse_bool, parse_int, parse_list_args
from scale.timeutil import UTC

metadata = MetaData()
things = Table("thing", metadata, Column("id", Integer, primary_key=True), Column("name", String),
               Column("version", String), Column("size", Integer), Column("created", DateTime))
NOW = dt.datetime(2020, 1, 10, tzinfo=UTC)
SPEC = ListSpec(
    filters={"name": Filter(things.c.name), "size": Filter(things.c.size, parse_int),
             "version": Filter(things.c.version, choices=("1.0", "2.0"))},
    orders={"id": things.c.id, "name": things.c.name, "version": things.c.version,
            "created": things.c.created},
    default_order=("id",),
    time_column=things.c.created,
)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as session:
        session.execute(insert(things), [
            {"id": i, "name": f"n{i % 3}", "version": "1.0" if i % 2 else "2.0", "size": i,
             "created": dt.datetime(2020, 1, i)} for i in range(1, 10)])
        yield session


def ids(session, args):
    page = paginate(session, select(things), parse_list_args(args, SPEC, now=NOW), SPEC)
    return page, [row for row in page.results]


def test_pages_count_and_links(session):
    page, results = ids(session, {"page": ["2"], "page_size": ["4"]})
    assert page.count == 9 and results == [5, 6, 7, 8]
    assert page.has_next and page.has_previous


def test_repeated_filter_matches_any_value(session):
    page, results = ids(session, {"name": ["n1", "n2"]})
    assert results == [1, 2, 4, 5, 7, 8]


def test_multi_field_order_with_reverse(session):
    _, results = ids(session, {"order": ["version", "-id"]})
    assert results == [9, 7, 5, 3, 1, 8, 6, 4, 2]


def test_started_as_duration_counts_back_from_now(session):
    _, results = ids(session, {"started": ["P2D"]})
    assert results == [8, 9]


def test_ended_bounds_the_range(session):
    _, results = ids(session, {"started": ["2020-01-02T00:00:00Z"], "ended": ["2020-01-03T00:00:00Z"]})
    assert results == [2, 3]


def test_default_range_applies_when_started_is_absent(session):
    spec = ListSpec(orders=SPEC.orders, time_column=things.c.created, default_range=dt.timedelta(days=3))
    page = paginate(session, select(things), parse_list_args({}, spec, now=NOW), spec)
    assert page.results == [7, 8, 9]


def test_rows_mode_pages_whole_rows(session):
    stmt = select(things.c.id, things.c.name, things.c.size)
    query = parse_list_args({"page": ["2"], "page_size": ["2"], "order": ["-id"]}, SPEC, now=NOW)
    page = paginate(session, stmt, query, SPEC, rows=True)
    assert page.count == 9
    assert [tuple(row) for row in page.results] == [(7, "n1", 7), (6, "n0", 6)]


@pytest.mark.parametrize("args, field", [
    ({"page": ["0"]}, "page"),
    ({"page": ["x"]}, "page"),
    ({"page_size": ["1001"]}, "page_size"),
    ({"page_size": ["0"]}, "page_size"),
    ({"order": ["colour"]}, "order"),
    ({"started": ["soon"]}, "started"),
    ({"size": ["big"]}, "size"),
    ({"version": ["3.0"]}, "version"),
    ({"page": ["1", "2"]}, "page"),
])
def test_bad_arguments_name_their_field(args, field):
    with pytest.raises(ValidationError) as caught:
        parse_list_args(args, SPEC, now=NOW)
    assert caught.value.field == field


def test_parse_bool_accepts_true_and_false_words():
    assert parse_bool("True", field="f") is True and parse_bool("0", field="f") is False
    with pytest.raises(ValidationError):
        parse_bool("perhaps", field="f")


def test_empty_time_arguments_are_absent_and_a_reversed_range_is_empty():
    assert parse_list_args({"started": [""], "ended": [""], "page": [""]}, SPEC, now=NOW).page == 1
    query = parse_list_args({"started": ["2020-01-05T00:00:00Z"], "ended": ["2020-01-01T00:00:00Z"]}, SPEC, now=NOW)
    assert query.started > query.ended  # valid: it matches nothing
