"""What the API answers when the input is hostile or a service it needs is down: a 4xx or a
503 with a JSON message, never a 500, and nothing stored."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api.app import create_app
from scale.exceptions import ConfigError
from scale.models.errors import Error
from scale.models.job_types import JobType
from scale.settings import Settings
from tests.factories import job_type_body
from tests.helpers import closed_port


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


def test_more_requests_than_the_pool_holds_get_a_503_with_retry_after_not_a_hang(tmp_path, pg_url):
    """Every connection of the web's pool is held (as by that many slow requests): the next
    request waits `db_pool_timeout_seconds`, then answers 503 with Retry-After; once a
    connection is free again, requests are served."""
    app = create_app(replace(Settings.embedded(tmp_path / "home"), database_url=pg_url, db_pool_timeout_seconds=1.0))
    engine = app.extensions["scale.sessions"].kw["bind"]
    held = []
    with pytest.raises(PoolTimeout):
        while True:
            held.append(engine.connect())
    try:
        started = time.monotonic()
        resp = app.test_client().get("/api/jobs/")
        assert time.monotonic() - started < 5
        assert resp.status_code == 503, resp.text
        assert resp.headers["Retry-After"] == "5"
        assert resp.get_json() == {"message": "the database is unavailable; retry later"}
    finally:
        for connection in held:
            connection.close()
    assert app.test_client().get("/api/jobs/").status_code == 200
    engine.dispose()


def count_rows(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def post_raw(client, path: str, text: str, headers: dict[str, str]):
    return client.post(path, data=text.encode("utf-8", "surrogatepass"), headers=headers,
                       content_type="application/json")


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
def test_deeply_nested_json_is_a_400_and_stores_nothing(client, token, db, depth):
    before = count_rows(db, Error)
    body = '{"name": "deep", "title": "t", "category": "DATA", "description": ' + "[" * depth + "]" * depth + "}"
    resp = post_raw(client, "/api/errors/", body, token)
    assert resp.status_code == 400, resp.text
    assert "nested" in resp.get_json()["message"]
    assert count_rows(db, Error) == before


def test_a_lone_surrogate_is_a_400_naming_the_field_and_stores_nothing(client, token, db):
    before = count_rows(db, Error)
    resp = post_raw(client, "/api/errors/", '{"name": "odd", "title": "t\\ud800", "category": "DATA"}', token)
    assert resp.status_code == 400, resp.text
    assert resp.get_json()["field"] == "title"
    assert count_rows(db, Error) == before


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_non_finite_numbers_are_a_400_and_store_nothing(client, token, db, number):
    before = count_rows(db, JobType)
    body = json.dumps({**job_type_body(), "trigger_rule": None})
    body = body.replace('"cpus_required": 0.5', f'"cpus_required": {number}')
    assert number in body
    resp = post_raw(client, "/api/job-types/", body, token)
    assert resp.status_code == 400, resp.text
    assert count_rows(db, JobType) == before


def test_an_uploaded_import_file_gets_the_same_refusals(client, token):
    resp = client.post("/api/configuration/upload/", headers=token,
                       data={"import": (io.BytesIO(b'{"version": "1.0", "errors": [NaN]}'), "export.json")})
    assert resp.status_code == 400, resp.text
    assert resp.get_json()["field"] == "import"


def test_a_body_over_the_cap_is_a_413_with_a_json_message(settings, sessions, token):
    client = create_app(replace(settings, max_body_bytes=1024), sessions=sessions).test_client()
    resp = client.post("/api/errors/", json={"name": "big", "description": "x" * 2048}, headers=token)
    assert resp.status_code == 413
    assert resp.get_json()["message"]


class CountingStream(io.RawIOBase):
    """A request body of `size` spaces that counts how many bytes were read (werkzeug's test
    client seeks to its end to learn its length, which reads nothing)."""

    def __init__(self, size: int) -> None:
        self.size, self.position, self.read_bytes = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence] + offset
        return self.position

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.position)
        buffer[:n] = b" " * n
        self.position += n
        self.read_bytes += n
        return n


def test_an_unauthenticated_write_is_refused_before_its_body_is_read(client):
    size = 200 * 1024 * 1024
    body = CountingStream(size)
    resp = client.post("/api/errors/", input_stream=body, content_type="application/json")
    assert resp.status_code == 401
    assert body.read_bytes == 0


def test_settings_read_the_body_cap_from_the_environment(tmp_path):
    assert Settings.from_env({}, home=tmp_path).max_body_bytes == 16 * 1024 * 1024
    assert Settings.from_env({"SCALE_MAX_BODY_BYTES": "1000"}, home=tmp_path).max_body_bytes == 1000
    with pytest.raises(ConfigError, match="SCALE_MAX_BODY_BYTES"):
        Settings.from_env({"SCALE_MAX_BODY_BYTES": "lots"}, home=tmp_path)


@pytest.mark.parametrize("method, path, status", [("get", "/api/no-such-thing/", 404), ("get", "/api/jobs/x/", 404),
                                                  ("delete", "/api/jobs/", 405), ("put", "/api/status/", 405)])
def test_api_routing_errors_are_json(client, method, path, status):
    resp = getattr(client, method)(path)
    assert resp.status_code == status
    assert resp.is_json and resp.get_json()["message"]
    if status == 405:
        assert "GET" in resp.headers["Allow"]


def test_the_web_server_refuses_a_body_over_the_cap_without_reading_it(settings):
    from cli.serve import make_server

    server = make_server(replace(settings, max_body_bytes=1024 * 1024), host="127.0.0.1", port=0)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        with socket.create_connection(server.socket.getsockname()[:2], timeout=10) as conn:
            conn.sendall(b"POST /api/errors/ HTTP/1.1\r\nHost: scale\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 209715200\r\n\r\n")  # 200 MB announced, none sent
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
    finally:
        server.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b"\r\nContent-Type: application/json" in head
    # The API's error shape, as the app's own 413 has.
    assert json.loads(body) == {"message": "Request Entity Too Large: exceeds max_body of 1048576"}


INTERNALS = ("<", "Enum", "StrEnum", "object at", "Traceback")


@pytest.mark.parametrize("path", [
    "/api/jobs/?status=DONE", "/api/jobs/updates/?status=DONE", "/api/jobs/executions/?status=DONE",
    "/api/job-executions/?status=DONE", "/api/ingests/?status=DONE", "/api/errors/?category=USER",
    "/api/trigger-rules/?type=TIMER", "/api/configuration/download/?include=nodes",
])
def test_a_bad_enum_filter_is_a_400_in_plain_words(client, path):
    resp = client.get(path)
    assert resp.status_code == 400
    message = resp.get_json()["message"]
    assert not [word for word in INTERNALS if word in message], message


def _error_id(db) -> int:
    return db.scalar(select(Error.id).where(Error.name == "unknown"))


@pytest.mark.parametrize("method, path, body", [
    ("post", "/api/errors/", {"name": "bad", "category": "SYSTEM"}),
    ("patch", "/api/errors/{error}/", {"category": "USER"}),
    ("patch", "/api/jobs/1/", {"status": "QUEUED"}),
    ("post", "/api/queue/requeue-jobs/", {"error_categories": ["USER"]}),
    ("post", "/api/queue/requeue-jobs/", {"status": "DONE"}),
    ("post", "/api/queue/cancel-jobs/", {"status": ["DONE"]}),
    ("post", "/api/job-types/", job_type_body(trigger_rule={"type": "TIMER", "configuration": {}})),
    ("post", "/api/job-types/validation/", job_type_body(trigger_rule={"type": "TIMER", "configuration": {}})),
    ("post", "/api/configuration/validation/", {"import": {"errors": [{"name": "a", "category": "USER"}]}}),
    ("post", "/api/workspaces/", {"name": "w", "json_config": {"broker": {"type": "s3"}}}),
])
def test_a_bad_enum_value_in_a_body_is_a_400_in_plain_words(client, token, db, method, path, body):
    resp = getattr(client, method)(path.format(error=_error_id(db)), json=body, headers=token)
    assert resp.status_code == 400
    message = resp.get_json()["message"]
    assert not [word for word in INTERNALS if word in message], message
