"""`scale` entry points. Each reads `Settings` from the environment once and passes them on."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from scale.exceptions import ScaleError
from scale.settings import Settings

HOME_OPTION = click.option("--home", type=click.Path(file_okay=False, path_type=Path),
                           default=Path(".scale"), show_default=True, envvar="SCALE_HOME",
                           help="Directory of the embedded default (SQLite database, admin token).")


def load_settings(home: Path) -> Settings:
    from scale.workspaces import brokers

    try:
        settings = Settings.from_env(os.environ, home=home)
    except ScaleError as error:
        raise click.ClickException(str(error)) from None
    brokers.configure(mount_root=settings.mounts)  # every process may reach an nfs workspace
    return settings


@click.group()
def main() -> None:
    """Scale: automated processing on a cluster."""


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@HOME_OPTION
def db_upgrade(home: Path) -> None:
    """Migrate the database to the newest schema."""
    from scale import migrate

    settings = load_settings(home)
    settings.home.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    click.echo(f"database at head: {migrate.current(settings.database_url)}")


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("name")
@HOME_OPTION
def token_create(name: str, home: Path) -> None:
    """Make an API token called NAME and print it (it cannot be shown again)."""
    from scale import tokens
    from scale.db import make_engine, make_sessions

    settings = load_settings(home)
    sessions = make_sessions(make_engine(settings.database_url))
    try:
        with sessions.begin() as session:
            click.echo(tokens.create_token(session, name))
    except ScaleError as error:
        raise click.ClickException(str(error)) from None


@main.command()
@HOME_OPTION
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def web(home: Path, port: int, host: str) -> None:
    """Serve the API and web UI (the Procfile's `web`)."""
    from cli.serve import serve_web

    sys.exit(serve_web(load_settings(home), host=host, port=port))


@main.command()
@HOME_OPTION
def scheduler(home: Path) -> None:
    """Schedule queued jobs onto nodes and run them (the Procfile's `scheduler`)."""
    from cli.scheduler import run_scheduler

    sys.exit(run_scheduler(load_settings(home)))


@main.command()
@HOME_OPTION
@click.option("--concurrency", type=click.IntRange(min=1), default=None,
              help="Worker child processes (default: 1 on SQLite, else two per CPU).")
def worker(home: Path, concurrency: int | None) -> None:
    """Run the Celery worker for system tasks (the Procfile's `worker`)."""
    from cli.worker import run_worker

    sys.exit(run_worker(load_settings(home), concurrency=concurrency))


def _node_name(value: str) -> str:
    # The node table's hostname rule (`scale.nodes.commands.HOSTNAME`); it also names a queue.
    if not value or len(value) > 250 or any(c.isspace() for c in value):
        raise click.BadParameter("must be 1 to 250 characters without spaces")
    return value


@main.command()
@HOME_OPTION
@click.option("--name", required=True, callback=lambda _ctx, _param, value: _node_name(value),
              help="The node's hostname in /api/nodes/ (unique per node).")
@click.option("--cpus", type=click.FloatRange(min=0, min_open=True), default=None,
              help="CPUs to offer (default: all of this machine's).")
@click.option("--mem", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Memory to offer in MiB (default: all of this machine's RAM).")
@click.option("--disk", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Disk to offer in MiB (default: the space free under the work root).")
def node(home: Path, name: str, cpus: float | None, mem: float | None, disk: float | None) -> None:
    """Run a node for the celery resource manager: a worker that runs the jobs placed on it."""
    from cli.node import run_node_process

    sys.exit(run_node_process(load_settings(home), name=name, cpus=cpus, mem=mem, disk=disk))


@main.command()
@HOME_OPTION
def clock(home: Path) -> None:
    """Send Scale's periodic tasks (the Procfile's `clock`)."""
    from cli.logs import configure_logging
    from cli.signals import on_stop_signals
    from clock.app import log, make_clock, run_clock

    configure_logging("clock")
    scheduler = make_clock(load_settings(home))
    on_stop_signals(lambda: scheduler.shutdown(wait=False), log)
    sys.exit(run_clock(scheduler))


@main.command()
@click.argument("job_exe_id", type=int)
@HOME_OPTION
def execute(job_exe_id: int, home: Path) -> None:
    """Run one scheduled job execution here, for placements that can only start a command."""
    from cli.execute import execute as run_one

    sys.exit(run_one(load_settings(home), job_exe_id))


@main.command()
@click.argument("strike_id", type=int)
@HOME_OPTION
def strike(strike_id: int, home: Path) -> None:
    """Watch Strike STRIKE_ID's directory and ingest what lands there (the `scale-strike` job)."""
    from cli.strike import run_strike

    sys.exit(run_strike(load_settings(home), strike_id))


@main.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="List what would be ingested; write nothing.")
@HOME_OPTION
def scan(config: Path, dry_run: bool, home: Path) -> None:
    """Ingest the files already in a directory or workspace, as the JSON file CONFIG says."""
    from cli.scan import run_scan

    sys.exit(run_scan(load_settings(home), config, dry_run=dry_run))


@main.command()
@HOME_OPTION
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def up(home: Path, port: int, host: str) -> None:
    """Run every Scale process in the foreground on the embedded default, until SIGINT/SIGTERM."""
    from cli.up import run_up

    sys.exit(run_up(load_settings(home), host=host, port=port))


@main.group()
def metrics() -> None:
    """Daily metrics rollups."""


@metrics.command("compute")
@click.option("--day", required=True, help="The UTC day to recompute, as YYYY-MM-DD.")
@HOME_OPTION
def metrics_compute(day: str, home: Path) -> None:
    """Recompute DAY's rollups per job type, error and Strike, replacing what the day had."""
    from cli.metrics import compute_day

    click.echo(compute_day(load_settings(home), day))


if __name__ == "__main__":
    main()
