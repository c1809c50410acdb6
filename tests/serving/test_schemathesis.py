"""Property-based requests from the service's own OpenAPI schema: whatever comes, the
answer is never a 5xx, and every answer, 200 or 4xx, follows the schema documented for its
status (errors: ``ErrorResponse``, whose ``error`` names the field). Sized for CI: a few
dozen examples per operation, positive and negative data."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import App

ROLE_FOR = {
    "/v1/score": "scorer",
    "/v1/score_batch": "scorer",
    "/v1/explain": "supervisor",
    "/v1/model": "scorer",
    "/v1/ingest": "admin",
    "/v1/reload": "admin",
    "/v1/snapshot": "admin",
    "/v1/warnings": "scorer",
    "/v1/warnings/{warning_id}": "scorer",
    "/v1/warnings/{warning_id}/actions": "scorer",
    "/v1/warnings/{warning_id}/events": "supervisor",
    "/v1/warnings/policy": "admin",
}
EXAMPLES = 10
# GET /v1/model takes no input, so there is nothing to make negative.
CASES = [
    (path, mode)
    for path in sorted(ROLE_FOR)
    for mode in schemathesis.GenerationMode
    if not (path == "/v1/model" and mode == schemathesis.GenerationMode.NEGATIVE)
]


def _spec(app: App) -> dict:
    return app.client.get("/docs.json", headers=app.keys.header("scorer")).json()


def test_the_schema_lists_every_endpoint(app: App) -> None:
    assert set(ROLE_FOR) <= set(_spec(app)["paths"])


def _send(app: App, case: schemathesis.Case) -> None:
    if case.path == "/v1/reload" and isinstance(case.body, dict) and not case.body.get("model"):
        case.body = {"model": "models:/riskwarn@no-such-alias"}  # a real reload takes a second
    kwargs = case.as_transport_kwargs(
        base_url="http://testserver", headers=app.keys.header(ROLE_FOR[case.path])
    )
    kwargs.pop("cookies", None)  # none are sent; httpx deprecates the per-request argument
    if isinstance(kwargs.get("data"), (bytes, str)):  # raw bodies go as content for httpx
        kwargs["content"] = kwargs.pop("data")
    response = app.client.request(**kwargs)
    case.validate_response(
        response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
    )
    if response.status_code >= 400:
        error = response.json()["error"]
        assert "IODescriptor" not in error and "validation error" not in error, error


@pytest.mark.slow
@pytest.mark.parametrize(("path", "mode"), CASES)
def test_no_request_gets_a_server_error(
    app: App, path: str, mode: schemathesis.GenerationMode
) -> None:
    schema = schemathesis.openapi.from_dict(_spec(app)).include(path=path)
    [operation] = [result.ok() for result in schema.get_all_operations()]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        _send(app, case)

    run()
