"""`scale scan CONFIG`: ingest the files already in a directory or workspace, once each.

CONFIG is a JSON file holding a scan configuration (`scale/ingest/scan.py`). Each file's line is
printed as it is looked at; the ingests are committed together, then their ingest tasks are sent
(a running `scale worker` stores the files; a send the broker does not take is logged, and the
clock's ingest sweep re-sends it)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from scale.db import make_engine, make_sessions
from scale.exceptions import ScaleError
from scale.ingest import scan as scans
from scale.ingest.commands import ScanConfiguration
from scale.settings import Settings
from workers.app import make_celery
from workers.ingest_tasks import ingest_sends
from workers.sending import send_after_commit


def run_scan(settings: Settings, config_path: Path, *, dry_run: bool) -> int:
    """Scan as `config_path` says; returns the exit code. A bad configuration is a ClickException."""
    try:
        configuration = json.loads(config_path.read_text())
    except (OSError, ValueError) as error:
        raise click.ClickException(f"cannot read the scan configuration {config_path}: {error}") from None
    engine = make_engine(settings.database_url)
    try:
        config = ScanConfiguration.from_json(configuration, home=settings.home)
        with make_sessions(engine).begin() as session:
            items = scans.scan(session, config, dry_run=dry_run, progress=_print, mount_root=settings.mounts)
            ingest_ids = [item.ingest_id for item in items if item.ingest_id is not None]
            if ingest_ids:
                send_after_commit(session, make_celery(settings), ingest_sends(ingest_ids))
    except ScaleError as error:
        raise click.ClickException(str(error)) from None
    finally:
        engine.dispose()
    counts = {status: sum(item.status == status for item in items)
              for status in ("INGEST", "DUPLICATE", "NO_RULE", "REGISTERED")}
    summary = ", ".join(f"{count} {status}" for status, count in counts.items() if count) or "no files"
    click.echo(f"{'dry run: ' if dry_run else ''}{summary}")
    return 0


def _print(item: scans.ScanItem) -> None:
    target = f" -> {item.workspace}:{item.file_path}" if item.workspace and item.file_path else ""
    click.echo(f"{item.status:<10} {item.path}{target}")
