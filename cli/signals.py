"""How a long-running `scale` process is asked to stop: SIGINT, SIGTERM or SIGHUP (its
terminal closed, or `scale up` died), logged."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable


def on_stop_signals(stop: Callable[[], None], log: logging.Logger) -> None:
    """Call `stop` (which must return at once) when SIGINT, SIGTERM or SIGHUP arrives."""

    def handle(signum: int, _frame: object) -> None:
        log.info("received signal %s; stopping", signum)
        stop()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handle)
