"""`scale node` refuses a name the node table (and a queue name) cannot take, before starting."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cli.main import main


@pytest.mark.parametrize("name", ["a b", "", "x" * 251])
def test_scale_node_refuses_a_bad_name(name: str, tmp_path):
    result = CliRunner().invoke(main, ["node", "--name", name, "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "--name" in result.output and "without spaces" in result.output
