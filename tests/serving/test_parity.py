"""Parity with training: for a few hundred (dispute, as_of), the service computes the same
features as the offline feature library on what was known at as_of, and the same risk,
tiers (the model's and after the key facts' floors), reasons and key facts as the offline
``riskwarn score`` CSV; so does a full case (dispute, parties, events cut at as_of) sent
instead of the stored id, for about fifty of them.

Every as_of is an explicit datetime (one of them in the afternoon), so what a bare date
means to ``riskwarn score --as-of`` does not matter here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from riskwarn.features import build_features, open_disputes
from riskwarn.training import score

from .conftest import App, Served, case_body

CASES = 250
PER_MOMENT = 60  # so that several moments, the afternoon one among them, are compared
FULL_CASE_EVERY = 5  # one in five is also sent as a full case: about fifty


def _moments(served: Served, n: int) -> list[pd.Timestamp]:
    """Month-apart moments back from the data's end, the second at a time of day."""
    end = served.dataset.end.normalize()
    out = [end - pd.Timedelta(days=30 * k) for k in range(n)]
    out[1] += pd.Timedelta(hours=15, minutes=45, seconds=30)
    return out


def _same(offline: object, served_value: object) -> bool:
    if offline is None or offline is pd.NA or (isinstance(offline, float) and math.isnan(offline)):
        return served_value is None
    if isinstance(served_value, str):
        return str(offline) == served_value
    return served_value is not None and math.isclose(float(offline), served_value, abs_tol=1e-9)


def _check_explained(answer: dict, offline: pd.Series, scored: pd.Series, what: tuple) -> None:
    for c in answer["contributions"]:
        assert _same(offline[c["feature"]], c["value"]), (
            *what,
            c["feature"],
            offline[c["feature"]],
            c["value"],
        )
    assert answer["risk"] == pytest.approx(scored["risk"], abs=1e-12), what
    assert answer["tier"] == scored["tier"], what
    assert answer["tier_model"] == scored["tier_model"], what
    assert (answer["tier_floor_reason"] or "") == scored["tier_floor_reason"], what
    assert answer["key_facts"] == json.loads(scored["key_facts"]), what


@pytest.mark.slow
def test_service_matches_offline_features_scores_and_reasons(
    app: App, served: Served, tmp_path: Path
) -> None:
    compared = full = facts_seen = 0
    moments = set()
    post = app.client.post
    for as_of in _moments(served, 12):
        if compared >= CASES:  # a few hundred cases, whatever the simulator's pace
            break
        stamp = f"{as_of:%Y-%m-%dT%H:%M:%S}"
        known = served.dataset.cut(as_of)
        ids = open_disputes(known, as_of)
        if not ids:
            continue
        snaps = pd.DataFrame({"dispute_id": ids, "as_of": [as_of] * len(ids)})
        offline = build_features(known, snaps).set_index("dispute_id")
        csv = tmp_path / f"{as_of:%Y%m%dT%H%M%S}.csv"
        score(served.data, as_of=stamp, out=csv, tracking_uri=served.tracking_uri)
        scored = pd.read_csv(csv, keep_default_na=False, dtype={"dispute_id": str})
        scored = scored.set_index("dispute_id")
        for dispute in ids[: min(PER_MOMENT, CASES - compared)]:
            what = (dispute, stamp)
            r = post(
                "/v1/explain",
                json={"dispute_id": dispute, "as_of": stamp},
                headers=app.keys.header("supervisor"),
            )
            assert r.status_code == 200, r.text
            _check_explained(r.json(), offline.loc[dispute], scored.loc[dispute], what)
            facts_seen += bool(r.json()["key_facts"])

            r = post(
                "/v1/score",
                json={"dispute_id": dispute, "as_of": stamp, "top_k": 3},
                headers=app.keys.header("scorer"),
            )
            assert r.status_code == 200, r.text
            texts = [x["text_zh"] for x in r.json()["reasons"]]
            columns = [scored.at[dispute, f"reason_{k}"] for k in (1, 2, 3)]
            assert texts + [""] * (3 - len(texts)) == columns, what
            assert r.json()["risk"] == pytest.approx(scored.at[dispute, "risk"], abs=1e-12)

            if compared % FULL_CASE_EVERY == 0:
                r = post(
                    "/v1/explain",
                    json={"case": case_body(known, dispute, as_of), "as_of": stamp},
                    headers=app.keys.header("supervisor"),
                )
                assert r.status_code == 200, r.text
                _check_explained(r.json(), offline.loc[dispute], scored.loc[dispute], what)
                full += 1
            compared += 1
            moments.add(as_of)
    assert compared >= 200, compared
    assert full >= 40, full
    assert facts_seen >= 5, "too few cases with key facts to compare them"
    assert any(m != m.normalize() for m in moments), "no as_of at a time of day was compared"
