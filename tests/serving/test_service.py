"""The service in process: answers, access control, audit, ingest, reload, snapshots."""

from __future__ import annotations

import pandas as pd
import pytest

from riskwarn.serving import MAX_BATCH
from riskwarn.training import load_model
from riskwarn.vocab import TIER_ORDER

from .conftest import App, Served, case_body


def _as_of(served: Served) -> str:
    return served.dataset.end.strftime("%Y-%m-%d")


def _moment(served: Served) -> pd.Timestamp:
    """What a bare as_of date means: the end of that day, as in `riskwarn score`."""
    return pd.Timestamp(_as_of(served)) + pd.Timedelta(hours=23, minutes=59, seconds=59)


def _open_ids(served: Served, n: int) -> list[str]:
    from riskwarn.features import open_disputes

    return open_disputes(served.dataset, _moment(served))[:n]


def test_score_a_stored_dispute_and_audit_it(app: App, served: Served) -> None:
    [dispute] = _open_ids(served, 1)
    r = app.client.post(
        "/v1/score",
        json={"dispute_id": dispute, "as_of": _as_of(served), "top_k": 3},
        headers=app.keys.header("scorer"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dispute_id"] == dispute and body["as_of"] == f"{_as_of(served)}T23:59:59"
    assert 0.0 <= body["risk"] <= 1.0 and body["tier"] in TIER_ORDER
    model = load_model(tracking_uri=served.tracking_uri)
    assert body["model_version"] == model.version
    assert len(body["reasons"]) <= 3
    for reason in body["reasons"]:
        assert reason["feature"] in model.feature_names and reason["contribution"] > 0
        assert reason["text_zh"] and reason["text_en"]
    [entry] = [e for e in app.store.audit_entries() if e["request_id"] == body["request_id"]]
    assert entry["key_name"] == "platform" and entry["action"] == "score"
    assert (entry["dispute_id"], entry["tier"], entry["risk"]) == (
        dispute,
        body["tier"],
        body["risk"],
    )
    assert entry["model_version"] == model.version
    assert entry["as_of"] == _moment(served).to_pydatetime()


def _case_of(served: Served, dispute: str, as_of: str) -> dict:
    return case_body(served.dataset, dispute, as_of)


def test_a_full_case_scores_like_the_stored_dispute(app: App, served: Served) -> None:
    as_of = _as_of(served)
    for dispute in _open_ids(served, 3):
        stored = app.client.post(
            "/v1/score",
            json={"dispute_id": dispute, "as_of": as_of},
            headers=app.keys.header("scorer"),
        ).json()
        sent = app.client.post(
            "/v1/score",
            json={"case": _case_of(served, dispute, as_of), "as_of": as_of},
            headers=app.keys.header("scorer"),
        )
        assert sent.status_code == 200, sent.text
        assert sent.json()["risk"] == pytest.approx(stored["risk"], abs=1e-12)
        assert sent.json()["reasons"] == stored["reasons"]


def test_a_new_case_with_a_new_person_is_scored(app: App, served: Served) -> None:
    [dispute] = _open_ids(served, 1)
    case = _case_of(served, dispute, _as_of(served))
    case["dispute"]["dispute_id"] = "NEW-1"
    case["parties"].append(
        {"person_id": "NEWP-1", "role": "other", "gender": "female", "birth_year": 1990}
    )
    r = app.client.post(
        "/v1/score", json={"case": case, "as_of": _as_of(served)}, headers=app.keys.header("scorer")
    )
    assert r.status_code == 200, r.text
    assert r.json()["dispute_id"] == "NEW-1"


def test_a_batch_answers_as_single_calls_do(app: App, served: Served) -> None:
    ids = _open_ids(served, 4)
    as_of = _as_of(served)
    r = app.client.post(
        "/v1/score_batch",
        json={"cases": [{"dispute_id": d, "as_of": as_of} for d in ids]},
        headers=app.keys.header("scorer"),
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["scored"], answer["failed"]) == (len(ids), 0)
    assert [item["index"] for item in answer["results"]] == list(range(len(ids)))
    results = [item["result"] for item in answer["results"]]
    assert [x["dispute_id"] for x in results] == ids
    for x in results:
        one = app.client.post(
            "/v1/score",
            json={"dispute_id": x["dispute_id"], "as_of": as_of},
            headers=app.keys.header("scorer"),
        ).json()
        assert one["risk"] == pytest.approx(x["risk"], abs=1e-12) and one["tier"] == x["tier"]
    audited = app.store.audit_entries(request_id=r.json()["request_id"])
    assert sorted(e["dispute_id"] for e in audited) == sorted(ids)


def test_a_batch_answers_each_case_on_its_own(app: App, served: Served) -> None:
    """One unknown id gives that item an error; the others get their scores."""
    ids = _open_ids(served, 2)
    cases = [
        {"dispute_id": ids[0], "as_of": _as_of(served)},
        {"dispute_id": "NO-SUCH"},
        {"dispute_id": ids[1], "as_of": "2000-01-01"},  # before it was registered
        {"dispute_id": ids[1], "as_of": _as_of(served)},
    ]
    r = app.client.post("/v1/score_batch", json={"cases": cases}, headers=app.keys.header("scorer"))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["scored"], answer["failed"]) == (2, 2)
    items = answer["results"]
    assert [i["index"] for i in items] == [0, 1, 2, 3]
    assert [i["dispute_id"] for i in items] == [ids[0], "NO-SUCH", ids[1], ids[1]]
    assert items[0]["result"]["risk"] >= 0 and items[0]["error"] is None
    assert items[1]["result"] is None and items[1]["error"]["status"] == 404
    assert items[1]["error"]["error"].startswith("cases[1].dispute_id: expected a dispute")
    assert items[2]["error"]["status"] == 400 and "cases[2].as_of" in items[2]["error"]["error"]
    assert items[3]["result"]["dispute_id"] == ids[1]
    audited = app.store.audit_entries(request_id=answer["request_id"])
    assert sorted(e["dispute_id"] for e in audited) == sorted([ids[0], ids[1]])


def test_explain_gives_every_contribution(app: App, served: Served) -> None:
    [dispute] = _open_ids(served, 1)
    body = {"dispute_id": dispute, "as_of": _as_of(served)}
    r = app.client.post("/v1/explain", json=body, headers=app.keys.header("supervisor"))
    assert r.status_code == 200, r.text
    answer = r.json()
    model = load_model(tracking_uri=served.tracking_uri)
    assert sorted(c["feature"] for c in answer["contributions"]) == sorted(model.feature_names)
    margin = answer["base_value"] + sum(c["contribution"] for c in answer["contributions"])
    import math

    raw = 1.0 / (1.0 + math.exp(-margin))
    assert model.calibrator.predict([raw])[0] == pytest.approx(answer["risk"], abs=1e-9)
    entries = [e for e in app.store.audit_entries() if e["request_id"] == answer["request_id"]]
    assert [(e["action"], e["key_name"]) for e in entries] == [("explain", "county-centre")]


def test_the_model_endpoint_describes_the_model(app: App, served: Served) -> None:
    r = app.client.get("/v1/model", headers=app.keys.header("scorer"))
    assert r.status_code == 200, r.text
    info = r.json()
    model = load_model(tracking_uri=served.tracking_uri)
    assert info["version"] == model.version
    assert set(info["thresholds"]) == {"red", "orange", "yellow"}
    assert info["feature_names"] == model.feature_names
    assert info["card"]
    assert app.client.get("/v1/model").status_code == 401


# Roles are ranked, each inheriting the endpoints of those below: scorer < supervisor < admin.
LEAST_ROLE = {
    "/v1/score": "scorer",
    "/v1/score_batch": "scorer",
    "/v1/model": "scorer",
    "/v1/explain": "supervisor",
    "/v1/ingest": "admin",
    "/v1/reload": "admin",
    "/v1/snapshot": "admin",
}
RANK = ["scorer", "supervisor", "admin"]


@pytest.mark.parametrize("path", sorted(LEAST_ROLE))
@pytest.mark.parametrize("role", RANK)
def test_each_role_may_use_its_endpoints_and_those_below(app: App, path: str, role: str) -> None:
    if path == "/v1/model":
        r = app.client.get(path, headers=app.keys.header(role))
    else:  # a body no endpoint takes: a permitted caller gets 400, never reaching the work
        r = app.client.post(path, json={"not": "even valid"}, headers=app.keys.header(role))
    if RANK.index(role) >= RANK.index(LEAST_ROLE[path]):
        assert r.status_code in (200, 400), (path, role, r.text)
    else:
        assert r.status_code == 403, (path, role, r.text)
        assert "role" in r.json()["error"] and LEAST_ROLE[path] in r.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "role", "status"),
    [
        ("post", "/v1/score", None, 401),
        ("post", "/v1/score", "wrong", 401),
        ("get", "/v1/model", "wrong", 401),
        ("get", "/metrics", None, 401),
    ],
)
def test_missing_or_wrong_keys_get_401(
    app: App, served: Served, method: str, path: str, role: str | None, status: int
) -> None:
    headers = {}
    if role == "wrong":
        headers = {"Authorization": "Bearer rwk_000000000000_guessed"}
    elif role is not None:
        headers = app.keys.header(role)
    kwargs = {"json": {"not": "even valid"}} if method == "post" else {}
    r = getattr(app.client, method)(path, headers=headers, **kwargs)
    assert r.status_code == status, r.text
    assert "key" in r.json()["error"]


def test_probes_the_document_and_the_root_need_no_key(app: App) -> None:
    assert app.client.get("/livez").status_code == 200
    assert app.client.get("/readyz").status_code == 200
    spec = app.client.get("/docs.json")  # it holds no data
    assert spec.status_code == 200 and spec.json()["info"]["title"] == "riskwarn"
    home = app.client.get("/", follow_redirects=False)  # a browser goes to the pages
    assert home.status_code in (302, 303, 307) and home.headers["location"].startswith("/ui")
    for path in ("/metrics", "/schema.json"):  # BentoML's own: they tell about the service
        assert app.client.get(path).status_code == 401, path
    # (/metrics itself answers only in a served process: tests/serving/test_cli.py)
    assert app.client.get("/schema.json", headers=app.keys.header("scorer")).status_code == 200
    # the workbench signs its users in itself: a page, not a bearer-key refusal
    signin = app.client.get("/ui/queue", follow_redirects=False)
    assert signin.status_code in (302, 303, 307) and "/ui/signin" in signin.headers["location"]


def _bad_requests(dispute: str) -> list[tuple[str, object, int, str]]:
    return [
        ("/v1/score", {"dispute_id": 7}, 400, "dispute_id"),
        ("/v1/score", {"dispute_id": dispute, "as_of": "01/03/2024"}, 400, "as_of"),
        ("/v1/score", {"dispute_id": dispute, "as_of": "2024-02-30"}, 400, "as_of"),
        ("/v1/score", {"dispute_id": dispute, "top_k": "3"}, 400, "top_k"),
        ("/v1/score", {"dispute_id": dispute, "colour": "red"}, 400, "colour"),
        ("/v1/score", {}, 400, "dispute_id"),
        ("/v1/score", {"dispute_id": "NO-SUCH-DISPUTE"}, 404, "dispute_id"),
        ("/v1/score", {"dispute_id": dispute, "as_of": "1990-01-01"}, 400, "as_of"),
        ("/v1/score", {"dispute_id": dispute, "as_of": "9999-01-01"}, 400, "as_of"),
        ("/v1/score", {"dispute_id": dispute, "as_of": "0001-01-01T00:00:00"}, 400, "as_of"),
        ("/v1/score", {"case": {"dispute": {"dispute_id": "X"}, "parties": []}}, 400, "case"),
        ("/v1/score", [1, 2], 400, ""),
        ("/v1/score_batch", {"cases": []}, 400, "cases"),
        (
            "/v1/score_batch",
            {"cases": [{"dispute_id": dispute}] * (MAX_BATCH + 1)},
            400,
            "cases",
        ),
        ("/v1/score_batch", {"cases": [{"dispute_id": dispute, "as_of": "x"}]}, 400, "as_of"),
    ]


def test_bad_requests_get_a_4xx_naming_the_field(app: App, served: Served) -> None:
    [dispute] = _open_ids(served, 1)
    for path, body, status, field in _bad_requests(dispute):
        r = app.client.post(path, json=body, headers=app.keys.header("scorer"))
        assert r.status_code == status, (path, body, r.text)
        assert field in r.text, (path, body, r.text)


def test_a_category_outside_the_enum_is_named(app: App, served: Served) -> None:
    [dispute] = _open_ids(served, 1)
    case = _case_of(served, dispute, _as_of(served))
    case["dispute"]["category"] = "noise"
    r = app.client.post("/v1/score", json={"case": case}, headers=app.keys.header("scorer"))
    assert r.status_code == 400
    [detail] = r.json()["detail"]
    assert detail["loc"] == ["case", "dispute", "category"]
    assert "marriage_family" in detail["msg"]


def test_not_json_is_a_400(app: App) -> None:
    r = app.client.post(
        "/v1/score",
        content=b"{not json",
        headers={**app.keys.header("scorer"), "Content-Type": "application/json"},
    )
    assert r.status_code == 400


NEW_RECORDS = {
    "persons": [
        {"person_id": "IN-P1", "gender": "male", "grid_id": None, "birth_year": 1975},
        {"person_id": "IN-P2", "gender": "female", "grid_id": None},
    ],
    "disputes": [
        {
            "dispute_id": "IN-D1",
            "reported_at": "2024-12-01T09:00:00",
            "grid_id": None,
            "category": "debt",
            "source": "hotline",
            "threat_reported": True,
            "violence_reported": False,
            "weapon_mentioned": False,
            "amount_involved": 30000,
        }
    ],
    "dispute_parties": [
        {"dispute_id": "IN-D1", "person_id": "IN-P1", "role": "claimant"},
        {"dispute_id": "IN-D1", "person_id": "IN-P2", "role": "respondent"},
    ],
    "dispute_events": [{"dispute_id": "IN-D1", "at": "2024-12-05T10:00:00", "kind": "threat"}],
}


def _records(served: Served) -> dict:
    grid = served.dataset.grids["grid_id"].iloc[0]
    records = {k: [dict(r) for r in v] for k, v in NEW_RECORDS.items()}
    for row in (*records["persons"], *records["disputes"]):
        row["grid_id"] = grid
    return records


def test_ingest_is_all_or_nothing(app: App, served: Served) -> None:
    records = _records(served)
    bad = {k: [dict(r) for r in v] for k, v in records.items()}
    bad["dispute_parties"][1]["role"] = "bystander"
    before = app.store.history_counts()
    r = app.client.post("/v1/ingest", json=bad, headers=app.keys.header("admin"))
    assert r.status_code == 422, r.text
    [issue] = r.json()["issues"]
    assert (issue["table"], issue["record"], issue["field"], issue["value"]) == (
        "dispute_parties",
        2,
        "role",
        "bystander",
    )
    assert app.store.history_counts() == before
    score = {"dispute_id": "IN-D1", "as_of": "2024-12-10"}
    assert (
        app.client.post("/v1/score", json=score, headers=app.keys.header("scorer")).status_code
        == 404
    )

    r = app.client.post("/v1/ingest", json=records, headers=app.keys.header("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["added"] == {
        "persons": 2,
        "disputes": 1,
        "dispute_parties": 2,
        "dispute_events": 1,
    }
    scored = app.client.post("/v1/score", json=score, headers=app.keys.header("scorer"))
    assert scored.status_code == 200, scored.text
    again = app.client.post("/v1/ingest", json=records, headers=app.keys.header("admin"))
    assert again.status_code == 422 and "already holds" in again.json()["error"]


def test_reload_and_snapshot(app: App, served: Served) -> None:
    r = app.client.post("/v1/reload", json={}, headers=app.keys.header("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["disputes"] >= len(served.dataset.disputes)
    r = app.client.post(
        "/v1/snapshot", json={"as_of": _as_of(served)}, headers=app.keys.header("admin")
    )
    assert r.status_code == 200, r.text
    stored = r.json()["stored"]
    from riskwarn.features import open_disputes

    assert stored == len(open_disputes(app.store.read_dataset(), _moment(served)))
    latest = app.store.latest_snapshots()
    assert len(latest) == stored and all(s["tier"] in TIER_ORDER for s in latest)
    r = app.client.post(
        "/v1/reload", json={"model": "models:/riskwarn@nobody"}, headers=app.keys.header("admin")
    )
    assert r.status_code == 404 and "nobody" in r.json()["error"]


def test_a_full_case_with_a_nul_in_its_id_is_a_400_not_a_store_error(
    app: App, served: Served
) -> None:
    [dispute] = _open_ids(served, 1)
    case = _case_of(served, dispute, _as_of(served))
    case["dispute"]["dispute_id"] = "NEW\x00X"
    r = app.client.post("/v1/score", json={"case": case}, headers=app.keys.header("scorer"))
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith("case.dispute.dispute_id: expected an id")


@pytest.mark.parametrize("value", ["IN-N\x00UL", "N" * 129])
def test_ingest_names_ids_outside_the_contract(app: App, served: Served, value: str) -> None:
    records = _records(served)
    records["persons"][1]["person_id"] = value
    before = app.store.history_counts()
    r = app.client.post("/v1/ingest", json=records, headers=app.keys.header("admin"))
    assert r.status_code == 422, r.text
    issue = r.json()["issues"][0]
    assert (issue["table"], issue["record"], issue["field"], issue["message"]) == (
        "persons",
        2,
        "person_id",
        "out of range",
    )
    assert issue["expected"] == "at most 128 characters, no control characters"
    assert app.store.history_counts() == before


def test_ingest_checks_ids_against_the_store_not_its_own_copy(app: App, served: Served) -> None:
    """Another worker (or `history load`) wrote a record this worker has not seen: 422."""
    from riskwarn import parse_records

    records = _records(served)
    person = {k: [v] for k, v in records["persons"][0].items()} | {"person_id": ["BEHIND-1"]}
    frames = parse_records({"persons": pd.DataFrame(person)}, app.store.read_dataset())
    app.store.append_history(frames)  # behind the service's back
    again = {"persons": [records["persons"][0] | {"person_id": "BEHIND-1"}]}
    r = app.client.post("/v1/ingest", json=again, headers=app.keys.header("admin"))
    assert r.status_code == 422, r.text
    [issue] = r.json()["issues"]
    assert (issue["table"], issue["field"], issue["value"]) == ("persons", "person_id", "BEHIND-1")
    assert "already holds" in r.json()["error"]


@pytest.mark.parametrize("path", ["/v1/ingest", "/v1/reload"])
def test_ingest_and_reload_are_refused_with_several_workers(
    app: App, served: Served, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    import bentoml

    svc = bentoml.get_current_service()  # as a worker of `serve --workers 2` reads them
    monkeypatch.setattr(svc, "settings", svc.settings.model_copy(update={"workers": 2}))
    body = _records(served) if path == "/v1/ingest" else {}
    before = app.store.history_counts()
    r = app.client.post(path, json=body, headers=app.keys.header("admin"))
    assert r.status_code == 400, r.text
    assert "--workers 1" in r.json()["error"] and path in r.json()["error"]
    assert app.store.history_counts() == before


def test_a_new_person_may_carry_a_grid_the_store_holds(app: App, served: Served) -> None:
    [dispute] = _open_ids(served, 1)
    case = _case_of(served, dispute, _as_of(served))
    case["dispute"]["dispute_id"] = "NEW-G"
    grid = served.dataset.grids["grid_id"].iloc[0]
    case["parties"].append({"person_id": "NEWP-G", "role": "other", "grid_id": grid})
    body = {"case": case, "as_of": _as_of(served)}
    r = app.client.post("/v1/score", json=body, headers=app.keys.header("scorer"))
    assert r.status_code == 200, r.text
    case["parties"][-1]["grid_id"] = "NO-SUCH-GRID"
    r = app.client.post("/v1/score", json=body, headers=app.keys.header("scorer"))
    assert r.status_code == 404, r.text
    assert r.json()["error"].startswith(f"case.parties[{len(case['parties']) - 1}].grid_id")


def test_as_of_defaults_to_now_in_the_countys_time(app: App, served: Served) -> None:
    import datetime as dt

    from riskwarn.clock import FixedClock, use_clock

    [dispute] = _open_ids(served, 1)
    with use_clock(FixedClock(dt.datetime(2030, 3, 1, 1, 30))):  # 09:30 in Beijing
        r = app.client.post(
            "/v1/score", json={"dispute_id": dispute}, headers=app.keys.header("scorer")
        )
    assert r.status_code == 200, r.text
    assert r.json()["as_of"] == "2030-03-01T09:30:00"


# what an answer says besides the score ---------------------------------------------------------


def test_answers_carry_the_case_status_the_data_date_and_warnings(app: App, served: Served) -> None:
    from riskwarn.serving._facts import newest_record

    [dispute] = _open_ids(served, 1)
    newest = newest_record(served.dataset)
    body = {"dispute_id": dispute, "as_of": _as_of(served)}
    answer = app.client.post("/v1/score", json=body, headers=app.keys.header("scorer")).json()
    assert answer["status"]["state"] == "open"
    assert answer["data_as_of"] == newest.strftime("%Y-%m-%dT%H:%M:%S")
    assert answer["warnings"] == []
    later = (newest + pd.Timedelta(days=45)).strftime("%Y-%m-%d")
    stale = app.client.post(
        "/v1/score", json={"dispute_id": dispute, "as_of": later}, headers=app.keys.header("scorer")
    ).json()
    [warning] = stale["warnings"]
    assert warning["code"] == "stale_data" and "ingest" in warning["message"]
    assert "45 days after the newest record" in warning["message"]


def test_a_closed_case_says_so_and_since_when(app: App, served: Served) -> None:
    ev = served.dataset.dispute_events
    closed = ev.loc[ev["kind"] == "closed"].sort_values("at")
    reopened = set(ev.loc[ev["kind"] == "reopened", "dispute_id"])
    row = next(r for r in closed.itertuples() if r.dispute_id not in reopened)
    when = row.at.strftime("%Y-%m-%dT%H:%M:%S")
    after = (row.at + pd.Timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    answer = app.client.post(
        "/v1/score",
        json={"dispute_id": row.dispute_id, "as_of": after},
        headers=app.keys.header("scorer"),
    ).json()
    assert answer["status"] == {"state": "closed", "since": when}
    assert [w["code"] for w in answer["warnings"]] == ["case_closed"]


def test_an_event_before_registration_is_a_warning_as_in_validate(app: App, served: Served) -> None:
    from riskwarn._validate import early_event_issue

    [dispute] = _open_ids(served, 1)
    case = _case_of(served, dispute, _as_of(served))
    case["dispute"]["dispute_id"] = "NEW-EARLY"
    case["events"].append({"at": "2001-05-01T08:00:00", "kind": "visit"})
    r = app.client.post(
        "/v1/score", json={"case": case, "as_of": _as_of(served)}, headers=app.keys.header("scorer")
    )
    assert r.status_code == 200, r.text
    [warning] = [w for w in r.json()["warnings"] if w["code"] == "event_before_registration"]
    expected = early_event_issue(
        "dispute_events",
        None,
        None,
        "NEW-EARLY",
        "2001-05-01T08:00:00",
        case["dispute"]["reported_at"],
    )
    assert warning["message"] == str(expected)


def test_a_supervisors_raise_is_part_of_the_answer(app: App, served: Served) -> None:
    """tier_model is the model's; tier is the raise; override says who, when and why."""
    from riskwarn.vocab import higher_tier

    ids = _open_ids(served, 40)
    body = {"cases": [{"dispute_id": d, "as_of": _as_of(served)} for d in ids]}
    items = app.client.post("/v1/score_batch", json=body, headers=app.keys.header("scorer")).json()
    target = next(i["result"] for i in items["results"] if i["result"]["tier_model"] != "red")
    assert target["override"] is None and target["tier"] == target["tier_model"]
    app.store.add_action(
        {
            "dispute_id": target["dispute_id"],
            "kind": "raise_tier",
            "key_name": "county-centre",
            "tier": "red",
            "reason": "当事人扬言报复",
        },
        request_id="raise-1",
    )
    r = app.client.post(
        "/v1/score",
        json={"dispute_id": target["dispute_id"], "as_of": _as_of(served)},
        headers=app.keys.header("scorer"),
    ).json()
    assert (r["tier_model"], r["tier"]) == (target["tier_model"], "red")
    assert r["override"]["by"] == "county-centre" and r["override"]["reason"] == "当事人扬言报复"
    assert r["override"]["tier"] == "red" and r["override"]["at"].endswith("Z")
    [entry] = app.store.audit_entries(request_id=r["request_id"])
    assert entry["tier"] == "red"  # the audit log records what the platform was told
    assert higher_tier(r["tier_model"], "red") == "red"


def test_ingest_reports_an_event_before_registration_and_keeps_it(app: App, served: Served) -> None:
    [dispute] = _open_ids(served, 1)
    event = {"dispute_id": dispute, "at": "2001-01-01T00:00:00", "kind": "visit"}
    r = app.client.post(
        "/v1/ingest", json={"dispute_events": [event]}, headers=app.keys.header("admin")
    )
    assert r.status_code == 200, r.text
    [warning] = r.json()["warnings"]
    assert (warning["table"], warning["record"], warning["field"]) == ("dispute_events", 1, "at")
    assert "registered" in warning["message"]
    assert r.json()["added"] == {"dispute_events": 1}


RANGE_BREAKS = [  # (ingest table, ingest field, value, score case path, score field)
    ("persons", "birth_year", 99999, "parties", "birth_year"),
    ("persons", "birth_year", -1, "parties", "birth_year"),
    ("disputes", "amount_involved", -3.0, "dispute", "amount_involved"),
    ("disputes", "amount_involved", float("nan"), "dispute", "amount_involved"),
    ("disputes", "summary", "长" * 10_001, "dispute", "summary"),
    ("dispute_events", "note", "x" * 10_001, "events", "note"),
]


@pytest.mark.parametrize(("table", "field", "value", "where", "key"), RANGE_BREAKS)
def test_the_same_value_rules_hold_at_ingest_and_at_score(
    app: App, served: Served, table: str, field: str, value: object, where: str, key: str
) -> None:
    """Ingest refuses with a located issue (422), the score endpoint with the field (400):
    the contract's ranges, the same values."""
    import json

    records = _records(served)
    records = {k: [dict(r) for r in v] for k, v in records.items()}
    records[table][0][field] = value
    before = app.store.history_counts()
    body = json.dumps(records).encode()  # NaN goes as JSON's NaN literal
    headers = {**app.keys.header("admin"), "Content-Type": "application/json"}
    r = app.client.post("/v1/ingest", content=body, headers=headers)
    assert r.status_code == 422, r.text
    assert any((i["table"], i["field"]) == (table, field) for i in r.json()["issues"]), r.text
    assert app.store.history_counts() == before
    [dispute] = _open_ids(served, 1)
    case = _case_of(served, dispute, _as_of(served))
    case["dispute"]["dispute_id"] = "NEW-RANGE"
    if where == "parties":
        case["parties"].append({"person_id": "NEWP-R", "role": "other", key: value})
    elif where == "events":
        case["events"].append({"at": _as_of(served), "kind": "visit", key: value})
    else:
        case["dispute"][key] = value
    body = json.dumps({"case": case, "as_of": _as_of(served)}).encode()
    headers = {**app.keys.header("scorer"), "Content-Type": "application/json"}
    r = app.client.post("/v1/score", content=body, headers=headers)
    assert r.status_code == 400, r.text
    assert key in r.json()["error"]


def test_the_request_timeout_is_the_settings_one() -> None:
    """BentoML's traffic timeout comes from RISKWARN_REQUEST_TIMEOUT (it bounds how long a
    worker keeps each request's context, and so its memory)."""
    from riskwarn.config import Settings
    from riskwarn.serving import service

    assert service.config["traffic"]["timeout"] == Settings.from_env().request_timeout


def test_requests_make_no_span_unless_tracing_is_asked_for(app: App) -> None:
    """Without RISKWARN_TRACE_REQUESTS no OpenTelemetry span is started for a request:
    BentoML records every span even with no exporter, and its timeout middleware keeps each
    one alive until the request timeout passes (the soak's memory climb)."""
    from bentoml._internal.configuration.containers import BentoMLContainer
    from opentelemetry.sdk.trace import SpanProcessor

    class Started(SpanProcessor):
        def __init__(self) -> None:
            self.names: list[str] = []

        def on_start(self, span, parent_context=None) -> None:  # type: ignore[no-untyped-def]
            self.names.append(span.name)

    started = Started()
    BentoMLContainer.tracer_provider.get().add_span_processor(started)
    for path in ("/v1/model", "/ui/signin", "/livez"):
        assert app.client.get(path, headers=app.keys.header("scorer")).status_code == 200
    body = {"dispute_id": app.store.read_dataset().disputes["dispute_id"].iloc[0]}
    assert app.client.post("/v1/score", json=body, headers=app.keys.header("scorer")).is_success
    assert started.names == []
