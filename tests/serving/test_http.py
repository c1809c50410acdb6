"""What a refused request reads: one message naming each field path, what was expected and
what came; the body the OpenAPI document describes; no traceback in the log; 413 for a body
too large."""

from __future__ import annotations

import logging

import pytest

from riskwarn.serving import ErrorResponse

from .conftest import App, Served


def _open_id(served: Served) -> str:
    from riskwarn.features import open_disputes

    return open_disputes(served.dataset, served.dataset.end.normalize())[0]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            "/v1/score_batch",
            {"cases": [{"dispute_id": "D1", "top_k": 99}]},
            "cases[0].top_k: expected less than or equal to 50, got 99",
        ),
        ("/v1/score", {"dispute_id": 7}, "dispute_id: expected a valid string, got 7"),
        (
            "/v1/score",
            {"dispute_id": "NEW\x00X"},
            "dispute_id: expected an id: 1 to 128 characters, no control characters, no space "
            'at either end, got "NEW\\u0000X"',
        ),
        (
            "/v1/score",
            {"dispute_id": "D" * 129},
            "dispute_id: expected a string of at most 128 characters, got 129 characters",
        ),
        (
            "/v1/score",
            {"dispute_id": "D1", "top_kk": 3},
            "top_kk: expected only known fields (dispute_id, case, as_of, top_k), got an "
            "unknown field; did you mean 'top_k'?",
        ),
        (
            "/v1/explain",
            {"case": {"dispute": {"dispute_id": "X"}, "parties": []}},
            "case.dispute.reported_at: expected a value (a required field), got none",
        ),
        ("/v1/score", [1, 2], "body: expected an object, got [1, 2]"),
        ("/v1/score", {}, "body: expected exactly one of 'dispute_id'"),
    ],
)
def test_a_malformed_request_names_the_field_path_expected_and_got(
    app: App, path: str, body: object, message: str
) -> None:
    r = app.client.post(path, json=body, headers=app.keys.header("supervisor"))
    assert r.status_code == 400, r.text
    answer = ErrorResponse.model_validate(r.json())
    assert message in answer.error, answer.error
    assert "IODescriptor" not in r.text and "validation error" not in answer.error
    assert answer.detail and all(d.msg.startswith(d.field) for d in answer.detail)


def test_text_that_is_not_json_is_named_too(app: App) -> None:
    r = app.client.post(
        "/v1/score",
        content=b"{not json",
        headers={**app.keys.header("scorer"), "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["error"].startswith("body: expected a JSON object, got text that is not JSON")


def test_client_errors_are_logged_in_one_line_without_a_traceback(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        r = app.client.post("/v1/score", json={"dispute_id": 7}, headers=app.keys.header("scorer"))
    assert r.status_code == 400
    mine = [rec for rec in caplog.records if rec.name.startswith("bentoml")]
    assert mine and all(rec.levelno < logging.ERROR and not rec.exc_info for rec in mine)
    assert any("client error 400" in rec.getMessage() for rec in mine)


def test_a_body_too_large_gets_413(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    import riskwarn.serving._http as http

    monkeypatch.setattr(http, "MAX_BODY", 1000)
    body = {"cases": [{"dispute_id": f"D{i}"} for i in range(200)]}
    r = app.client.post("/v1/score_batch", json=body, headers=app.keys.header("scorer"))
    assert r.status_code == 413 and "at most 1000 bytes" in r.json()["error"]


def test_the_openapi_document_describes_every_error_body(app: App) -> None:
    spec = app.client.get("/docs.json", headers=app.keys.header("scorer")).json()
    ref = {"$ref": "#/components/schemas/ErrorResponse"}
    expected = {
        "/v1/score": {"400", "401", "403", "404", "413"},
        "/v1/explain": {"400", "401", "403", "404", "413"},
        "/v1/ingest": {"400", "401", "403", "413", "422"},
        "/v1/model": {"401", "403"},
    }
    for path, statuses in expected.items():
        [operation] = spec["paths"][path].values()
        for status in statuses:
            assert operation["responses"][status]["content"]["application/json"]["schema"] == ref
    schemas = spec["components"]["schemas"]
    assert {"ErrorResponse", "FieldError", "RecordIssue"} <= set(schemas)
    assert "InvalidArgument" not in schemas
