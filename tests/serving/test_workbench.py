"""The supervisor workbench in process: sign-in and its cookie, access, the queue's order,
filters and paging, the case and model pages, actions (raise only), CSRF and the audit log.

Runs the workbench over a real store (the simulated county's history, real snapshots from
the real model trained in the serving fixtures), mounted under /ui as the service mounts it.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import html as html_lib
import math
import os
import re
import stat
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from riskwarn.features import REGISTRY
from riskwarn.loop import Member, WarningEvent, load_policy
from riskwarn.serving import Scorer, Store, take_snapshot
from riskwarn.serving._workbench import make_workbench
from riskwarn.training import load_model

from .conftest import App, Keys, Served, fresh_store, make_client

SECRET = "workbench-tests-" + "s" * 32
TIERS = ("blue", "yellow", "orange", "red")


@dataclass
class Bench:
    client: Any
    store: Store
    keys: Keys
    scorer: Scorer
    backend: SimpleNamespace

    def new_client(self) -> Any:
        return make_client(self.client.app)


def mounted(backend: Any, **options: Any) -> Starlette:
    return Starlette(routes=[Mount("/ui", app=make_workbench(backend, **options))])


def snapshot_store(served: Served, path: Path) -> tuple[Store, Keys, Scorer]:
    """The county's history, one key per role, and three monthly snapshots of open cases."""
    store, keys = fresh_store(served, path)
    scorer = Scorer(load_model(tracking_uri=served.tracking_uri), store.read_dataset())
    end = served.dataset.end.normalize()
    for back in (60, 30, 0):
        take_snapshot(scorer, store, (end - pd.Timedelta(days=back)).to_pydatetime())
    return store, keys, scorer


@pytest.fixture(scope="module")
def bench(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    store, keys, scorer = snapshot_store(served, tmp_path_factory.mktemp("wb") / "service.db")
    backend = SimpleNamespace(store=store, scorer=scorer)
    with make_client(mounted(backend, secret=SECRET)) as client:
        yield Bench(client, store, keys, scorer, backend)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "expected a CSRF token in the form"
    return found[1]


def sign_in(client: Any, key: str, next_path: str = "") -> Any:
    form = client.get("/ui/signin")
    assert form.status_code == 200
    data = {"key": key, "csrf": csrf_of(form.text), "next": next_path}
    return client.post("/ui/signin", data=data, follow_redirects=False)


def error_of(html: str) -> str:
    found = re.search(r'id="error">([^<]+)<', html)
    return found[1] if found else ""


@pytest.fixture
def supervisor(bench: Bench) -> Iterator[Any]:
    with bench.new_client() as client:
        assert sign_in(client, bench.keys.supervisor).status_code == 303
        yield client


# access -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ui/queue", "/ui/model", "/ui/case?id=D00001", "/ui/"])
def test_pages_redirect_to_sign_in_without_a_session(bench: Bench, path: str) -> None:
    with bench.new_client() as client:
        r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/ui/signin") or r.headers["location"] == "/ui/queue"
    if path != "/ui/":
        assert r.headers["location"] == "/ui/signin?next=" + urllib.parse.quote(path, safe="")


@pytest.mark.parametrize("path", ["/ui/api/queue", "/ui/api/case?id=D00001"])
def test_data_routes_answer_401_in_json_without_a_session(bench: Bench, path: str) -> None:
    with bench.new_client() as client:
        r = client.get(path)
    assert r.status_code == 401
    assert "sign in" in r.json()["error"]


def test_sign_in_keeps_a_signed_httponly_samesite_cookie_without_the_key(bench: Bench) -> None:
    with bench.new_client() as client:
        r = sign_in(client, bench.keys.supervisor, next_path="/ui/model")
        assert r.status_code == 303 and r.headers["location"] == "/ui/model"
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("rw_session=")
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert "httponly" in flags and "samesite=lax" in flags and "path=/ui" in flags
        secret_part = bench.keys.supervisor.split("_", 2)[2]
        assert secret_part not in cookie and bench.keys.supervisor not in cookie
        page = client.get("/ui/queue")
        assert page.status_code == 200 and "county-centre" in page.text
        # A changed cookie is no session at all.
        value = client.cookies.get("rw_session")
        client.cookies.set("rw_session", value[:-3] + ("AAA" if value[-3:] != "AAA" else "BBB"))
        assert client.get("/ui/queue", follow_redirects=False).status_code == 303


def test_cookies_are_secure_over_https_or_when_told(
    bench: Bench, monkeypatch: pytest.MonkeyPatch
) -> None:
    with bench.new_client() as client:
        cookie = sign_in(client, bench.keys.supervisor).headers["set-cookie"]
        assert "secure" not in cookie.lower()
    monkeypatch.setenv("RISKWARN_SECURE_COOKIES", "1")  # TLS ends at a proxy in front
    backend = SimpleNamespace(store=bench.store, scorer=bench.scorer)  # settings read anew
    with make_client(mounted(backend, secret=SECRET)) as client:
        cookie = client.get("/ui/signin").headers["set-cookie"]
        assert "; secure" in cookie.lower() and "httponly" in cookie.lower()


@pytest.mark.parametrize(
    "target", ["https://elsewhere.example/", "//elsewhere.example/x", "/v1/model"]
)
def test_sign_in_only_returns_inside_the_workbench(bench: Bench, target: str) -> None:
    with bench.new_client() as client:
        r = sign_in(client, bench.keys.supervisor, next_path=target)
        assert r.status_code == 303 and r.headers["location"] == "/ui/queue"


def test_a_wrong_key_is_refused(bench: Bench) -> None:
    with bench.new_client() as client:
        for key in ("rwk_0000_nothing", bench.keys.supervisor + "x", "not a key"):
            r = sign_in(client, key)
            assert r.status_code == 401
            assert "密钥不正确或已停用" in error_of(r.text)
            assert "rw_session" not in r.headers.get("set-cookie", "") or "kid" not in r.text
            assert client.get("/ui/queue", follow_redirects=False).status_code == 303


def test_a_scorer_key_is_refused_with_a_clear_message(bench: Bench) -> None:
    with bench.new_client() as client:
        r = sign_in(client, bench.keys.scorer)
        assert r.status_code == 403
        message = error_of(r.text)
        assert "scorer" in message and "supervisor" in message and "platform" in message
        assert client.get("/ui/queue", follow_redirects=False).status_code == 303


def test_an_admin_key_may_sign_in(bench: Bench) -> None:
    with bench.new_client() as client:
        assert sign_in(client, bench.keys.admin).status_code == 303
        assert client.get("/ui/queue").status_code == 200


def test_sign_in_needs_the_form_token(bench: Bench) -> None:
    with bench.new_client() as client:
        client.get("/ui/signin")
        r = client.post("/ui/signin", data={"key": bench.keys.supervisor, "csrf": "forged"})
        assert r.status_code == 403
        assert client.get("/ui/queue", follow_redirects=False).status_code == 303


def test_revoking_a_key_ends_its_sessions(served: Served, tmp_path: Path) -> None:
    store, keys = fresh_store(served, tmp_path / "service.db")
    backend = SimpleNamespace(
        store=store, scorer=Scorer(load_model(tracking_uri=served.tracking_uri), served.dataset)
    )
    with make_client(mounted(backend, secret=SECRET)) as client:
        assert sign_in(client, keys.supervisor).status_code == 303
        assert client.get("/ui/queue").status_code == 200
        assert store.revoke_key("county-centre")
        assert client.get("/ui/queue", follow_redirects=False).status_code == 303
        assert client.get("/ui/api/queue").status_code == 401


def test_sign_out_ends_the_session(bench: Bench) -> None:
    with bench.new_client() as client:
        sign_in(client, bench.keys.supervisor)
        page = client.get("/ui/queue")
        r = client.post("/ui/signout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/ui/signin"
        assert client.get("/ui/queue", follow_redirects=False).status_code == 303


def test_sign_out_ends_copies_of_the_cookie_too(bench: Bench) -> None:
    with bench.new_client() as client, bench.new_client() as other:
        sign_in(client, bench.keys.supervisor)
        sign_in(other, bench.keys.supervisor)  # the same key in another browser
        copied = client.cookies.get("rw_session")
        page = client.get("/ui/queue")
        client.post("/ui/signout", data={"csrf": csrf_of(page.text)})
        with bench.new_client() as thief:
            thief.cookies.set("rw_session", copied)
            assert thief.get("/ui/queue", follow_redirects=False).status_code == 303
            assert thief.get("/ui/api/queue").status_code == 401
        # Only that session ended: the other browser is still signed in.
        assert other.get("/ui/queue", follow_redirects=False).status_code == 200


def test_the_session_secret_is_made_once_in_the_state_folder(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("RISKWARN_HOME", str(home))
    monkeypatch.delenv("RISKWARN_SESSION_SECRET", raising=False)
    store, keys = fresh_store(served, tmp_path / "service.db")
    backend = SimpleNamespace(
        store=store, scorer=Scorer(load_model(tracking_uri=served.tracking_uri), served.dataset)
    )
    with make_client(mounted(backend)) as first:
        assert sign_in(first, keys.supervisor).status_code == 303
        cookie = first.cookies.get("rw_session")
    secret_file = home / "session_secret"
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert len(secret_file.read_text().strip()) >= 32
    with make_client(mounted(backend)) as second:  # a restart reads the same secret
        second.cookies.set("rw_session", cookie)
        assert second.get("/ui/queue", follow_redirects=False).status_code == 200
    monkeypatch.setenv("RISKWARN_SESSION_SECRET", "another-secret-" + "x" * 32)
    with make_client(mounted(backend)) as third:  # the environment's secret wins
        third.cookies.set("rw_session", cookie)
        assert third.get("/ui/queue", follow_redirects=False).status_code == 303


def test_pages_carry_security_headers(supervisor: Any) -> None:
    r = supervisor.get("/ui/queue")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-frame-options"] == "DENY"


# queue --------------------------------------------------------------------------------


def test_the_queue_lists_the_latest_snapshot_in_risk_order(bench: Bench, supervisor: Any) -> None:
    current = _in_queue(bench)
    body = supervisor.get("/ui/api/queue").json()
    assert body["total"] == len(current) > 0
    risks = [r["risk"] for r in body["rows"]]
    assert risks == sorted(risks, reverse=True)
    by_id = {s["dispute_id"]: s for s in current}
    for row in body["rows"]:
        snap = by_id[row["dispute_id"]]
        assert row["risk"] == pytest.approx(snap["risk"]) and row["model_tier"] == snap["tier"]
        if snap["previous_risk"] is None:
            assert row["change"] is None
        else:
            assert row["change"] == pytest.approx(snap["risk"] - snap["previous_risk"])
    html = supervisor.get("/ui/queue").text
    ids = re.findall(r'<tr class="row tier-(\w+)" data-dispute="([^"]+)"', html)
    assert [d for _, d in ids] == [r["dispute_id"] for r in body["rows"]]
    assert [t for t, _ in ids] == [r["tier"] for r in body["rows"]]
    assert "风险队列" in html and "乡镇/街道" in html


def _paging_app(served: Served, path: Path, n_extra_runs: int = 0) -> tuple[Any, pd.DataFrame]:
    """A store whose latest snapshot holds every dispute of the county with a known risk."""
    store, keys = fresh_store(served, path)
    ds = served.dataset
    rng = np.random.default_rng(5)
    risk = rng.beta(0.6, 8, len(ds.disputes))
    tiers = np.array(TIERS)[np.digitize(risk, [0.05, 0.15, 0.35])]
    as_of = ds.end.normalize().to_pydatetime()
    frame = pd.DataFrame(
        {"dispute_id": ds.disputes["dispute_id"], "risk": risk, "tier": tiers}
    ).merge(ds.disputes[["dispute_id", "grid_id", "category"]], on="dispute_id")
    frame = frame.merge(ds.grids[["grid_id", "township"]], on="grid_id", how="left")
    store.add_snapshots(
        {"dispute_id": d, "as_of": as_of, "model_version": "t", "risk": float(r), "tier": t}
        for d, r, t in zip(frame["dispute_id"], frame["risk"], frame["tier"], strict=True)
    )
    backend = SimpleNamespace(
        store=store, scorer=Scorer(load_model(tracking_uri=served.tracking_uri), ds)
    )
    client = make_client(mounted(backend, secret=SECRET, per_page=50))
    assert sign_in(client, keys.supervisor).status_code == 303
    return client, frame.sort_values(["risk", "dispute_id"], ascending=[False, True])


@pytest.fixture(scope="module")
def paging(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    client, frame = _paging_app(served, tmp_path_factory.mktemp("paging") / "service.db")
    with client:
        yield client, frame


def test_the_queue_pages_through_every_case_on_the_server(paging: tuple) -> None:
    client, frame = paging
    pages = math.ceil(len(frame) / 50)
    seen: list[str] = []
    for page in range(1, pages + 1):
        body = client.get("/ui/api/queue", params={"page": page}).json()
        assert body["total"] == len(frame) and body["pages"] == pages and body["page"] == page
        assert len(body["rows"]) == (50 if page < pages else len(frame) - 50 * (pages - 1))
        assert [r["position"] for r in body["rows"]] == list(
            range(50 * (page - 1) + 1, 50 * (page - 1) + 1 + len(body["rows"]))
        )
        seen += [r["dispute_id"] for r in body["rows"]]
    assert seen == list(frame["dispute_id"])
    beyond = client.get("/ui/api/queue", params={"page": pages + 7}).json()
    assert beyond["page"] == pages
    html = client.get("/ui/queue", params={"page": 2}).text
    assert f"第 2 / {pages} 页，共 {len(frame)} 件" in html
    assert 'href="/ui/queue?page=3"' in html and 'href="/ui/queue"' in html


@pytest.mark.parametrize(
    ("param", "column"),
    [("tier", "tier"), ("township", "township"), ("grid", "grid_id"), ("category", "category")],
)
def test_filters_narrow_the_queue(paging: tuple, param: str, column: str) -> None:
    client, frame = paging
    value = frame[column].value_counts().index[-1]  # the rarest value: a real narrowing
    expected = frame.loc[frame[column] == value]
    body = client.get("/ui/api/queue", params={param: value}).json()
    assert body["total"] == len(expected) < len(frame)
    assert [r["dispute_id"] for r in body["rows"]] == list(expected["dispute_id"][:50])
    assert all(r[column] == value for r in body["rows"])


def test_filters_combine_and_search_finds_ids(paging: tuple) -> None:
    client, frame = paging
    some = frame.iloc[3]
    both = client.get(
        "/ui/api/queue", params={"township": some["township"], "category": some["category"]}
    ).json()
    expected = frame.loc[
        (frame["township"] == some["township"]) & (frame["category"] == some["category"])
    ]
    assert both["total"] == len(expected)
    found = client.get("/ui/api/queue", params={"q": some["dispute_id"]}).json()
    assert [r["dispute_id"] for r in found["rows"]] == [some["dispute_id"]]
    part = some["dispute_id"][:-1]
    partial = client.get("/ui/api/queue", params={"q": part}).json()
    assert partial["total"] == int(frame["dispute_id"].str.contains(part, regex=False).sum())
    nothing = client.get("/ui/queue", params={"q": "no-such-id%_"})
    assert "没有符合条件的纠纷" in nothing.text
    bad = client.get("/ui/api/queue", params={"tier": "purple", "page": "x"}).json()
    assert bad["total"] == len(frame) and bad["page"] == 1


# case and model pages -----------------------------------------------------------------


def _in_queue(bench: Bench) -> list[dict]:
    """The latest snapshot run (the queue), riskiest first."""
    latest = bench.store.latest_snapshots()
    as_of = max(s["as_of"] for s in latest)
    return sorted((s for s in latest if s["as_of"] == as_of), key=lambda s: -s["risk"])


def _first_open(bench: Bench) -> str:
    return _in_queue(bench)[0]["dispute_id"]


def test_the_case_page_explains_in_chinese_and_english(bench: Bench, supervisor: Any) -> None:
    dispute = _first_open(bench)
    data = supervisor.get(f"/ui/api/case?id={dispute}").json()
    assert data["model_version"] == str(bench.scorer.model.version)
    assert data["reasons"], "the riskiest case has reasons"
    for reason in data["reasons"]:
        assert reason["contribution"] > 0
        assert reason["text_zh"] == REGISTRY.reason(reason["feature"], reason["value"], "zh")
    total = data["base_value"] + sum(c["contribution"] for c in data["contributions"])
    assert len(data["contributions"]) == len(bench.scorer.model.feature_names)
    html = html_lib.unescape(supervisor.get(f"/ui/case?id={dispute}").text)
    # supervisors read what raises and lowers the risk, in words and percent, no log-odds
    up = [
        c
        for c in data["contributions"]
        if c["contribution"] > 0 and not REGISTRY.absent(c["feature"], c["value"])
    ][:5]
    shown = re.findall(r'<li data-feature="([^"]+)" data-direction="up">', html)
    assert shown == [c["feature"] for c in up]
    for reason in up:
        assert reason["text_zh"] in html
    assert "推高风险" in html and 'class="chart waterfall"' not in html and "对数几率" not in html
    explain = html_lib.unescape(supervisor.get(f"/ui/case?id={dispute}&view=explain").text)
    assert 'class="chart waterfall"' in explain and f"{total:.2f}".replace("-", "") in explain
    assert 'class="chart sparkline"' in html and 'class="chart network"' in html
    assert "当事人关系网络" in html and "案件经过" in html
    english = supervisor.get("/ui/case", params={"id": dispute, "lang": "en"})
    assert "rw_lang=en" in english.headers["set-cookie"]
    for reason in up:
        assert reason["text_en"] in html_lib.unescape(english.text)
    assert "What raises the risk" in english.text
    again = supervisor.get(f"/ui/case?id={dispute}")  # the cookie keeps the choice
    assert "What raises the risk" in again.text
    supervisor.get("/ui/queue", params={"lang": "zh"})


def test_the_case_page_shows_only_pseudonymous_people(bench: Bench, supervisor: Any) -> None:
    ds = bench.scorer.dataset
    dispute = _first_open(bench)
    data = supervisor.get(f"/ui/api/case?id={dispute}").json()
    parties = set(ds.dispute_parties.loc[ds.dispute_parties["dispute_id"] == dispute, "person_id"])
    assert {p["person_id"] for p in data["people"]} == parties
    for p in data["people"]:
        assert set(p) == {"person_id", "role", "age_band", "gender", "flags"}
    assert {n["person_id"] for n in data["network"]["nodes"] if n["party"]} == parties
    as_of = pd.Timestamp(data["as_of"])
    assert all(pd.Timestamp(e["at"]) <= as_of for e in data["timeline"])
    [registered] = [e for e in data["timeline"] if e["kind"] == "registration"]
    reported = ds.disputes.loc[ds.disputes["dispute_id"] == dispute, "reported_at"].iloc[0]
    assert pd.Timestamp(registered["at"]) == reported
    events = [e for e in data["timeline"] if e["kind"] == "event"]
    assert all(pd.Timestamp(e["at"]) >= reported for e in events)
    stamps = [pd.Timestamp(e["at"]) for e in data["timeline"]]
    assert stamps == sorted(stamps)


def _with_rows(frame: pd.DataFrame, rows: list[dict[str, Any]]) -> pd.DataFrame:
    added = pd.DataFrame(rows, columns=frame.columns)
    return pd.concat([frame, added], ignore_index=True).astype(frame.dtypes.to_dict())


def test_the_case_marks_recent_incidents_among_ties_and_flags_people(
    bench: Bench, supervisor: Any
) -> None:
    """A party's neighbour was hurt a month ago and the other party is under care for a
    severe mental disorder: the network rings the neighbour, the people table and the
    network show the flag."""
    ds = bench.scorer.dataset
    dispute = _first_open(bench)
    as_of = pd.Timestamp(bench.store.snapshots_for(dispute)[-1]["as_of"])
    party_rows = ds.dispute_parties.loc[ds.dispute_parties["dispute_id"] == dispute]
    tied, flagged = sorted(party_rows["person_id"].astype(str))[:2]
    stranger = "P-NEIGHBOUR"  # a new person, so every mark on them comes from this test
    tables = ds.tables()
    tables["persons"] = _with_rows(
        ds.persons,
        [
            {
                **ds.persons.loc[ds.persons["person_id"] == tied].iloc[0].to_dict(),
                "person_id": stranger,
            }
        ],
    )
    tables["relationships"] = _with_rows(
        ds.relationships,
        [
            {
                "person_a": tied,
                "person_b": stranger,
                "kind": "neighbor",
                "since": None,
                "until": None,
            }
        ],
    )
    tables["incidents"] = _with_rows(
        ds.incidents,
        [
            {
                "incident_id": "I-TEST",
                "occurred_at": as_of - pd.Timedelta(days=30),
                "kind": "serious_injury",
                "dispute_id": None,
            }
        ],
    )
    tables["incident_persons"] = _with_rows(
        ds.incident_persons, [{"incident_id": "I-TEST", "person_id": stranger, "role": "victim"}]
    )
    tables["person_flags"] = _with_rows(
        ds.person_flags,
        [
            {
                "person_id": flagged,
                "flag": "severe_mental_disorder",
                "level": 3,
                "start_date": as_of - pd.Timedelta(days=100),
                "end_date": None,
            }
        ],
    )
    scorer = Scorer(bench.scorer.model, type(ds).from_frames(**tables))
    backend = SimpleNamespace(store=bench.store, scorer=scorer)
    with make_client(mounted(backend, secret=SECRET)) as client:
        sign_in(client, bench.keys.supervisor)
        html = client.get(f"/ui/case?id={dispute}").text
        english = client.get("/ui/case", params={"id": dispute, "lang": "en"}).text
        data = client.get(f"/ui/api/case?id={dispute}").json()
    nodes = {n["person_id"]: n for n in data["network"]["nodes"]}
    assert nodes[stranger]["incident"] and not nodes[stranger]["party"]
    assert nodes[flagged]["flagged"] and nodes[flagged]["party"]

    network = html.split('id="network"', 1)[1]
    ringed = re.search(rf'<g class="node incident" data-person="{stranger}">(.*?)</g>', network)
    assert ringed, "the neighbour with a recent incident is drawn and ringed"
    assert 'stroke="#c62828"' in ringed[1] and f"{stranger} (近期涉事)" in ringed[1]
    a, b = sorted((tied, stranger))
    assert f"<title>{a} — {b}: 邻居</title>" in network
    marked = re.search(
        rf'<g class="node party( incident)? flagged" data-person="{flagged}">(.*?)</g>', network
    )
    assert marked and 'class="flag-mark"' in marked[2] and "重点人群" in marked[2]

    people = html.split('id="people"', 1)[1].split("</table>", 1)[0]
    row = re.search(rf'<td class="mono">{flagged}</td>(.*?)</tr>', people, re.S)
    assert row and '<span class="tag flag">严重精神障碍患者 · 危险等级3（最高5级）</span>' in row[1]
    assert (
        "Severe mental disorder · danger level 3 (highest 5)" in english
        and f"{stranger} (recent incident)" in english
    )


def test_viewing_a_case_is_audited(bench: Bench, supervisor: Any) -> None:
    dispute = _first_open(bench)
    supervisor.get(f"/ui/case?id={dispute}")
    entry = bench.store.audit_entries(limit=1, dispute_id=dispute)[0]
    assert entry["key_name"] == "county-centre" and entry["action"] == "explain"
    assert entry["model_version"] == str(bench.scorer.model.version)


def test_an_unknown_case_is_a_404(supervisor: Any) -> None:
    assert supervisor.get("/ui/case?id=NOPE").status_code == 404
    assert supervisor.get("/ui/api/case?id=NOPE").status_code == 404


def test_the_model_page_shows_card_metrics_calibration_and_groups(
    bench: Bench, supervisor: Any
) -> None:
    html = supervisor.get("/ui/model").text
    meta = bench.scorer.model.metadata.model_dump(mode="json")
    assert str(bench.scorer.model.version) in html
    assert 'class="chart calibration"' in html and 'id="groups"' in html
    assert "ROC AUC" in html and f"{meta['metrics']['lightgbm']['roc_auc']['value']:.3f}" in html
    served_metrics = [v for v in meta["metrics"]["lightgbm"].values() if isinstance(v, dict)]
    intervals = any(v.get("lo") is not None and not math.isnan(v["lo"]) for v in served_metrics)
    assert ('id="no-intervals"' in html) is not intervals
    card_title = meta["model_card"].splitlines()[0].lstrip("# ").replace("`", "").strip()
    assert card_title and card_title in re.sub(r"<[^>]+>", "", html)


def test_the_model_page_names_intervals_only_when_it_has_them(
    served: Served, bench: Bench, supervisor: Any
) -> None:
    """The test model was trained without bootstrap resamples: no "95%" in the heading."""
    heading = re.compile(r'<h2 id="metrics-title">([^<]+)</h2>')
    html = supervisor.get("/ui/model").text
    assert 'id="no-intervals"' in html
    assert heading.search(html)[1] == "评估指标"  # type: ignore[index]
    model = copy.copy(bench.scorer.model)
    metrics = copy.deepcopy(model.metadata.model_dump(mode="json")["metrics"])
    for value in metrics["lightgbm"].values():
        if isinstance(value, dict) and value.get("value") is not None:
            value.update(lo=value["value"] * 0.9, hi=value["value"] * 1.1)
    model.metadata = model.metadata.with_(metrics=metrics)
    backend = SimpleNamespace(store=bench.store, scorer=SimpleNamespace(model=model))
    with make_client(mounted(backend, secret=SECRET)) as client:
        sign_in(client, bench.keys.supervisor)
        with_intervals = client.get("/ui/model").text
        english = client.get("/ui/model", params={"lang": "en"}).text
    assert heading.search(with_intervals)[1] == "评估指标（95% 区间）"  # type: ignore[index]
    assert heading.search(english)[1] == "Metrics (95% intervals)"  # type: ignore[index]
    assert 'id="no-intervals"' not in with_intervals


def test_the_model_card_names_its_data_without_the_training_machine_path(
    served: Served, bench: Bench, supervisor: Any
) -> None:
    assert str(served.data) in bench.scorer.model.metadata.model_card
    html = supervisor.get("/ui/model").text
    assert str(served.data) not in html and str(served.data.parent) not in html
    assert f"Dataset: <code>{served.data.name}</code>" in html


def test_the_model_card_is_rendered_without_running_its_html(served: Served, bench: Bench) -> None:
    model = copy.copy(bench.scorer.model)
    model.metadata = model.metadata.with_(model_card="# Card\n\n<script>alert(1)</script>\n")
    backend = SimpleNamespace(store=bench.store, scorer=SimpleNamespace(model=model))
    with make_client(mounted(backend, secret=SECRET)) as client:
        sign_in(client, bench.keys.supervisor)
        html = client.get("/ui/model").text
    assert "<h1>Card</h1>" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_the_case_page_tells_the_story(bench: Bench, supervisor: Any) -> None:
    """Summary, amount, status since, event notes, the timeline by month folded beyond the
    latest 20 entries; a closed case says so and offers no raise."""
    ds = bench.scorer.dataset
    ev = ds.dispute_events
    open_ids = [s["dispute_id"] for s in _in_queue(bench)]
    counts = ev.loc[ev["dispute_id"].isin(open_ids)].groupby("dispute_id").size()
    dispute = str(counts.idxmax())
    d = ds.disputes.loc[ds.disputes["dispute_id"] == dispute].iloc[0]
    html = html_lib.unescape(supervisor.get(f"/ui/case?id={dispute}").text)
    if isinstance(d["summary"], str) and d["summary"]:
        assert f'id="case-summary">{d["summary"]}<' in html
    if pd.notna(d["amount_involved"]):
        assert 'id="case-amount">涉及金额：' in html and "元" in html
    assert re.search(r'id="case-status">在办（自\d{4}-\d\d-\d\d）<', html)
    data = supervisor.get(f"/ui/api/case?id={dispute}").json()
    noted = [e for e in data["timeline"] if e.get("note")]
    for e in noted[-3:]:
        assert e["note"] in html
    entries = len(data["timeline"])
    opened = re.search(r'<table class="timeline" id="timeline">(.*?)</table>', html, re.S)[1]
    assert len(re.findall(r'<tr class="tl-(?!month)', opened)) == min(20, entries)
    assert re.search(r'<tr class="tl-month"><th colspan="2">\d{4}-\d\d</th>', opened)
    if entries > 20:
        assert f"更早的 {entries - 20} 条记录" in html
    closed_ids = set(ev.loc[ev["kind"] == "closed", "dispute_id"]) - set(
        ev.loc[ev["kind"] == "reopened", "dispute_id"]
    )
    closed = sorted(closed_ids - set(open_ids))[0]
    page = html_lib.unescape(supervisor.get(f"/ui/case?id={closed}").text)
    assert re.search(r'id="case-status">已结案（\d{4}-\d\d-\d\d）<', page)
    assert 'id="closed-no-raise"' in page and 'id="raise-tier"' not in page
    token = csrf_of(page)
    r = supervisor.post(
        f"/ui/case/actions/raise_tier?id={closed}",
        data={"csrf": token, "tier": "red", "reason": "复查"},
    )
    assert r.status_code == 409 and "已结案" in error_of(r.text)
    assert not [a for a in bench.store.actions_for(closed) if a["kind"] == "raise_tier"]


# actions ------------------------------------------------------------------------------


def _case_form(client: Any, dispute: str) -> str:
    return csrf_of(client.get(f"/ui/case?id={dispute}").text)


def _list_people(bench: Bench, town: str, *names: str) -> None:
    for name in names:
        person = Member(name=name, role="mediator", level="township", township=town)
        bench.store.add_member(person, by="ops", request_id="t")


def test_actions_on_a_warned_case_are_its_warning_events(bench: Bench, supervisor: Any) -> None:
    """Acknowledge, assign and note on a case with an open warning: the actions (the queue
    reads them) and the warning's events, one audit row each, the same on the page and in
    the API's history."""
    dispute = _first_open(bench)
    [warning] = bench.store.open_warnings([dispute]).values()
    assert warning.state == "issued"
    town = supervisor.get(f"/ui/api/case?id={dispute}").json()["township"]
    page = supervisor.get(f"/ui/case?id={dispute}").text
    assert 'id="no-mediators"' in page  # nobody to assign to before an admin lists them
    assert f'data-warning="{warning.warning_id}" data-state="issued"' in page
    _list_people(bench, town, "王调解员", "李调解员")
    token = _case_form(supervisor, dispute)
    r = supervisor.post(
        f"/ui/case/actions/assign?id={dispute}", data={"csrf": token, "assignee": "外乡镇某人"}
    )
    assert r.status_code == 400 and "人员名单" in error_of(r.text)
    posts = [
        ("acknowledge", {}),
        ("assign", {"assignee": "王调解员"}),
        ("note", {"note": "已电话联系双方，约定周五面谈"}),
    ]
    for kind, fields in posts:
        r = supervisor.post(
            f"/ui/case/actions/{kind}?id={dispute}",
            data={"csrf": token, **fields},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == f"/ui/case?id={dispute}"
    stored = bench.store.actions_for(dispute)
    assert [a["kind"] for a in stored][-3:] == ["acknowledge", "assign", "note"]
    assert all(a["key_name"] == "county-centre" for a in stored)
    record, history = bench.store.warning(warning.warning_id)
    assert (record.state, record.owner) == ("assigned", "王调解员")
    assert [(e.kind, e.by) for e in history][-3:] == [
        ("acknowledge", "county-centre"), ("assign", "county-centre"), ("note", "county-centre"),
    ]  # fmt: skip
    audit = [e["action"] for e in bench.store.audit_entries(limit=20, dispute_id=dispute)]
    assert {"warning:acknowledge", "warning:assign", "warning:note"} <= set(audit)
    assert not {"action:acknowledge", "action:assign", "action:note"} & set(audit)  # one trail
    page = html_lib.unescape(supervisor.get(f"/ui/case?id={dispute}").text)
    assert "王调解员" in page and "已电话联系双方" in page
    assert 'id="do-acknowledge"' not in page and "county-centre" in page  # who and when
    events = re.search(r'<ul class="history" id="warning-events">(.*?)</ul>', page, re.S)[1]
    shown = re.findall(r'<li data-kind="([a-z_]+)">', events)
    assert shown == [e.kind for e in reversed(history)]  # newest first, as the API's, reversed
    assert 'data-state="assigned"' in page and 'id="warning-owner">王调解员<' in page
    data = supervisor.get(f"/ui/api/case?id={dispute}").json()["warning"]
    assert (data["warning_id"], data["state"], data["owner"]) == (
        warning.warning_id, "assigned", "王调解员",
    )  # fmt: skip
    again = supervisor.post(f"/ui/case/actions/acknowledge?id={dispute}", data={"csrf": token})
    assert again.status_code == 200 and "未重复记录" in again.text
    kinds = [a["kind"] for a in bench.store.actions_for(dispute)]
    assert kinds.count("acknowledge") == 1  # idempotent: a second click logs nothing
    assert len(bench.store.warning(warning.warning_id)[1]) == len(history)
    row = next(
        r
        for r in supervisor.get("/ui/api/queue", params={"q": dispute}).json()["rows"]
        if r["dispute_id"] == dispute
    )
    assert row["assignee"] == "王调解员" and row["ack"]["by"] == "county-centre"
    assert row["notes"] >= 1 and row["last_note"]["note"] == "已电话联系双方，约定周五面谈"
    queue = supervisor.get("/ui/queue", params={"q": dispute}).text
    shown = re.search(
        rf'data-dispute="{dispute}".*?<td class="notes"><span class="note-count" '
        r'title="([^"]*)">✎ (\d+)</span>',
        queue,
        re.S,
    )
    assert shown, "the queue shows the case's notes"
    assert int(shown[2]) == row["notes"]
    assert "已电话联系双方，约定周五面谈" in html_lib.unescape(shown[1])


def test_a_warned_case_is_acknowledged_by_assigning_it(bench: Bench, supervisor: Any) -> None:
    """Assigning an unacknowledged warning acknowledges it first (whoever assigns it has
    seen it); a step the warning cannot take is refused with the loop's reason."""
    warned = bench.store.open_warnings()
    dispute = next(
        s["dispute_id"]
        for s in _in_queue(bench)[1:]
        if s["dispute_id"] in warned and warned[s["dispute_id"]].state == "issued"
    )
    town = supervisor.get(f"/ui/api/case?id={dispute}").json()["township"]
    _list_people(bench, town, "赵调解员")
    token = _case_form(supervisor, dispute)
    r = supervisor.post(
        f"/ui/case/actions/assign?id={dispute}", data={"csrf": token, "assignee": "赵调解员"}
    )
    assert r.status_code == 200
    record, history = bench.store.warning(warned[dispute].warning_id)
    assert [e.kind for e in history][-2:] == ["acknowledge", "assign"]
    assert [a["kind"] for a in bench.store.actions_for(dispute)][-2:] == ["acknowledge", "assign"]
    bench.store.apply_warning_events(
        [
            WarningEvent(warning_id=record.warning_id, kind=k, at=record.updated_at, **f)
            for k, f in (("act", {"action": "visit"}), ("resolve", {}))
        ],
        load_policy(),
    )
    assert bench.store.warning(record.warning_id)[0].state == "resolved"
    before = len(bench.store.actions_for(dispute))
    r = supervisor.post(
        f"/ui/case/actions/assign?id={dispute}", data={"csrf": token, "assignee": "赵调解员"}
    )
    assert r.status_code == 409 and "预警当前的状态不允许" in error_of(r.text)
    assert len(bench.store.actions_for(dispute)) == before  # nothing written


def test_raising_a_warned_case_raises_its_warning_never_lowers_it(
    bench: Bench, supervisor: Any
) -> None:
    warned = bench.store.open_warnings()
    dispute = next(
        s["dispute_id"]
        for s in reversed(_in_queue(bench))
        if s["dispute_id"] in warned and warned[s["dispute_id"]].tier == "orange"
    )
    wid = warned[dispute].warning_id
    page = supervisor.get(f"/ui/case?id={dispute}").text
    offered = re.search(r'<select name="tier" id="raise-tier">(.*?)</select>', page, re.S)[1]
    assert re.findall(r'value="(\w+)"', offered) == ["red"]  # above the warning's tier
    url = f"/ui/case/actions/raise_tier?id={dispute}"
    token = csrf_of(page)
    r = supervisor.post(url, data={"csrf": token, "tier": "orange", "reason": "复核"})
    assert r.status_code == 409 and "只能调高" in error_of(r.text)
    r = supervisor.post(url, data={"csrf": token, "tier": "red", "reason": "扬言报复"})
    assert r.status_code == 200
    record, history = bench.store.warning(wid)
    assert (record.tier, history[-1].kind, history[-1].note) == ("red", "raise", "扬言报复")
    assert record.owner_level == "county"
    raised = bench.store.raises([dispute], dt.datetime(2100, 1, 1))
    assert raised[dispute]["tier"] == "red"  # the answer's override reads it, as before
    audit = [e["action"] for e in bench.store.audit_entries(limit=5, dispute_id=dispute)]
    assert "warning:raise" in audit and "action:raise_tier" not in audit


def test_actions_on_a_case_without_a_warning_are_stored_and_audited(
    bench: Bench, supervisor: Any
) -> None:
    warned = {w.dispute_id for w in bench.store.warning_records()}
    dispute = next(s["dispute_id"] for s in _in_queue(bench) if s["dispute_id"] not in warned)
    page = supervisor.get(f"/ui/case?id={dispute}").text
    assert 'id="warning"' not in page  # no warning, no loop section
    token = csrf_of(page)
    for kind, fields in (("acknowledge", {}), ("note", {"note": "已走访"})):
        r = supervisor.post(
            f"/ui/case/actions/{kind}?id={dispute}", data={"csrf": token, **fields},
            follow_redirects=False,
        )  # fmt: skip
        assert r.status_code == 303
    audit = {e["action"] for e in bench.store.audit_entries(limit=20, dispute_id=dispute)}
    assert {"action:acknowledge", "action:note"} <= audit
    assert bench.store.warnings_for(dispute) == []


def test_a_tier_can_be_raised_but_never_lowered(bench: Bench, supervisor: Any) -> None:
    warned = bench.store.open_warnings()
    dispute = next(
        s["dispute_id"]
        for s in _in_queue(bench)
        if s["tier"] in ("blue", "yellow") and s["dispute_id"] not in warned
    )
    current = supervisor.get(f"/ui/api/case?id={dispute}").json()["tier"]
    higher = TIERS[TIERS.index(current) + 1]
    token = _case_form(supervisor, dispute)
    url = f"/ui/case/actions/raise_tier?id={dispute}"
    r = supervisor.post(url, data={"csrf": token, "tier": higher}, follow_redirects=False)
    assert r.status_code == 400 and "理由" in error_of(r.text)  # a raise says why
    why = "当事人扬言报复"
    r = supervisor.post(
        url, data={"csrf": token, "tier": higher, "reason": why}, follow_redirects=False
    )
    assert r.status_code == 303
    assert why in supervisor.get(f"/ui/case?id={dispute}").text
    assert supervisor.get(f"/ui/api/case?id={dispute}").json()["tier"] == higher
    queued = supervisor.get("/ui/api/queue", params={"q": dispute}).json()["rows"][0]
    assert queued["tier"] == higher and queued["raised"] is True
    assert supervisor.get("/ui/api/queue", params={"tier": higher, "q": dispute}).json()["total"]
    before = len(bench.store.actions_for(dispute))
    for lower in (current, higher):  # lower than now, and equal to now
        r = supervisor.post(url, data={"csrf": token, "tier": lower, "reason": "r"})
        assert r.status_code == 409
        assert "只能调高" in error_of(r.text)
    r = supervisor.post(url + "&lang=en", data={"csrf": token, "tier": current, "reason": "r"})
    assert "can only be raised, never lowered" in error_of(r.text)
    r = supervisor.post(url, data={"csrf": token, "tier": "purple", "reason": "r"})
    assert r.status_code == 400
    assert len(bench.store.actions_for(dispute)) == before
    assert supervisor.get(f"/ui/api/case?id={dispute}").json()["tier"] == higher
    refused = bench.store.audit_entries(limit=10, dispute_id=dispute)
    assert any(e["action"] == "ui:refused:raise_tier" for e in refused)
    supervisor.get("/ui/queue", params={"lang": "zh"})


def test_refused_actions_audit_only_known_kinds_and_tiers(bench: Bench, supervisor: Any) -> None:
    """The kind comes from the URL and the tier from the form: neither reaches the audit
    log's columns (32 and 16 characters on PostgreSQL) unless it is a known value."""
    dispute = _first_open(bench)
    token = _case_form(supervisor, dispute)
    long_kind = "k" * 200
    r = supervisor.post(f"/ui/case/actions/{long_kind}?id={dispute}", data={"csrf": token})
    assert r.status_code == 404
    r = supervisor.post(
        f"/ui/case/actions/raise_tier?id={dispute}", data={"csrf": token, "tier": "p" * 200}
    )
    assert r.status_code == 400
    refused = [
        e
        for e in bench.store.audit_entries(limit=20, dispute_id=dispute)
        if e["action"].startswith("ui:refused")
    ][:2]
    assert [e["action"] for e in refused] == ["ui:refused:raise_tier", "ui:refused:unknown"]
    assert all(e["tier"] is None for e in refused)
    assert all(len(e["detail"]) < 200 for e in refused)
    assert long_kind not in r.text


class Watched:
    """``target`` with every method call noted as (name, whether it ran on an event loop)."""

    def __init__(self, target: Any, calls: list[tuple[str, bool]]) -> None:
        self._target, self._calls = target, calls

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value

        def watched(*args: Any, **kwargs: Any) -> Any:
            try:
                asyncio.get_running_loop()
                on_loop = True
            except RuntimeError:
                on_loop = False
            self._calls.append((name, on_loop))
            return value(*args, **kwargs)

        return watched


def test_case_work_stays_off_the_event_loop(bench: Bench) -> None:
    """The loop also answers /v1/score: case pages, data and actions read the store and
    score in worker threads, and only a raise scores the case to check it."""
    calls: list[tuple[str, bool]] = []
    backend = SimpleNamespace(
        store=Watched(bench.store, calls), scorer=Watched(bench.scorer, calls)
    )
    dispute = next(
        s["dispute_id"] for s in _in_queue(bench) if not bench.store.actions_for(s["dispute_id"])
    )
    with make_client(mounted(backend, secret=SECRET)) as client:
        assert sign_in(client, bench.keys.supervisor).status_code == 303
        token = _case_form(client, dispute)
        assert client.get(f"/ui/api/case?id={dispute}").status_code == 200
        assert {"score", "snapshots_for", "actions_for", "audit"} <= {n for n, _ in calls}
        start = len(calls)
        r = client.post(
            f"/ui/case/actions/acknowledge?id={dispute}",
            data={"csrf": token},
            follow_redirects=False,
        )
        assert r.status_code == 303
        acknowledged = {name for name, _ in calls[start:]}
        assert {"add_action", "add_actions_warned"} & acknowledged  # with its warning's event
        assert "score" not in acknowledged
        tier = client.get(f"/ui/api/case?id={dispute}").json()["tier"]
        start = len(calls)
        r = client.post(
            f"/ui/case/actions/raise_tier?id={dispute}",
            data={"csrf": token, "tier": tier, "reason": "r"},
        )
        assert r.status_code == 409  # not above the current tier: refused, nothing stored
        assert "score" in {name for name, _ in calls[start:]}
    on_loop = sorted({name for name, loop in calls if loop})
    assert not on_loop, f"ran on the event loop: {on_loop}"


def test_forms_without_the_session_token_change_nothing(bench: Bench, supervisor: Any) -> None:
    dispute = _first_open(bench)
    before = len(bench.store.actions_for(dispute))
    for token in ("", "forged-token"):
        r = supervisor.post(
            f"/ui/case/actions/assign?id={dispute}", data={"csrf": token, "assignee": "某人"}
        )
        assert r.status_code == 403
    with bench.new_client() as stranger:  # no session: sent to sign in, nothing stored
        r = stranger.post(
            f"/ui/case/actions/raise_tier?id={dispute}",
            data={"csrf": "x", "tier": "red"},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/ui/signin?next=%2Fui%2Fqueue"
    assert len(bench.store.actions_for(dispute)) == before


def test_bad_action_forms_are_refused_with_a_message(bench: Bench, supervisor: Any) -> None:
    dispute = _first_open(bench)
    token = _case_form(supervisor, dispute)
    r = supervisor.post(f"/ui/case/actions/assign?id={dispute}", data={"csrf": token})
    assert r.status_code == 400 and "调解员姓名" in error_of(r.text)
    r = supervisor.post(f"/ui/case/actions/delete?id={dispute}", data={"csrf": token})
    assert r.status_code == 404
    r = supervisor.post("/ui/case/actions/acknowledge?id=NOPE", data={"csrf": token})
    assert r.status_code == 404


def test_a_case_the_model_cannot_score_is_a_clear_4xx(served: Served, tmp_path: Path) -> None:
    store, keys = fresh_store(served, tmp_path / "service.db")
    row = served.dataset.disputes.iloc[0]
    before = (row["reported_at"] - pd.Timedelta(days=1)).to_pydatetime()
    store.add_snapshots(  # a snapshot dated before the dispute existed: bad data upstream
        [
            {
                "dispute_id": row["dispute_id"],
                "as_of": before,
                "model_version": "x",
                "risk": 0.5,
                "tier": "red",
            }
        ]
    )
    scorer = Scorer(load_model(tracking_uri=served.tracking_uri), served.dataset)
    with make_client(mounted(SimpleNamespace(store=store, scorer=scorer), secret=SECRET)) as c:
        sign_in(c, keys.supervisor)
        page = c.get(f"/ui/case?id={row['dispute_id']}")
        data = c.get(f"/ui/api/case?id={row['dispute_id']}")
    assert page.status_code == data.status_code == 400
    assert "as_of" in error_of(page.text) and "as_of" in data.json()["error"]


def test_before_any_snapshot_the_queue_says_what_to_do(served: Served, tmp_path: Path) -> None:
    store, keys = fresh_store(served, tmp_path / "service.db")
    scorer = Scorer(load_model(tracking_uri=served.tracking_uri), served.dataset)
    with make_client(mounted(SimpleNamespace(store=store, scorer=scorer), secret=SECRET)) as c:
        sign_in(c, keys.admin)
        page = c.get("/ui/queue")
        data = c.get("/ui/api/queue").json()
    assert page.status_code == 200 and "POST /v1/snapshot" in page.text
    assert data["total"] == 0 and data["as_of"] is None and data["rows"] == []


def test_the_service_serves_the_workbench_and_a_session_opens_no_api(app: App) -> None:
    client: Any = app.client
    assert client.get("/ui/queue", follow_redirects=False).status_code == 303
    assert sign_in(client, app.keys.supervisor).status_code == 303
    assert client.get("/ui/queue").status_code == 200
    assert client.get("/ui/static/style.css").status_code == 200
    # The workbench's cookie is not a key: the API still wants its bearer header.
    assert client.get("/v1/model").status_code == 401
    assert client.post("/v1/score", json={"dispute_id": "D00001"}).status_code == 401


# ids in links --------------------------------------------------------------------------------

PRINTABLE = [chr(c) for c in range(0x21, 0x7F)]  # every printable ASCII character but space
STRANGE_IDS = [
    *PRINTABLE,
    "".join(PRINTABLE[:40]) + " " + "".join(PRINTABLE[40:]),
    "..",
    "a/../b",
    "%2F%3F",
    "纠纷/甲-1",
    "案件#二?x=1",
    "調解&三 四",
]


def test_any_id_the_contract_allows_links_from_the_queue_to_its_case(
    served: Served, tmp_path: Path
) -> None:
    """Ids with slashes, dots, query and fragment characters, percent signs and CJK make
    working links: the queue lists them, and each link opens that case's page."""
    from riskwarn import parse_records

    ds = served.dataset
    model = load_model(tracking_uri=served.tracking_uri)
    template = ds.disputes.iloc[-1]
    parties = ds.dispute_parties.loc[ds.dispute_parties["dispute_id"] == template["dispute_id"]]
    disputes = [
        {**{k: _plain(v) for k, v in template.items()}, "dispute_id": d} for d in STRANGE_IDS
    ]
    links = [
        {"dispute_id": d, "person_id": p, "role": r}
        for d in STRANGE_IDS
        for p, r in zip(parties["person_id"], parties["role"], strict=True)
    ]
    frames = parse_records({"disputes": disputes, "dispute_parties": links}, ds)
    store, keys = fresh_store(served, tmp_path / "service.db")
    store.append_history(frames)
    scorer = Scorer(model, store.read_dataset())
    as_of = ds.end.normalize()
    store.add_snapshots(
        {
            "dispute_id": d,
            "as_of": as_of.to_pydatetime(),
            "model_version": "t",
            "risk": 0.9,
            "tier": "red",
        }
        for d in STRANGE_IDS
    )
    backend = SimpleNamespace(store=store, scorer=scorer)
    with make_client(mounted(backend, secret=SECRET, per_page=500)) as client:
        assert sign_in(client, keys.supervisor).status_code == 303
        queue = client.get("/ui/queue")
        assert queue.status_code == 200
        found = {
            html_lib.unescape(d): html_lib.unescape(href)
            for d, href in re.findall(
                r'data-dispute="([^"]*)".*?<a href="([^"]*)" class="case-link"', queue.text, re.S
            )
        }
        assert set(STRANGE_IDS) <= set(found)
        for dispute in STRANGE_IDS:
            page = client.get(found[dispute])
            assert page.status_code == 200, (dispute, found[dispute])
            shown = re.search(r'<span id="case-id">([^<]*)</span>', page.text)
            assert shown and html_lib.unescape(shown[1]) == dispute
            data = client.get(found[dispute].replace("/ui/case?", "/ui/api/case?"))
            assert data.json()["dispute_id"] == dispute
        token = csrf_of(client.get(found["纠纷/甲-1"]).text)
        done = client.post(
            "/ui/case/actions/acknowledge",
            params={"id": "纠纷/甲-1"},
            data={"csrf": token},
            follow_redirects=False,
        )
        assert done.status_code == 303 and client.get(done.headers["location"]).status_code == 200
        assert [a["kind"] for a in store.actions_for("纠纷/甲-1")] == ["acknowledge"]


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


def test_the_people_page_edits_the_one_roster_warnings_are_routed_from(
    bench: Bench, supervisor: Any
) -> None:
    ds = bench.scorer.dataset
    grid = ds.grids.iloc[0]
    town, grid_id = str(grid["township"]), str(grid["grid_id"])
    with bench.new_client() as admin:
        assert sign_in(admin, bench.keys.admin).status_code == 303
        page = admin.get("/ui/mediators").text
        assert 'id="add-mediator"' in page and "人员名单" in page
        token = csrf_of(page)
        for fields in (
            {"name": "网格员周", "role": "mediator", "level": "grid", "township": town,
             "grid": grid_id},
            {"name": "县领导吴", "role": "lead", "level": "county", "township": town},
        ):  # fmt: skip
            r = admin.post("/ui/mediators", data={"csrf": token, **fields})
            assert r.status_code == 200
        r = admin.post(
            "/ui/mediators",
            data={"csrf": token, "name": "无网格", "role": "mediator", "level": "grid",
                  "township": town},
        )  # fmt: skip
        assert r.status_code == 400 and "needs a grid id" in error_of(r.text)
        listed = {m["name"]: m for m in bench.store.members()}
        assert listed["网格员周"]["grid"] == grid_id and listed["县领导吴"]["township"] is None
        roster = bench.store.roster()
        assert roster.pick("county", tier="red", township=town) == "县领导吴"
        assert "网格员周" in [m.name for m in roster.serving(None, town, grid_id)]
        page = admin.get("/ui/mediators").text
        assert re.search(r'data-level="grid" data-role="mediator">.*?网格员周', page)
        r = admin.post(
            "/ui/mediators", data={"csrf": token, "remove": str(listed["县领导吴"]["id"])}
        )
        assert r.status_code == 200 and "县领导吴" not in {m["name"] for m in bench.store.members()}
    refused = supervisor.post(
        "/ui/mediators", data={"csrf": csrf_of(supervisor.get("/ui/queue").text), "name": "x"}
    )
    assert refused.status_code == 403
    actions = {e["action"] for e in bench.store.audit_entries(limit=50)}
    assert {"roster:add", "roster:remove"} <= actions
