"""Metrics Services: the types, their details with choices, plot-data shapes, and the
on-demand recompute; and `GET /load/`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from scale.metrics import rollup
from scale.models.metrics import JobLoad, MetricsJobType
from scale.timeutil import UTC
from tests.factories import make_job_type
from tests.metrics_fixtures import DAY, make_day


def test_metrics_list_names_the_three_types_with_columns(client):
    body = client.get("/api/metrics/").get_json()
    assert body["count"] == 3 and body["next"] is None
    by_name = {kind["name"]: kind for kind in body["results"]}
    assert set(by_name) == {"job-types", "error-types", "ingest"}
    job_types = by_name["job-types"]
    assert job_types["filters"] == [{"param": "name", "type": "string"}, {"param": "version", "type": "string"}]
    assert job_types["columns"][0] == {"name": "completed_count", "title": "Completed Count",
                                       "description": "Number of successfully completed jobs.", "units": "count",
                                       "group": "overview", "aggregate": "sum"}
    assert {"name": "run_time_min", "title": "Run Time (Min)",
            "description": "Minimum time spent running the pre, job, and post tasks.", "units": "seconds",
            "group": "run_time", "aggregate": "min"} in job_types["columns"]


def test_metrics_details_carry_the_choices(client, db):
    made = make_day(db)
    body = client.get("/api/metrics/job-types/").get_json()
    assert "groups" in body and body["columns"]
    names = [choice["name"] for choice in body["choices"]]
    assert "alpha" in names and "beta" in names
    assert set(body["choices"][0]) >= {"id", "name", "version", "title", "is_system", "icon_code"}
    ingest = client.get("/api/metrics/ingest/").get_json()
    assert [choice["id"] for choice in ingest["choices"]] == [made["strike"].id]
    assert client.get("/api/metrics/nothing/").status_code == 404


def test_plot_data_aggregates_across_choices_by_date(client, db):
    make_day(db)
    rollup.compute_day(db, DAY)
    rollup.compute_day(db, DAY + dt.timedelta(days=1))
    body = client.get("/api/metrics/job-types/plot-data/?column=total_count&column=run_time_max").get_json()
    assert body["count"] == 2
    total, run_max = body["results"]
    assert total["column"]["name"] == "total_count"
    # alpha 3 + beta 1 on the first day; alpha's late job on the second.
    assert total["values"] == [{"date": "2015-01-01", "value": 4}, {"date": "2015-01-02", "value": 1}]
    assert (total["min_x"], total["max_x"], total["min_y"], total["max_y"]) == ("2015-01-01", "2015-01-02", 1, 4)
    assert run_max["values"] == [{"date": "2015-01-01", "value": 1980}]


def test_plot_data_per_choice_carries_ids(client, db):
    made = make_day(db)
    rollup.compute_day(db, DAY)
    alpha, beta = made["alpha"].id, made["beta"].id
    body = client.get(f"/api/metrics/job-types/plot-data/?group=overview&choice_id={alpha}&choice_id={beta}"
                      "&started=2015-01-01T00:00:00Z&ended=2015-01-01T23:59:59Z").get_json()
    assert [result["column"]["name"] for result in body["results"]] == [
        "completed_count", "failed_count", "canceled_count", "total_count"]
    total = body["results"][3]
    assert total["values"] == [{"id": alpha, "date": "2015-01-01", "value": 3},
                               {"id": beta, "date": "2015-01-01", "value": 1}]
    one = client.get(f"/api/metrics/job-types/plot-data/?column=total_count&choice_id={beta}").get_json()
    assert one["results"][0]["values"] == [{"date": "2015-01-01", "value": 1}]


def test_plot_data_pages_through_columns_and_refuses_unknown_ones(client, db):
    body = client.get("/api/metrics/error-types/plot-data/?page_size=1").get_json()
    assert body["count"] == 1 and body["results"][0]["values"] == [] and body["results"][0]["min_x"] is None
    resp = client.get("/api/metrics/job-types/plot-data/?column=nope")
    assert resp.status_code == 400 and resp.get_json()["field"] == "column"
    assert client.get("/api/metrics/job-types/plot-data/?group=nope").get_json()["field"] == "group"


def test_compute_recomputes_a_day_with_a_token(client, db, token):
    make_day(db)
    assert client.post("/api/metrics/compute/", json={"day": "2015-01-01"}).status_code == 401
    resp = client.post("/api/metrics/compute/", json={"day": "2015-01-01"}, headers=token)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"day": "2015-01-01",
                               "rows": {"metrics_job_type": 2, "metrics_error": 2, "metrics_ingest": 1}}
    assert len(db.scalars(select(MetricsJobType).where(MetricsJobType.occurred == DAY)).all()) == 2


def test_compute_with_a_bad_day_is_400_naming_day(client, token):
    for body in ({"day": "2015-13-01"}, {}, {"day": 5}, {"day": "2015-1-1"}):
        resp = client.post("/api/metrics/compute/", json=body, headers=token)
        assert resp.status_code == 400 and resp.get_json()["field"] == "day"
    resp = client.post("/api/metrics/compute/", json={"day": "2015-01-01", "days": 2}, headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "days"


def test_compute_takes_every_day_a_date_can_name(client, token):
    for day in ("0001-01-01", "9999-12-31"):
        resp = client.post("/api/metrics/compute/", json={"day": day}, headers=token)
        assert resp.status_code == 200 and resp.get_json()["day"] == day


def test_load_sums_samples_per_time_and_filters_by_job_type(client, db):
    alpha, beta = make_job_type(db, name="alpha", category="a"), make_job_type(db, name="beta", category="b")
    now = dt.datetime.now(UTC).replace(microsecond=0)
    for minutes_ago, job_type, counts in ((2, alpha, (1, 2, 3)), (2, beta, (1, 0, 0)), (1, alpha, (0, 1, 1))):
        db.add(JobLoad(job_type_id=job_type.id, measured=now - dt.timedelta(minutes=minutes_ago),
                       pending_count=counts[0], queued_count=counts[1], running_count=counts[2],
                       total_count=sum(counts)))
    db.add(JobLoad(job_type_id=alpha.id, measured=now - dt.timedelta(days=8), pending_count=9, queued_count=9,
                   running_count=9, total_count=27))  # older than the default week
    db.flush()
    body = client.get("/api/load/").get_json()
    assert [(r["pending_count"], r["queued_count"], r["running_count"]) for r in body["results"]] == [
        (2, 2, 3), (0, 1, 1)]
    assert body["results"][0]["time"].endswith("Z")
    only_beta = client.get("/api/load/?job_type_category=b").get_json()
    assert [(r["pending_count"], r["queued_count"]) for r in only_beta["results"]] == [(1, 0)]
    assert client.get(f"/api/load/?job_type_id={alpha.id}&job_type_name=alpha").get_json()["count"] == 2


def test_load_range_over_31_days_is_400(client):
    resp = client.get("/api/load/?started=2015-01-01T00:00:00Z&ended=2015-02-02T00:00:00Z")
    assert resp.status_code == 400 and resp.get_json()["field"] == "started"
    assert client.get("/api/load/?started=2015-01-01T00:00:00Z&ended=2015-02-01T00:00:00Z").status_code == 200
    # The default week before the first representable day: a 400, not an overflow.
    assert client.get("/api/load/?ended=0001-01-01T00:00:00Z").get_json()["field"] == "ended"

