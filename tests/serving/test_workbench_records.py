"""The workbench's records view (admin only) and the case page's note on recomputed scores,
in process against the service: a correction goes through the admin API's owner, refused
whole with the located error shown, or saved with its history and its recomputed scores;
the expiry dry run lists what would go and deletes nothing."""

from __future__ import annotations

import html
import re
import urllib.parse

import pandas as pd
import pytest

from riskwarn import expiry, load_retention
from riskwarn.clock import get_clock
from riskwarn.features import open_disputes
from riskwarn.serving import record_key

from .conftest import App, Served

RECORDS = "/ui/records"


def _signed_in(app: App, key: str) -> None:
    app.client.cookies.clear()
    form = app.client.get("/ui/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]  # type: ignore[index]
    r = app.client.post(
        "/ui/signin", data={"key": key, "csrf": token, "next": ""}, follow_redirects=False
    )
    assert r.status_code == 303


def _csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]  # type: ignore[index]


@pytest.fixture(scope="module")
def flagged(app: App, served: Served) -> dict:
    """A snapshot of every open dispute, and the flag of a party of one of them."""
    day = served.dataset.end.normalize() + pd.Timedelta(hours=12)
    r = app.client.post(
        "/v1/snapshot", json={"as_of": day.isoformat()}, headers=app.keys.header("admin")
    )
    assert r.status_code == 200, r.text
    parties = served.dataset.dispute_parties
    live = parties[parties["dispute_id"].isin(set(open_disputes(served.dataset, day)))]
    flags = served.dataset.person_flags
    row = flags[flags["person_id"].isin(set(live["person_id"]))].iloc[0]
    own = sorted(set(live.loc[live["person_id"] == row["person_id"], "dispute_id"]))
    level = "" if pd.isna(row["level"]) else str(int(row["level"]))
    return {"key": record_key("person_flags", row.to_dict()), "level": level, "own": own}


def _form(app: App, key: str, **changes: str) -> dict[str, str]:
    page = app.client.get(RECORDS, params={"table": "person_flags", "id": key})
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'name="(was:[^"]+)" value="([^"]*)"', page.text))
    data = {"csrf": _csrf(page.text), "table": "person_flags", "key": key}
    for was, value in fields.items():
        column = was.removeprefix("was:")
        data[was] = html.unescape(value)
        data[f"set:{column}"] = changes.get(column, html.unescape(value))
    return data


def test_only_admins_see_the_records_view(app: App, flagged: dict) -> None:
    _signed_in(app, app.keys.supervisor)
    page = app.client.get(RECORDS, params={"table": "person_flags", "id": flagged["key"]})
    assert page.status_code == 403 and "管理员" in page.text
    queue = app.client.get("/ui/queue")
    assert 'id="nav-records"' not in queue.text
    posted = app.client.post(
        RECORDS + "/correct",
        data={"table": "person_flags", "key": flagged["key"], "reason": "x", "set:level": "1"},
    )
    assert posted.status_code == 403
    assert not app.store.record_versions("person_flags", flagged["key"])


def test_a_refused_correction_shows_where_and_writes_nothing(app: App, flagged: dict) -> None:
    _signed_in(app, app.keys.admin)
    before = app.store.read_dataset().digest()
    data = _form(app, flagged["key"], flag="drug_usr")
    data["reason"] = "wrong flag"
    r = app.client.post(RECORDS + "/correct", data=data)
    assert r.status_code == 422, r.text
    assert 'id="issues"' in r.text and 'data-field="flag"' in r.text
    assert "drug_user" in r.text  # the suggestion, as the API gives it
    assert 'value="drug_usr"' in r.text  # what was sent stays in the form
    stale = {**data, "csrf": "not-the-token", "set:flag": "drug_user"}
    assert app.client.post(RECORDS + "/correct", data=stale).status_code == 403
    without_reason = _form(app, flagged["key"], level="1" if flagged["level"] != "1" else "2")
    r = app.client.post(RECORDS + "/correct", data={**without_reason, "reason": " "})
    assert r.status_code == 400 and "更正原因" in r.text
    assert app.store.read_dataset().digest() == before
    assert not [e for e in app.store.audit_entries() if e["action"] == "records:correct"]


def test_a_correction_is_saved_with_its_history_and_noted_on_the_case(
    app: App, flagged: dict
) -> None:
    _signed_in(app, app.keys.admin)
    level = "1" if flagged["level"] != "1" else "2"
    data = _form(app, flagged["key"], level=level)
    data["reason"] = "危险等级经复核更正"
    r = app.client.post(RECORDS + "/correct", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    target = urllib.parse.urlparse(r.headers["location"])
    query = urllib.parse.parse_qs(target.query)
    [version] = app.store.record_versions("person_flags", flagged["key"])
    assert query["done"] == [str(version["id"])] and int(query["recomputed"][0]) >= 1
    assert version["key_name"] == "ops" and version["reason"] == "危险等级经复核更正"
    page = app.client.get(r.headers["location"])
    assert f'data-version="{version["id"]}"' in page.text and "危险等级经复核更正" in page.text
    assert 'id="done"' in page.text

    # the case page of a dispute the flag's person is a party to says why its score changed
    _signed_in(app, app.keys.supervisor)
    case = app.client.get("/ui/case", params={"id": flagged["own"][0]})
    assert case.status_code == 200
    note = case.text[case.text.index('id="recomputed"') :]
    assert f'data-correction="{version["id"]}"' in note
    assert "危险等级经复核更正" in note and "person_flags" in note and "level" in note
    assert "→" in note  # the score before and after
    snaps = app.store.snapshots_for(flagged["own"][0])
    assert snaps[-1]["recomputed_reason"].startswith(
        f"recomputed after correction #{version['id']}"
    )


def test_the_expiry_dry_run_lists_by_table_and_kind_and_deletes_nothing(
    app: App, served: Served
) -> None:
    _signed_in(app, app.keys.admin)
    before = app.store.history_counts()
    page = app.client.get(RECORDS)
    assert page.status_code == 200
    expired = expiry(app.store.read_dataset(), load_retention()).rows(
        pd.Timestamp(get_clock().local_now())
    )
    shown = re.findall(
        r'<tr data-table="([^"]+)" data-kind="([^"]*)">.*?<td class="num">(\d+)</td>', page.text
    )
    counts: dict[str, int] = {}
    for table, _, rows in shown:
        counts[table] = counts.get(table, 0) + int(rows)
    assert counts == {name: len(frame) for name, frame in expired.items() if len(frame)}
    assert counts, "the simulated county has records past their retention term"
    assert app.store.history_counts() == before
