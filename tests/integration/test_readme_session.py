"""The README's first session, run as written: curl against two `scale up` homes."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.scale_up import free_port, responding, start_up, stop

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_blocks(heading: str) -> list[str]:
    """The shell blocks of the README section under `heading`."""
    section = README.read_text().split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def test_readme_session_creates_exports_and_imports(tmp_path: Path):
    first_block, second_block = readme_blocks("A first session")
    (recipe_block,) = readme_blocks("Running a recipe")
    (files_block,) = readme_blocks("Files in, products out")
    port, second_port = free_port(), free_port()
    first = start_up(tmp_path / ".scale", port)
    second = start_up(tmp_path / "second", second_port)
    try:
        for p in (port, second_port):
            wait_until(lambda p=p: responding(f"http://127.0.0.1:{p}/api/errors/"),
                       what=f"scale up on {p}", timeout=60)
        first_block = first_block.replace("8000", str(port)).replace("/tmp/scale-products",
                                                                     str(tmp_path / "products"))
        out = subprocess.run(["bash", "-euo", "pipefail", "-c", first_block], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
        assert [r.get("name") for r in lines[:5]] == ["products", "bad-text", "make-png", "shrink",
                                                      "png-pipeline"]
        assert lines[5]["field"] == "interface.command_arguments"
        recipe_block = recipe_block.replace("8000", str(port)).replace(
            "/tmp/scale-algorithms", str(tmp_path / "algorithms"))
        out = subprocess.run(["bash", "-euo", "pipefail", "-c", first_block.split("# A workspace")[0]
                              + recipe_block], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.endswith("HELLO, WORLD\n")

        files_block = files_block.replace("8000", str(port)).replace(
            "/tmp/scale-incoming", str(tmp_path / "incoming")).replace("/tmp/scale-raw", str(tmp_path / "raw"))
        out = subprocess.run(["bash", "-euo", "pipefail", "-c", first_block.split("# A workspace")[0]
                              + files_block], cwd=tmp_path, capture_output=True, text=True, timeout=180)
        assert out.returncode == 0, out.stderr
        assert '{"strike_id": 1}' in out.stdout
        assert out.stdout.endswith("HELLO, FILES\n")
        assert (tmp_path / "raw" / "notes").is_dir()

        exported = json.loads((tmp_path / "configuration.json").read_text())
        assert [j["name"] for j in exported["job_types"]] == ["make-png", "shrink"]

        second_block = second_block.replace("8001", str(second_port)).replace(
            "/tmp/scale-products-2", str(tmp_path / "products-2"))
        out = subprocess.run(["bash", "-euo", "pipefail", "-c", second_block], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
        assert lines[1] == {"warnings": []}
        recipe_types = lines[2]
        assert recipe_types["count"] == 1
        assert recipe_types["results"][0]["definition"] == exported["recipe_types"][0]["definition"]
    finally:
        for process in (first, second):
            code, output = stop(process)
            assert code == 0, output
