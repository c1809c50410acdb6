"""Corrections through the admin API, in process: admin only, refused whole with a located
error, the scores the record influenced recomputed today with the reason on each row and in
the audit log, and every past score reproduced exactly from what was known before."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from riskwarn.features import open_disputes
from riskwarn.serving import Scorer, record_key
from riskwarn.serving._scorer import Target

from .conftest import App, Served


def _day(served: Served) -> pd.Timestamp:
    return served.dataset.end.normalize() + pd.Timedelta(hours=12)


@pytest.fixture(scope="module")
def flagged(app: App, served: Served) -> dict:
    """A snapshot of every open dispute, and a flag of a party of one of them."""
    day = _day(served)
    r = app.client.post(
        "/v1/snapshot", json={"as_of": day.isoformat()}, headers=app.keys.header("admin")
    )
    assert r.status_code == 200, r.text
    open_ids = set(open_disputes(served.dataset, day))
    parties = served.dataset.dispute_parties
    live = parties[parties["dispute_id"].isin(open_ids)]
    flags = served.dataset.person_flags
    row = flags[flags["person_id"].isin(set(live["person_id"]))].iloc[0]
    own = set(live.loc[live["person_id"] == row["person_id"], "dispute_id"])
    level = "1" if pd.isna(row["level"]) or int(row["level"]) >= 3 else "4"
    return {"key": record_key("person_flags", row.to_dict()), "level": level, "own": own}


@pytest.mark.parametrize("role", ["scorer", "supervisor"])
def test_only_admins_correct_records(app: App, flagged: dict, role: str) -> None:
    body = {"table": "person_flags", "key": flagged["key"], "set": {"level": "2"}, "reason": "x"}
    r = app.client.post("/v1/records/correct", json=body, headers=app.keys.header(role))
    assert r.status_code == 403


def test_a_refused_correction_is_a_located_422_and_writes_nothing(app: App, flagged: dict) -> None:
    before = app.store.read_dataset().digest()
    body = {
        "table": "person_flags",
        "key": flagged["key"],
        "set": {"flag": "drug_usr"},
        "reason": "wrong flag",
    }
    r = app.client.post("/v1/records/correct", json=body, headers=app.keys.header("admin"))
    assert r.status_code == 422, r.text
    issue = r.json()["issues"][0]
    assert (issue["table"], issue["field"]) == ("person_flags", "flag")
    assert "drug_user" in r.text  # the suggestion
    assert app.store.read_dataset().digest() == before
    assert not [e for e in app.store.audit_entries() if e["action"] == "records:correct"]


def test_a_correction_recomputes_what_it_influenced_and_keeps_the_past(
    app: App, served: Served, flagged: dict
) -> None:
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    past = {s["dispute_id"]: s for s in app.store.latest_snapshots()}
    body = {
        "table": "person_flags",
        "key": flagged["key"],
        "set": {"level": flagged["level"]},
        "reason": "danger level re-assessed",
    }
    r = app.client.post("/v1/records/correct", json=body, headers=app.keys.header("admin"))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert set(answer["own_disputes"]) >= flagged["own"]
    recomputed = {x["dispute_id"]: x for x in answer["recomputed"]}
    assert flagged["own"] <= set(recomputed)
    assert set(recomputed) <= set(answer["own_disputes"]) | set(answer["nearby_disputes"])
    reason = f"recomputed after correction #{answer['version']} of person_flags"
    for d in flagged["own"]:
        rows = app.store.snapshots_for(d)
        assert rows[-1]["recomputed_reason"].startswith(reason)
        assert recomputed[d]["risk_before"] == past[d]["risk"]
    audited = [e for e in app.store.audit_entries() if e["action"] == "records:recompute"]
    assert {e["dispute_id"] for e in audited} == set(recomputed)
    # the service scores from the corrected history at once
    flags = app.store.read_dataset().person_flags
    assert str(flagged["level"]) in set(flags["level"].dropna().astype(int).astype(str))

    # every earlier score of those disputes, from what was known before: identical
    model = Scorer(_model(served), app.store.read_dataset_known_at(started))
    cases = [Target(d, pd.Timestamp(past[d]["as_of"]), "dispute_id") for d in sorted(recomputed)]
    again = model.score(cases).risk
    assert np.array_equal(again, np.array([past[d]["risk"] for d in sorted(recomputed)]))


def test_a_correction_of_a_correction_supersedes_it(app: App, flagged: dict) -> None:
    body = {"table": "person_flags", "key": flagged["key"], "set": {"level": "0"}, "reason": "r"}
    r = app.client.post("/v1/records/correct", json=body, headers=app.keys.header("admin"))
    assert r.status_code == 200, r.text
    chain = app.store.record_versions("person_flags", flagged["key"])
    assert len(chain) >= 2 and chain[-1]["supersedes"] == chain[-2]["id"]
    assert json.loads(chain[-1]["new_row"])["level"] == 0


def _model(served: Served):  # type: ignore[no-untyped-def]
    from riskwarn.training import load_model

    return load_model(tracking_uri=served.tracking_uri)
