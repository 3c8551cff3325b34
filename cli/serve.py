"""Serve the web app with waitress until SIGINT/SIGTERM."""

from __future__ import annotations

import signal

from waitress.server import create_server

from api.app import create_app
from cli.logs import access_logged, configure_logging
from scale.settings import Settings


def serve_web(settings: Settings, *, host: str, port: int) -> None:
    configure_logging("web")
    server = create_server(access_logged(create_app(settings)), host=host, port=port, threads=8)

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
