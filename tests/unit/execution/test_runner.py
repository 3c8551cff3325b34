"""The runner's pure rules (its runs against real processes: tests/integration/test_runner.py)."""

from __future__ import annotations

import signal

import pytest

from scale.execution.runner import killed_by


@pytest.mark.parametrize(("exit_code", "oom_killed", "signal_name"), [
    (-9, False, "SIGKILL"), (137, False, "SIGKILL"), (-15, False, "SIGTERM"), (143, False, "SIGTERM"),
    (130, False, "SIGINT"), (129, False, "SIGHUP"), (1, True, "SIGKILL"),
    (-11, False, None), (139, False, None), (134, False, None),   # SEGV, ABRT: the command's own crash
    (1, False, None), (127, False, None), (255, False, None), (200, False, None),
])
def test_killed_by_names_only_signals_from_outside(exit_code, oom_killed, signal_name):
    signum = killed_by(exit_code, oom_killed=oom_killed)
    assert (signal.Signals(signum).name if signum is not None else None) == signal_name
