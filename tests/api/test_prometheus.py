"""Prometheus's `GET /metrics` at the web root, read from the database at scrape time."""

from __future__ import annotations

from dataclasses import replace

from tests.factories import make_node, queued_job
from tests.metrics_fixtures import make_day


def test_prometheus_exposition_at_the_web_root(client, db):
    made = make_day(db)
    queued_job(db, made["alpha"])
    node = make_node(db, hostname="big")
    node.cpus_total, node.mem_total, node.disk_total = 8.0, 1024.0, 2048.0
    db.flush()
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.content_type.startswith("text/plain")
    text = resp.get_data(as_text=True)
    assert '# TYPE scale_queue_depth gauge' in text
    assert 'scale_queue_depth{job_type="alpha",version="1.0"} 1.0' in text
    assert 'scale_jobs_running{job_type="alpha",version="1.0"} 1.0' in text
    assert 'scale_job_executions_total{job_type="alpha",status="COMPLETED",version="1.0"} 1.0' in text
    assert 'scale_ingests_total{status="INGESTED",strike="feed"} 3.0' in text
    assert "# TYPE scale_node_cpus gauge" in text
    assert 'scale_node_cpus{node="big",state="total"} 8.0' in text
    assert 'scale_node_cpus{node="big",state="scheduled"} 0.0' in text
    assert 'scale_node_memory_mebibytes{node="big",state="total"} 1024.0' in text
    assert "# TYPE scale_job_executions_total counter" in text


def test_prometheus_needs_no_token_even_when_reads_do(client, app):
    app.extensions["scale.settings"] = replace(app.extensions["scale.settings"], reads_require_token=True)
    assert client.get("/api/metrics/").status_code == 401
    assert client.get("/metrics").status_code == 200


def test_a_browser_at_metrics_gets_the_ui_page_and_prometheus_the_exposition(client):
    """The UI's metrics page and Prometheus's exposition share `/metrics`; the Accept header of
    each client decides."""
    browser = client.get("/metrics", headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert browser.mimetype == "text/html"
    assert b'<main id="app"' in browser.data
    scraper = client.get("/metrics", headers={"Accept": (
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
        "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")})
    assert scraper.mimetype == "text/plain"
    assert "# TYPE scale_queue_depth gauge" in scraper.get_data(as_text=True)
