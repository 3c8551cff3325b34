"""The API against its own OpenAPI document: schemathesis with every check, per request and
stateful, on each backend.

The schema is read once, at import, from an app that never touches a database (serving
`/api/swagger.json` needs none); every request goes to the test's own `app`, inside its rolled-back
transaction, and carries a valid token so that writes get past authentication and reach validation."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from scale.settings import Settings

pytestmark = pytest.mark.fuzz

# `positive_data_acceptance` (a body the document allows must not get a 400) does not apply to
# these operations: their bodies hold specification documents (job interface, recipe definition,
# Strike configuration, workspace json_config, import files) that `scale/specs` validates beyond
# what the document shows, or name other records (a job type, a recipe type) that must exist,
# or names that must be unique; the reference answers 400 for each. GET /ingests/status/ refuses
# a range of more than 31 days, which a document cannot say. docs/decisions.md, "Fuzzing".
SEMANTIC_BODIES = frozenset({
    "POST /configuration/", "POST /configuration/upload/", "POST /configuration/validation/",
    "POST /errors/", "PATCH /errors/{error_id}/",
    "POST /job-types/", "POST /job-types/validation/", "PATCH /job-types/{job_type_id}/",
    "POST /queue/new-job/", "POST /queue/new-recipe/", "POST /queue/cancel-jobs/", "POST /queue/requeue-jobs/",
    "POST /recipe-types/", "POST /recipe-types/validation/", "PATCH /recipe-types/{recipe_type_id}/",
    "POST /scans/", "POST /strike/create/", "PATCH /strikes/{strike_id}/",
    "POST /workspaces/", "PATCH /workspaces/{workspace_id}/",
    "GET /ingests/status/", "GET /load/",
})

FUZZ_SETTINGS = settings(max_examples=5, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))
STATEFUL_SETTINGS = settings(FUZZ_SETTINGS, max_examples=10, stateful_step_count=5)



def _load_schema():
    # Checks that probe the API again (without the token, say) use the schema's own transport:
    # WSGI, sent to the `app` of the test's call.
    home = Path(tempfile.mkdtemp(prefix="scale-fuzz-"))
    return schemathesis.openapi.from_wsgi("/api/swagger.json", create_app(Settings.embedded(home)))


# The coverage phase (every boundary and every kind of invalid value of every argument, about
# 97% of the requests) tests the document against validation, which is the same on both
# backends: it runs on PostgreSQL. Examples, fuzzing and the stateful run go to both.
schema = _load_schema()
schema_without_coverage = _load_schema()
schema_without_coverage.config.phases.update(phases=["examples", "fuzzing", "stateful"])


def _call_and_validate(case, app, token) -> None:
    excluded = [positive_data_acceptance] if case.operation.label in SEMANTIC_BODIES else []
    case.call_and_validate(app=app, headers=token, excluded_checks=excluded)


@schema.parametrize()
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@FUZZ_SETTINGS
def test_every_response_conforms(case, app, token):
    _call_and_validate(case, app, token)


@schema_without_coverage.parametrize()
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@FUZZ_SETTINGS
def test_fuzzed_responses_conform(case, app, token):
    _call_and_validate(case, app, token)


def test_stateful_sequences_conform(app, token):
    class ScaleStateMachine(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case):
            return {"app": app, "headers": token}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            excluded = [positive_data_acceptance] if case.operation.label in SEMANTIC_BODIES else []
            case.validate_response(response, additional_checks=additional_checks, excluded_checks=excluded,
                                   headers=token, transport_kwargs=kwargs, recorder=self.recorder)

    run_state_machine_as_test(ScaleStateMachine, settings=STATEFUL_SETTINGS)
