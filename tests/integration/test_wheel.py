"""Scale works when installed as a wheel, not only from an editable checkout: the migrations
ship inside the package, so `scale db upgrade` migrates a database from the installed files."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scale import migrate

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # No build isolation: setuptools and wheel come from the test environment (nothing is
    # downloaded while the tests run).
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, cwd=out)
    (built,) = out.glob("scale-*.whl")
    return built


def test_wheel_carries_the_migrations(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "scale/migrations/env.py" in names
    assert "scale/migrations/script.py.mako" in names
    revisions = {name for name in names if name.startswith("scale/migrations/versions/")}
    shipped = {f"scale/migrations/versions/{p.name}" for p in (ROOT / "scale/migrations/versions").glob("*.py")}
    assert revisions == shipped
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def test_wheel_carries_the_web_ui(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "api/ui/templates/index.html" in names
    assert "api/ui/static/js/app.js" in names
    static = (ROOT / "api/ui/static").rglob("*")
    shipped = {f"api/{p.relative_to(ROOT / 'api').as_posix()}" for p in static if p.is_file()}
    assert shipped <= names
    assert "api/ui/static/vendor/cytoscape/cytoscape.min.js" in names
    assert "api/ui/static/vendor/chart.js/LICENSE.md" in names
    assert not any("node_modules" in name for name in names)


def test_installed_wheel_migrates_a_database(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check",
                    "-q", "--target", str(target), str(wheel)], check=True, capture_output=True)
    # The wheel's files come first on the path, and the working directory is not the checkout,
    # so neither the checkout nor the editable install can stand in for what the wheel holds.
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("SCALE_DATABASE_URL", None)
    home = tmp_path / "home"
    done = subprocess.run([sys.executable, "-c",
                           "import scale, sys; from cli.main import main; print(scale.__file__, file=sys.stderr);"
                           " main()", "db", "upgrade", "--home", str(home)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{target}/scale/__init__.py" in done.stderr
    assert f"database at head: {migrate.head()}" in done.stdout
    assert (home / "scale.db").stat().st_size > 0
