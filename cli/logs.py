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


# Libraries whose INFO lines are their own internals (a task received, a job added to a job
# store), not Scale's life cycle: only their warnings and errors are shown.
QUIET_LIBRARIES = ("apscheduler", "celery", "kombu", "amqp")


class _DropDefaultHostnameWarning(logging.Filter):
    """kombu warns that a URL without a host (`filesystem://`, the embedded default's broker)
    falls back to localhost: that is how the transport works, not something to act on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No hostname was supplied")


def configure_logging(process: str) -> None:
    """INFO and above to stderr, each line tagged with `process`: Scale's own life-cycle lines,
    and from the libraries underneath only what needs a person (warnings and errors)."""
    logging.basicConfig(level=logging.INFO, force=True,
                        format=f"%(asctime)s [{process}] %(name)s %(levelname)s %(message)s")
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("kombu.connection").addFilter(_DropDefaultHostnameWarning())


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
