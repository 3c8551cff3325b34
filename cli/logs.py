"""Log lines of every Scale process: tagged with the process (`[web]`, `[worker]`,
`[scheduler]`, `[clock]`), so `scale up`, which interleaves its children's output, says who
wrote each line; and the web process's HTTP access lines."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

access = logging.getLogger("scale.web.access")

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def configure_logging(process: str) -> None:
    """INFO and above to stderr, each line tagged with `process`."""
    logging.basicConfig(level=logging.INFO, force=True,
                        format=f"%(asctime)s [{process}] %(name)s %(levelname)s %(message)s")


def access_logged(app: WsgiApp) -> WsgiApp:
    """`app`, logging one line per request: method, path and query, status and duration."""

    def logged(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.monotonic()
        status = ["-"]

        def recording_start_response(status_line: str, headers: Any, *args: Any) -> Any:
            status[0] = status_line.split(" ", 1)[0]
            return start_response(status_line, headers, *args)

        try:
            return app(environ, recording_start_response)
        finally:
            query = environ.get("QUERY_STRING")
            access.info("%s %s%s %s %.1fms %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                        f"?{query}" if query else "", status[0], (time.monotonic() - started) * 1000,
                        environ.get("REMOTE_ADDR", "-"))

    return logged
