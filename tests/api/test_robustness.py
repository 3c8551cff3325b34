"""What the API answers when the input is hostile or a service it needs is down: a 4xx or a
503 with a JSON message, never a 500, and nothing stored."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from api.app import create_app


def closed_port() -> int:
    """A local TCP port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def unreachable_db_client(settings):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/scale"
    return create_app(replace(settings, database_url=url)).test_client()


@pytest.mark.parametrize("method, path", [("get", "/api/status/"), ("get", "/api/jobs/"),
                                          ("get", "/api/jobs/1/"), ("post", "/api/queue/cancel-jobs/")])
def test_an_unreachable_database_is_a_503_with_a_json_message(unreachable_db_client, method, path):
    resp = getattr(unreachable_db_client, method)(path, json={"job_ids": [1]},
                                                  headers={"Authorization": "Token abc"})
    assert resp.status_code == 503, resp.text
    assert resp.get_json() == {"message": "the database is unavailable; retry later"}
    assert "127.0.0.1" not in resp.text
