"""No request may produce a 500: schemathesis over the API's own OpenAPI document.

Requests carry a valid token so that writes get past authentication and reach validation."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

pytestmark = pytest.mark.fuzz


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/swagger.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_request_is_a_server_error(case, token):
    response = case.call(headers=token)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}")
