"""Metrics: daily rollups (`rollup`), the metrics types the API plots (`types`), job load
samples (`load`) and the retention of what the clock records (`retention`)."""
