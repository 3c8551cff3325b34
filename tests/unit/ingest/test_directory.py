"""The Strike monitor's directory listing (`scale.ingest.directory.list_files`) skips, with a
warning, an entry it may not look at instead of crashing the `scale-strike` process."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from scale.ingest.directory import list_files
from scale.workspaces import confined
from tests.helpers import open_folder, unprivileged_files


def listed(directory: Path) -> dict:
    fd = confined.open_root(directory, flags=os.O_RDONLY)
    try:
        return list_files(fd)
    finally:
        os.close(fd)


def test_an_entry_that_cannot_be_looked_at_is_skipped_with_a_warning(caplog):
    with open_folder() as root:
        (root / "landing").mkdir()
        (root / "landing" / "a.dat").write_text("a")
        (root / "landing").chmod(0o644)  # `nobody` may list it but not look at its entries
        with unprivileged_files(), caplog.at_level(logging.WARNING):
            assert listed(root / "landing") == {}
        assert "a.dat" in caplog.text
        assert listed(root / "landing").keys() == {"a.dat"}
