"""Metrics: daily rollups (`rollup`), the metrics types the API plots (`types`), job load
samples (`load`), the retention of what the clock records (`retention`) and what Prometheus
scrapes (`exposition`). docs/metrics.md describes them all."""
