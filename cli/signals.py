"""How a long-running `scale` process is asked to stop: SIGINT or SIGTERM, logged."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable


def on_stop_signals(stop: Callable[[], None], log: logging.Logger) -> None:
    """Call `stop` (which must return at once) when SIGINT or SIGTERM arrives."""

    def handle(signum: int, _frame: object) -> None:
        log.info("received signal %s; stopping", signum)
        stop()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
