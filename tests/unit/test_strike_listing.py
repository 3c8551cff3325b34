"""The Strike monitor's directory listing (StrikeMonitor._list) skips, with a warning, an entry it
may not look at instead of crashing the `scale-strike` process."""

from __future__ import annotations

import logging

from scale.ingest.monitor import StrikeMonitor
from tests.helpers import open_folder, unprivileged_files


def test_an_entry_that_cannot_be_looked_at_is_skipped_with_a_warning(caplog):
    with open_folder() as root:
        (root / "landing").mkdir()
        (root / "landing" / "a.dat").write_text("a")
        (root / "landing").chmod(0o644)  # `nobody` may list it but not look at its entries
        with unprivileged_files(), caplog.at_level(logging.WARNING):
            assert StrikeMonitor._list(root / "landing") == {}
        assert "a.dat" in caplog.text
        assert StrikeMonitor._list(root / "landing").keys() == {"a.dat"}
