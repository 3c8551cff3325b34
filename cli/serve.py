"""Serve the web app with waitress until SIGINT, SIGTERM or SIGHUP.

waitress answers some requests itself, before the app sees them: a body over the cap (413,
refused from its Content-Length, unread), a malformed request (400), headers too large (431),
an unsupported Transfer-Encoding (501). Its own answers are plain text; here they are the API's
JSON error shape, `{"message": ...}`, like every other error (docs/decisions.md)."""

from __future__ import annotations

import errno
import json
import signal
import sys
from typing import Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask

from api.app import create_app
from cli.logs import access_logged, configure_logging
from scale.settings import Settings


class JsonErrorTask(ErrorTask):
    """waitress's own error answer as `{"message": ...}` JSON."""

    def execute(self) -> None:
        request: Any = self.request  # the stubs type it as the error itself
        error = request.error
        body = json.dumps({"message": f"{error.reason}: {error.body}" if error.body else error.reason}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers = [*self.response_headers, ("Content-Type", "application/json")]
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class JsonErrorChannel(HTTPChannel):
    error_task_class = JsonErrorTask


def make_server(settings: Settings, *, host: str, port: int) -> Any:
    """The waitress server of the web app. waitress reads a whole body before the app (and its
    token check) runs: its own cap refuses a larger one from the Content-Length alone, unread."""
    listeners: dict[int, Any] = {}  # waitress's socket map: the listening servers, then channels
    server = create_server(access_logged(create_app(settings)), listeners, host=host, port=port, threads=8,
                           max_request_body_size=settings.max_body_bytes)
    # One listening server per address (`localhost` may be two); each makes the channels.
    for listener in list(listeners.values()):
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = JsonErrorChannel
    return server


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
