"""`scale metrics compute --day YYYY-MM-DD`: recompute one day's metrics rollups now."""

from __future__ import annotations

import click

from scale.db import make_engine, make_sessions
from scale.exceptions import ScaleError
from scale.metrics import rollup
from scale.settings import Settings


def compute_day(settings: Settings, day: str) -> str:
    """Recompute `day` in one transaction; returns the line to print (rows written per table)."""
    engine = make_engine(settings.database_url)
    try:
        parsed = rollup.parse_day(day, field="--day")
        with make_sessions(engine).begin() as session:
            rows = rollup.compute_day(session, parsed)
    except ScaleError as error:
        raise click.ClickException(str(error)) from None
    finally:
        engine.dispose()
    return f"{parsed.isoformat()}: " + ", ".join(f"{count} {table}" for table, count in rows.items())
