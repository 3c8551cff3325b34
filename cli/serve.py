"""Serve the web app with waitress until SIGINT, SIGTERM or SIGHUP."""

from __future__ import annotations

import errno
import signal
import sys
from typing import Any

from waitress.server import create_server

from api.app import create_app
from cli.logs import access_logged, configure_logging
from scale.settings import Settings


def make_server(settings: Settings, *, host: str, port: int) -> Any:
    """The waitress server of the web app. waitress reads a whole body before the app (and its
    token check) runs: its own cap refuses a larger one from the Content-Length alone, unread."""
    return create_server(access_logged(create_app(settings)), host=host, port=port, threads=8,
                         max_request_body_size=settings.max_body_bytes)


def serve_web(settings: Settings, *, host: str, port: int) -> int:
    """Serve until a stop signal; returns the process exit code (1, with one line on stderr,
    when the port is taken)."""
    configure_logging("web")
    try:
        server = make_server(settings, host=host, port=port)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(f"scale web: port {port} on {host} is already in use", file=sys.stderr, flush=True)
        return 1

    def stop(_signum: int, _frame: object) -> None:
        server.close()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    print(f"scale web: web UI at http://{host}:{port}/, API docs at http://{host}:{port}/api/docs",
          flush=True)
    try:
        server.run()
    except OSError:
        # waitress raises from its select loop once its sockets are closed by `stop`.
        pass
    return 0
