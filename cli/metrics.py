"""`scale metrics compute --day YYYY-MM-DD`: recompute one day's metrics rollups now.

Registered on `scale` at the end of `cli.main`, which it takes the home option from."""

from __future__ import annotations

from pathlib import Path

import click

from cli.main import HOME_OPTION, load_settings
from scale.errors import ScaleError


@click.group()
def metrics() -> None:
    """Daily metrics rollups."""


@metrics.command("compute")
@click.option("--day", required=True, help="The UTC day to recompute, as YYYY-MM-DD.")
@HOME_OPTION
def compute(day: str, home: Path) -> None:
    """Recompute DAY's rollups per job type, error and Strike, replacing what the day had."""
    from scale.db import make_engine, make_sessions
    from scale.metrics import rollup

    settings = load_settings(home)
    sessions = make_sessions(make_engine(settings.database_url))
    try:
        parsed = rollup.parse_day(day, field="--day")
        with sessions.begin() as session:
            rows = rollup.compute_day(session, parsed)
    except ScaleError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{parsed.isoformat()}: " + ", ".join(f"{count} {table}" for table, count in rows.items()))
