"""Serve the web app with waitress until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
from typing import Any

from waitress.server import create_server

from api.app import create_app
from scale.settings import Settings


def make_server(settings: Settings, *, host: str, port: int) -> Any:
    """The waitress server of the web app. waitress reads a whole body before the app (and its
    token check) runs: its own cap refuses a larger one from the Content-Length alone, unread."""
    return create_server(create_app(settings), host=host, port=port, threads=8,
                         max_request_body_size=settings.max_body_bytes)


def serve_web(settings: Settings, *, host: str, port: int) -> None:
    server = make_server(settings, host=host, port=port)

    def stop(_signum: int, _frame: object) -> None:
        server.close()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"scale web: serving http://{host}:{port}/api/", flush=True)
    try:
        server.run()
    except OSError:
        # waitress raises from its select loop once its sockets are closed by `stop`.
        pass
