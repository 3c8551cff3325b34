"""`GET /metrics` at the web root: Prometheus's text exposition format (the Prometheus
convention; the reference's `/api/metrics/` stays the daily rollups).

A custom collector reads the database at each scrape (`scale.metrics.exposition`), so any
number of web processes give the same answer without a shared multiprocess directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flask import Flask, Response, request
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import sessionmaker

from scale.metrics.exposition import current_families


class ScaleCollector(Collector):
    def __init__(self, sessions: sessionmaker) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Metric]:
        with self.sessions() as session:
            families = current_families(session)
        for family in families:
            kind = CounterMetricFamily if family.kind == "counter" else GaugeMetricFamily
            metric = kind(family.name, family.documentation, labels=list(family.labels))
            for labels, value in family.samples:
                metric.add_metric(list(labels), value)
            yield metric


def register_prometheus(app: Flask, sessions: sessionmaker, *,
                        html_page: Callable[[], ResponseReturnValue] | None = None) -> None:
    """Serve `/metrics` from `sessions`; it needs no token, as Prometheus scrapes without one.

    The web UI's metrics page has the same URL: a client that prefers HTML (a browser) gets
    `html_page`; Prometheus (it asks for text or OpenMetrics) and a client that states no
    preference get the exposition."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ScaleCollector(sessions))

    def exposition() -> ResponseReturnValue:
        if html_page is not None and request.accept_mimetypes.best_match(
                ["text/plain", "text/html"]) == "text/html":
            return html_page()
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "prometheus", exposition, methods=["GET"])
