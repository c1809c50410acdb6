"""The person report: admin only (API and workbench page), audited, in Chinese, with the
records' keys, the disputes' current tiers and how much of each score is association."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from riskwarn.features import open_disputes

from .conftest import App, Served


def _person(app: App, served: Served) -> str:
    """A party of an open dispute who has a flag."""
    day = served.dataset.end.normalize() + pd.Timedelta(hours=12)
    r = app.client.post(
        "/v1/snapshot", json={"as_of": day.isoformat()}, headers=app.keys.header("admin")
    )
    assert r.status_code == 200, r.text
    parties = served.dataset.dispute_parties
    live = parties[parties["dispute_id"].isin(set(open_disputes(served.dataset, day)))]
    flags = served.dataset.person_flags
    return str(flags[flags["person_id"].isin(set(live["person_id"]))]["person_id"].iloc[0])


@pytest.mark.parametrize("role", ["scorer", "supervisor"])
def test_only_admins_get_the_report(app: App, served: Served, role: str) -> None:
    person = str(served.dataset.persons["person_id"].iloc[0])
    r = app.client.get(f"/v1/records/person/{person}", headers=app.keys.header(role))
    assert r.status_code == 403
    assert not [e for e in app.store.audit_entries() if e["action"] == "report:person"]


def test_the_report_lists_records_tiers_and_association_and_is_audited(
    app: App, served: Served
) -> None:
    person = _person(app, served)
    r = app.client.get(f"/v1/records/person/{person}", headers=app.keys.header("admin"))
    assert r.status_code == 200, r.text
    report = r.json()
    tables = {rec["table"] for rec in report["records"]}
    assert {"persons", "person_flags", "dispute_parties"} <= tables
    assert report["flags"] and all(f["person_id"] == person for f in report["flags"])
    live = [d for d in report["disputes"] if d["open"]]
    assert live and all(d["tier"] in ("red", "orange", "yellow", "blue") for d in live)
    for d in live:
        assert 0.0 <= d["association_share"] <= 1.0 and d["reasons"]
        assert all(isinstance(x["association"], bool) for x in d["reasons"])
    [entry] = [e for e in app.store.audit_entries() if e["action"] == "report:person"]
    assert entry["key_name"] == "ops" and json.loads(entry["detail"])["person_id"] == person
    assert entry["request_id"] == r.headers["x-request-id"]

    unknown = app.client.get("/v1/records/person/P-none", headers=app.keys.header("admin"))
    assert unknown.status_code == 404


def _signed_in(app: App, key: str):  # type: ignore[no-untyped-def]
    form = app.client.get("/ui/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]  # type: ignore[index]
    r = app.client.post(
        "/ui/signin", data={"key": key, "csrf": token, "next": ""}, follow_redirects=False
    )
    assert r.status_code == 303


def test_the_printable_page_is_chinese_admin_only_and_audited(app: App, served: Served) -> None:
    person = _person(app, served)
    app.client.cookies.clear()
    _signed_in(app, app.keys.supervisor)
    refused = app.client.get(f"/ui/person?id={person}")
    assert refused.status_code == 403 and "管理员" in refused.text
    app.client.cookies.clear()
    _signed_in(app, app.keys.admin)
    before = len([e for e in app.store.audit_entries() if e["action"] == "report:person"])
    page = app.client.get(f"/ui/person?id={person}")
    assert page.status_code == 200, page.text
    assert "个人信息报告" in page.text and person in page.text
    assert "他人记录所占比重" in page.text and "@media print" in page.text
    after = [e for e in app.store.audit_entries() if e["action"] == "report:person"]
    assert len(after) == before + 1
    app.client.cookies.clear()
