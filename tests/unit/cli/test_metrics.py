"""`scale metrics compute --day YYYY-MM-DD [--home DIR]` on the embedded SQLite default."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from cli.main import main


def test_metrics_compute_recomputes_a_day(tmp_path, monkeypatch):
    monkeypatch.delenv("SCALE_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade", "--home", str(tmp_path)]).exit_code == 0
    result = runner.invoke(main, ["metrics", "compute", "--day", "2015-01-01", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2015-01-01: 0 metrics_job_type, 0 metrics_error, 0 metrics_ingest"


def test_metrics_compute_refuses_a_bad_day(tmp_path, monkeypatch):
    monkeypatch.delenv("SCALE_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["metrics", "compute", "--day", "2015-02-30", "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert "--day" in result.output


def test_the_command_runs_as_the_module_scale_up_starts():
    # `scale up` starts its children as `python -m cli.main`; an import cycle through
    # cli.main broke exactly that form.
    done = subprocess.run([sys.executable, "-m", "cli.main", "metrics", "compute", "--help"],
                          cwd=Path(__file__).resolve().parents[3], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--day" in done.stdout
