"""The HTTP edge: one error body for every status, messages that name the field, request
ids honoured and returned, bodies refused at once when too large, too deep or not JSON,
unknown routes and methods, and a presented key never echoed in a body or a log line."""

from __future__ import annotations

import logging
import time

import pytest

from riskwarn.serving import ErrorResponse

from .conftest import App, Served

# This module's service takes small bodies, so that 413 needs no large upload.
APP_ENV = {"RISKWARN_MAX_BODY": "65536", "RISKWARN_MAX_DEPTH": "32"}
ERROR_KEYS = {"error", "detail", "issues", "request_id"}
POSTS = ["/v1/score", "/v1/score_batch", "/v1/explain", "/v1/ingest", "/v1/reload", "/v1/snapshot"]


def _open_id(served: Served) -> str:
    from riskwarn.features import open_disputes

    return open_disputes(served.dataset, served.dataset.end.normalize())[0]


def _is_error(r) -> dict:  # type: ignore[no-untyped-def]
    """The one error body, whose request id is the X-Request-ID returned."""
    body = r.json()
    assert set(body) == ERROR_KEYS, body
    ErrorResponse.model_validate(body)
    assert body["request_id"] == r.headers["x-request-id"]
    return body


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            "/v1/score_batch",
            {"cases": [{"dispute_id": "D1", "top_k": 99}]},
            "cases[0].top_k: expected at most 50, got 99",
        ),
        ("/v1/score", {"dispute_id": 7}, "dispute_id: expected a string, got 7"),
        (
            "/v1/score",
            {"dispute_id": "NEW\x00X"},
            "dispute_id: expected an id: 1 to 128 characters, no control characters, got "
            '"NEW\\u0000X"',
        ),
        (
            "/v1/score",
            {"dispute_id": "D" * 129},
            "dispute_id: expected at most 128 characters, got 129 characters",
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
        (
            "/v1/score",
            {"case": {"dispute": {"amount_involved": -5}, "parties": []}},
            "case.dispute.amount_involved: expected at least 0, got -5",
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
    answer = _is_error(r)
    named = [answer["error"], *(d["msg"] for d in answer["detail"])]
    assert any(message in text for text in named), named
    assert "IODescriptor" not in r.text and "validation error" not in answer["error"]
    assert answer["detail"] and all(d["msg"].startswith(d["field"]) for d in answer["detail"])


def test_text_that_is_not_json_is_named_too(app: App) -> None:
    r = app.client.post(
        "/v1/score",
        content=b"{not json",
        headers={**app.keys.header("scorer"), "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert _is_error(r)["error"].startswith("body: expected JSON, got text that is not JSON")


def test_client_errors_are_not_logged_as_server_errors(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        r = app.client.post("/v1/score", json={"dispute_id": 7}, headers=app.keys.header("scorer"))
    assert r.status_code == 400
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR or rec.exc_info]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", b'{"dispute_id": "D1"}'),
        ("multipart/form-data", b"garbage"),  # no boundary
        ("multipart/form-data; boundary=xyz", b"--xyz\r\ngarbage\r\n--xyz--\r\n"),
        ("application/x-www-form-urlencoded", b"dispute_id=D1"),
        (None, b'{"dispute_id": "D1"}'),
    ],
)
def test_a_body_that_is_not_json_gets_415_and_runs_nothing(
    app: App, path: str, content_type: str | None, content: bytes
) -> None:
    headers = app.keys.header("admin")
    if content_type is not None:
        headers["Content-Type"] = content_type
    before = len(app.store.audit_entries())
    r = app.client.post(path, content=content, headers=headers)
    assert r.status_code == 415, r.text
    assert "application/json" in _is_error(r)["error"]
    assert len(app.store.audit_entries()) == before  # /v1/reload and /v1/snapshot did not run


def test_a_body_too_large_gets_413_before_it_is_read(app: App) -> None:
    body = {"cases": [{"dispute_id": f"D{i:06d}"} for i in range(4000)]}  # ~100 KB
    r = app.client.post("/v1/score_batch", json=body, headers=app.keys.header("scorer"))
    assert r.status_code == 413
    assert "at most 65536 bytes" in _is_error(r)["error"]

    def chunks():  # no Content-Length: counted as it streams in
        yield b'{"cases": ['
        for i in range(4000):
            yield b'{"dispute_id": "D%06d"},' % i
        yield b'{"dispute_id": "D"}]}'

    headers = {**app.keys.header("scorer"), "Content-Type": "application/json"}
    r = app.client.post("/v1/score_batch", content=chunks(), headers=headers)
    assert r.status_code == 413 and _is_error(r)


@pytest.mark.parametrize("depth", [33, 1000, 30_000])
def test_json_nested_too_deep_is_refused_at_once(app: App, depth: int) -> None:
    body = b'{"dispute_id": ' + b"[" * depth + b"]" * depth + b"}"
    headers = {**app.keys.header("scorer"), "Content-Type": "application/json"}
    started = time.monotonic()
    r = app.client.post("/v1/score", content=body, headers=headers)
    assert time.monotonic() - started < 2
    assert r.status_code == 400, r.text
    assert "nested at most 32 levels" in _is_error(r)["error"]


def test_brackets_inside_strings_do_not_count_as_nesting(app: App, served: Served) -> None:
    note = "[" * 200 + '{"\\"' + "]" * 50
    r = app.client.post(
        "/v1/score",
        json={"dispute_id": _open_id(served) + "x", "case": None, "top_k": 3, "as_of": note},
        headers=app.keys.header("scorer"),
    )
    assert r.status_code == 400 and "as_of" in _is_error(r)["error"]  # judged, not refused


def test_every_status_has_the_one_error_body(app: App, served: Served) -> None:
    scorer, admin = app.keys.header("scorer"), app.keys.header("admin")
    answers = {
        400: app.client.post("/v1/score", json={}, headers=scorer),
        401: app.client.post("/v1/score", json={"dispute_id": "D1"}),
        403: app.client.post("/v1/ingest", json={}, headers=scorer),
        404: app.client.post("/v1/score", json={"dispute_id": "NO-SUCH"}, headers=scorer),
        405: app.client.get("/v1/score", headers=scorer),
        413: app.client.post(
            "/v1/ingest", json={"persons": [{"person_id": "x" * 100}] * 1000}, headers=admin
        ),
        415: app.client.post("/v1/score", content=b"x", headers=scorer),
        422: app.client.post(
            "/v1/ingest", json={"disputes": [{"dispute_id": "D-422"}]}, headers=admin
        ),
    }
    for status, r in answers.items():
        assert r.status_code == status, (status, r.text)
        _is_error(r)
    assert answers[405].headers["allow"] == "POST"
    assert answers[422].json()["issues"]
    for path in ("/v1/nothing-here", "/nothing", "/v1/score/extra"):
        r = app.client.get(path, headers=scorer)
        assert r.status_code == 404 and "/docs.json" in _is_error(r)["error"], path
    r = app.client.delete("/v1/nothing-here")
    assert r.status_code == 404 and _is_error(r)


def test_an_incoming_request_id_is_honoured_and_returned(app: App, served: Served) -> None:
    dispute = _open_id(served)
    headers = {**app.keys.header("scorer"), "X-Request-ID": "platform-7f3a.42"}
    ok = app.client.post("/v1/score", json={"dispute_id": dispute}, headers=headers)
    assert ok.status_code == 200 and ok.headers["x-request-id"] == "platform-7f3a.42"
    assert ok.json()["request_id"] == "platform-7f3a.42"
    [entry] = app.store.audit_entries(request_id="platform-7f3a.42")
    assert entry["dispute_id"] == dispute
    bad = app.client.post("/v1/score", json={}, headers=headers)
    assert _is_error(bad)["request_id"] == "platform-7f3a.42"
    for unusable in ("has spaces", "x" * 65, "rwk_abc_def"):
        r = app.client.post(
            "/v1/score", json={"dispute_id": dispute}, headers={**headers, "X-Request-ID": unusable}
        )
        assert r.headers["x-request-id"] != unusable and r.json()["request_id"] != unusable
    assert app.client.get("/livez").headers["x-request-id"]


def test_a_presented_key_is_never_echoed(
    app: App, served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """Not in any answer, not in any log line, whatever the header looks like."""
    good = app.keys.scorer
    secret = good.split("_", 2)[2]
    guessed = "rwk_000000000000_" + "g" * 40
    headers = [
        f"Basic {good}",
        good,
        f"Token {secret}",
        f"Bearer {guessed}",
        f"Bearer {good}x",
        f"Bearer  {good} trailing",
        f"bearer{good}",
    ]
    bodies = []
    with caplog.at_level(logging.DEBUG):
        for header in headers:
            for method, path in [("post", "/v1/score"), ("get", "/v1/model"), ("get", "/metrics")]:
                kwargs = {"json": {"dispute_id": _open_id(served)}} if method == "post" else {}
                r = getattr(app.client, method)(path, headers={"Authorization": header}, **kwargs)
                assert r.status_code == 401, (header, r.text)
                bodies.append(r.text + str(r.headers))
        # a right key on a route of a higher role, and a key sent as a request id
        r = app.client.post("/v1/ingest", json={}, headers={"Authorization": f"Bearer {good}"})
        assert r.status_code == 403
        bodies.append(r.text + str(r.headers))
        r = app.client.get(
            "/v1/model", headers={"Authorization": f"Bearer {good}", "X-Request-ID": good}
        )
        bodies.append(r.text + str(r.headers))
    logged = "\n".join(rec.getMessage() + str(rec.args) for rec in caplog.records)
    for text in [*bodies, logged]:
        assert good not in text and secret not in text and guessed not in text


def test_the_openapi_document_is_what_integrators_expect(app: App) -> None:
    import riskwarn

    spec = app.client.get("/docs.json").json()
    assert spec["info"]["title"] == "riskwarn" and spec["info"]["version"] == riskwarn.__version__
    assert "Bearer" in spec["info"]["description"]
    [scheme] = spec["components"]["securitySchemes"].values()
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    operations = {
        (path, method): op for path, item in spec["paths"].items() for method, op in item.items()
    }
    names = {op["operationId"]: (path, op["tags"]) for (path, _), op in operations.items()}
    assert names == {
        "score": ("/v1/score", ["scoring"]),
        "score_batch": ("/v1/score_batch", ["scoring"]),
        "get_model": ("/v1/model", ["scoring"]),
        "explain": ("/v1/explain", ["supervision"]),
        "ingest": ("/v1/ingest", ["administration"]),
        "reload": ("/v1/reload", ["administration"]),
        "snapshot": ("/v1/snapshot", ["administration"]),
        "list_warnings": ("/v1/warnings", ["scoring"]),
        "get_warning": ("/v1/warnings/{warning_id}", ["scoring"]),
        "report_action": ("/v1/warnings/{warning_id}/actions", ["scoring"]),
        "warning_event": ("/v1/warnings/{warning_id}/events", ["supervision"]),
        "put_routing_policy": ("/v1/warnings/policy", ["administration"]),
        "correct_record": ("/v1/records/correct", ["administration"]),
        "person_report": ("/v1/records/person/{person_id}", ["administration"]),
    }
    score = operations[("/v1/score", "post")]
    assert score["x-required-role"] == "scorer" and score["security"]
    body = score["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ScoreRequest"}
    ok = score["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/ScoreResponse"}
    error = {"$ref": "#/components/schemas/ErrorResponse"}
    for status in ("400", "401", "403", "404", "413", "415", "503", "default"):
        assert score["responses"][status]["content"]["application/json"]["schema"] == error
    assert "422" in operations[("/v1/ingest", "post")]["responses"]
    schemas = spec["components"]["schemas"]
    assert schemas["Tier"]["enum"] == ["red", "orange", "yellow", "blue"]
    for field in ("tier", "tier_model"):
        assert schemas["ScoreResponse"]["properties"][field]["$ref"] == "#/components/schemas/Tier"
    assert schemas["DisputeIn"]["properties"]["category"]["enum"][0] == "marriage_family"
    for name in ("ScoreRequest", "ScoreResponse", "DisputeIn", "PartyIn", "Reason"):
        for field, prop in schemas[name]["properties"].items():
            assert prop.get("description"), (name, field)
    assert not [n for n in schemas if "IODescriptor" in n or n.startswith(("Input", "Output"))]


def test_a_client_generated_from_the_document_scores_a_case(
    app: App, served: Served, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """openapi-python-client on /docs.json gives the names an integrator expects, and the
    client it makes scores a case."""
    import importlib
    import os
    import subprocess
    import sys
    from pathlib import Path

    from .conftest import make_client

    spec = tmp_path / "docs.json"
    spec.write_bytes(app.client.get("/docs.json").content)
    bin_dir = Path(sys.executable).parent
    made = subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "riskwarn_api"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert made.returncode == 0 and "Warning" not in made.stdout + made.stderr, made.stdout
    generated = tmp_path / "riskwarn_api"
    modules = {p.relative_to(generated).as_posix() for p in generated.rglob("*.py")}
    assert {
        "api/scoring/score.py",
        "api/scoring/score_batch.py",
        "api/scoring/get_model.py",
        "api/supervision/explain.py",
        "api/administration/ingest.py",
        "models/score_request.py",
        "models/score_response.py",
        "models/tier.py",
        "models/error_response.py",
    } <= modules
    assert not [m for m in modules if "descriptor" in m or "service_ap_is" in m or "_get.py" in m]
    sys.path.insert(0, str(tmp_path))
    try:
        score = importlib.import_module("riskwarn_api.api.scoring.score")
        models = importlib.import_module("riskwarn_api.models")
        client_module = importlib.import_module("riskwarn_api.client")
        http = make_client(app.client.app)  # the same service, without a second start
        http.headers["Authorization"] = f"Bearer {app.keys.scorer}"
        client = client_module.AuthenticatedClient(base_url="http://testserver", token="-")
        client.set_httpx_client(http)
        dispute = _open_id(served)
        as_of = served.dataset.end.strftime("%Y-%m-%d")
        answer = score.sync(
            client=client, body=models.ScoreRequest(dispute_id=dispute, as_of=as_of)
        )
        assert isinstance(answer, models.ScoreResponse), answer
        assert answer.dispute_id == dispute and 0 <= answer.risk <= 1
        assert isinstance(answer.tier, models.Tier) and answer.status.state.value == "open"
        missing = score.sync(client=client, body=models.ScoreRequest(dispute_id="NO-SUCH"))
        assert isinstance(missing, models.ErrorResponse) and "dispute_id" in missing.error
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith("riskwarn_api")]:
            del sys.modules[name]


def test_lone_surrogates_are_refused_not_crashed_on(app: App) -> None:
    """JSON may escape a lone surrogate (\\ud800); UTF-8 cannot hold one."""
    scorer = {**app.keys.header("scorer"), "Content-Type": "application/json"}
    r = app.client.post("/v1/score", content=b'{"dispute_id": "\\ud800x"}', headers=scorer)
    assert r.status_code == 400 and "valid Unicode text" in _is_error(r)["error"]
    admin = {**app.keys.header("admin"), "Content-Type": "application/json"}
    for body in (
        b'{"persons": [{"person_id": "P\\ud800", "gender": "male", "grid_id": "G1"}]}',
        b'{"persons": [{"\\udc80": 1, "gender": "male", "grid_id": "G1"}]}',
    ):
        r = app.client.post("/v1/ingest", content=body, headers=admin)
        assert r.status_code == 422, r.text
        assert _is_error(r)["issues"][0]["table"] == "persons"


def test_a_client_gone_before_its_body_arrived_is_not_a_server_error(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """A caller that hangs up mid-request (a timeout, a closed tab) gets no answer and
    leaves no error with a traceback in the log."""
    sent: list[dict] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/score",
        "raw_path": b"/v1/score",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
            *[(k.lower().encode(), v.encode()) for k, v in app.keys.header("scorer").items()],
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }

    async def receive() -> dict:
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    with caplog.at_level(logging.DEBUG):
        app.client.portal.call(app.client.app, scope, receive, send)
    assert sent[0]["status"] == 499
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR or rec.exc_info]
