"""Ingest services: GET /api/ingests/, /api/ingests/{id}/ and /api/ingests/status/ (reference)."""

from __future__ import annotations

import datetime as dt

import pytest

from scale.models.ingest import Ingest, Strike
from scale.timeutil import UTC
from tests.factories import make_file, make_workspace

T0 = dt.datetime(2015, 10, 21, 14, 0, tzinfo=UTC)
CONFIG = {"version": "1.0", "mount": "/data/in", "files_to_ingest": [
    {"filename_regex": ".*", "workspace_path": "raw", "workspace_name": "raw", "data_types": []}]}


def make_strike(db, name="feed") -> Strike:
    strike = Strike(name=name, title=name.title(), configuration=CONFIG)
    db.add(strike)
    db.flush()
    return strike


def make_ingest(db, strike, file_name="a.txt", *, status="INGESTED", started=T0, ended=None, size=100,
                source=None, **fields) -> Ingest:
    ingest = Ingest(strike_id=strike.id, file_name=file_name, status=status, transfer_started=started,
                    transfer_ended=started, file_size=size, bytes_transferred=size, media_type="text/plain",
                    ingest_ended=ended, source_file_id=source.id if source else None, **fields)
    db.add(ingest)
    db.flush()
    return ingest


@pytest.fixture
def world(db):
    workspace = make_workspace(db, name="raw")
    return {"workspace": workspace, "feed": make_strike(db, "feed"), "other": make_strike(db, "other")}


def ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.get_json()
    return [r["id"] for r in resp.get_json()["results"]]


def test_list_entry_shape(client, db, world):
    source = make_file(db, world["workspace"], file_name="a.txt", media_type="text/plain", size=100,
                       is_parsed=True, parsed=T0)
    ingest = make_ingest(db, world["feed"], source=source, ended=T0 + dt.timedelta(minutes=5),
                         ingest_started=T0 + dt.timedelta(minutes=4), data_type=["text"])

    entry = client.get("/api/ingests/").get_json()["results"][0]

    assert entry["id"] == ingest.id and entry["file_name"] == "a.txt" and entry["status"] == "INGESTED"
    assert entry["strike"] == {"id": world["feed"].id, "name": "feed", "job": None}
    assert entry["bytes_transferred"] == 100 and entry["file_size"] == 100 and entry["data_type"] == ["text"]
    assert entry["transfer_started"] == "2015-10-21T14:00:00.000Z"
    assert entry["ingest_ended"] == "2015-10-21T14:05:00.000Z"
    assert entry["source_file"]["id"] == source.id and entry["source_file"]["is_parsed"] is True
    assert entry["source_file"]["workspace"] == {"id": world["workspace"].id, "name": "raw"}
    assert "transfer_path" not in entry


def test_list_filters(client, db, world):
    a = make_ingest(db, world["feed"], "a.txt", status="INGESTED")
    b = make_ingest(db, world["feed"], "b.txt", status="ERRORED", error="disk full")
    c = make_ingest(db, world["other"], "c.txt", status="DEFERRED")

    assert ids(client.get("/api/ingests/?status=ERRORED")) == [b.id]
    assert sorted(ids(client.get("/api/ingests/?status=ERRORED&status=DEFERRED"))) == [b.id, c.id]
    assert sorted(ids(client.get(f"/api/ingests/?strike_id={world['feed'].id}"))) == [a.id, b.id]
    assert ids(client.get("/api/ingests/?file_name=c.txt")) == [c.id]
    assert client.get("/api/ingests/?status=LOST").status_code == 400
    assert client.get("/api/ingests/?strike_id=x").get_json()["field"] == "strike_id"


def test_time_range_bounds_transfer_started_and_order(client, db, world):
    old = make_ingest(db, world["feed"], "old.txt", started=T0 - dt.timedelta(days=2))
    new = make_ingest(db, world["feed"], "new.txt", started=T0)

    assert ids(client.get("/api/ingests/")) == [new.id, old.id]
    assert ids(client.get("/api/ingests/?started=2015-10-20T00:00:00Z")) == [new.id]
    assert ids(client.get("/api/ingests/?ended=2015-10-20T00:00:00Z")) == [old.id]
    assert ids(client.get("/api/ingests/?order=file_name")) == [new.id, old.id]
    assert ids(client.get("/api/ingests/?order=-strike__name&order=transfer_started")) == [old.id, new.id]
    assert client.get("/api/ingests/?started=yesterday").get_json()["field"] == "started"
    assert client.get("/api/ingests/?order=nope").get_json()["field"] == "order"


def test_list_pages(client, db, world):
    made = [make_ingest(db, world["feed"], f"{i}.txt", started=T0 + dt.timedelta(minutes=i)) for i in range(5)]
    page = client.get("/api/ingests/?page=2&page_size=2").get_json()
    assert page["count"] == 5
    assert [r["id"] for r in page["results"]] == [made[2].id, made[1].id]
    assert page["next"] and page["previous"]


def test_details_shape(client, db, world):
    ingest = make_ingest(db, world["feed"], status="ERRORED", error="file vanished",
                         transfer_path="/data/in/a.txt", file_path="raw/2015/10/21/a.txt",
                         ingest_path="/data/in/a.txt", workspace_id=world["workspace"].id)

    body = client.get(f"/api/ingests/{ingest.id}/").get_json()

    assert body["id"] == ingest.id and body["status"] == "ERRORED" and body["error"] == "file vanished"
    assert body["transfer_path"] == "/data/in/a.txt" and body["file_path"] == "raw/2015/10/21/a.txt"
    assert body["ingest_path"] == "/data/in/a.txt"
    assert body["strike"]["configuration"] == CONFIG and body["strike"]["name"] == "feed"
    assert body["source_file"] is None
    assert body["workspace"] == {"id": world["workspace"].id}


def test_unknown_ingest_is_404(client):
    assert client.get("/api/ingests/123456/").status_code == 404


# Ingest status ------------------------------------------------------------------------------

def status(client, query: str) -> dict:
    resp = client.get(f"/api/ingests/status/?{query}")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_status_counts_ingested_files_per_hour_by_data_time(client, db, world):
    ws = world["workspace"]
    early = make_file(db, ws, file_name="e", size=10, data_started=T0 + dt.timedelta(minutes=10))
    late = make_file(db, ws, file_name="l", size=20, data_started=T0 + dt.timedelta(hours=1, minutes=59))
    undated = make_file(db, ws, file_name="u", size=40)
    make_ingest(db, world["feed"], "e", size=10, source=early, ended=T0 + dt.timedelta(hours=5))
    make_ingest(db, world["feed"], "l", size=20, source=late, ended=T0 + dt.timedelta(hours=5))
    make_ingest(db, world["feed"], "u", size=40, source=undated, ended=T0 + dt.timedelta(minutes=30))
    make_ingest(db, world["feed"], "x", status="ERRORED", ended=T0)

    body = status(client, "started=2015-10-21T14:00:00Z&ended=2015-10-21T16:30:00Z")

    assert body["count"] == 2
    feed, other = body["results"]
    assert feed["strike"]["id"] == world["feed"].id and feed["strike"]["name"] == "feed"
    assert feed["files"] == 3 and feed["size"] == 70
    assert feed["most_recent"] == "2015-10-21T19:00:00.000Z"
    assert feed["values"] == [
        {"time": "2015-10-21T14:00:00.000Z", "files": 2, "size": 50},
        {"time": "2015-10-21T15:00:00.000Z", "files": 1, "size": 20},
        {"time": "2015-10-21T16:00:00.000Z", "files": 0, "size": 0},
    ]
    assert other["files"] == 0 and other["most_recent"] is None and len(other["values"]) == 3


def test_status_by_ingest_time(client, db, world):
    source = make_file(db, world["workspace"], file_name="e", size=10, data_started=T0 - dt.timedelta(days=3))
    make_ingest(db, world["feed"], "e", size=10, source=source, ended=T0 + dt.timedelta(hours=1, minutes=1))

    by_ingest = status(client, "started=2015-10-21T14:00:00Z&ended=2015-10-21T15:59:00Z&use_ingest_time=true")
    by_data = status(client, "started=2015-10-21T14:00:00Z&ended=2015-10-21T15:59:00Z")

    assert [v["files"] for v in by_ingest["results"][0]["values"]] == [0, 1]
    assert by_data["results"][0]["files"] == 0


def test_status_defaults_to_the_last_week(client, db, world):
    body = status(client, "")
    assert len(body["results"][0]["values"]) in (168, 169)  # every hour of the week, both ends


def test_status_pages_through_strikes(client, db, world):
    body = status(client, "page_size=1&page=2&started=PT2H")
    assert body["count"] == 2 and [r["strike"]["name"] for r in body["results"]] == ["other"]


@pytest.mark.parametrize("query, field", [
    ("started=2015-01-01T00:00:00Z&ended=2015-02-01T00:00:01Z", "started"),
    ("started=P32D", "started"),
    ("started=2015-02-01T00:00:00Z&ended=2015-01-01T00:00:00Z", "started"),
    ("ended=soon", "ended"),
    ("ended=9999-12-31T23:59:59Z", "ended"),
    ("ended=0001-01-01T00:00:00Z", "ended"),
    ("use_ingest_time=perhaps", "use_ingest_time"),
])
def test_status_bad_arguments_are_400(client, world, query, field):
    resp = client.get(f"/api/ingests/status/?{query}")
    assert resp.status_code == 400
    assert resp.get_json()["field"] == field


def test_status_accepts_exactly_31_days(client, world):
    assert client.get("/api/ingests/status/?started=2015-01-01T00:00:00Z&ended=2015-02-01T00:00:00Z"
                      ).status_code == 200
