"""Parity with training: for a few hundred (dispute, as_of), the service computes the same
features as the offline feature library on what was known at as_of, and the same risk and
tier as the offline ``riskwarn score``."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from riskwarn.features import build_features, open_disputes
from riskwarn.training import score

from .conftest import App, Served


def _dates(served: Served, n: int) -> list[pd.Timestamp]:
    end = served.dataset.end.normalize()
    return [end - pd.Timedelta(days=30 * k) for k in range(n)]


def _same(offline: object, served_value: object) -> bool:
    if offline is None or offline is pd.NA or (isinstance(offline, float) and math.isnan(offline)):
        return served_value is None
    if isinstance(served_value, str):
        return str(offline) == served_value
    return served_value is not None and math.isclose(float(offline), served_value, abs_tol=1e-9)


@pytest.mark.slow
def test_service_matches_offline_features_and_scores(
    app: App, served: Served, tmp_path: Path
) -> None:
    compared = 0
    for as_of in _dates(served, 12):
        if compared >= 250:  # a few hundred cases, whatever the simulator's pace
            break
        known = served.dataset.cut(as_of)
        ids = open_disputes(known, as_of)
        if not ids:
            continue
        snaps = pd.DataFrame({"dispute_id": ids, "as_of": [as_of] * len(ids)})
        offline = build_features(known, snaps).set_index("dispute_id")
        scored = score(
            served.data,
            as_of=as_of,
            out=tmp_path / f"{as_of:%Y%m%d}.csv",
            tracking_uri=served.tracking_uri,
        ).set_index("dispute_id")
        for dispute in ids:
            r = app.client.post(
                "/v1/explain",
                json={"dispute_id": dispute, "as_of": f"{as_of:%Y-%m-%d}"},
                headers=app.keys.header("supervisor"),
            )
            assert r.status_code == 200, r.text
            answer = r.json()
            for c in answer["contributions"]:
                assert _same(offline.at[dispute, c["feature"]], c["value"]), (
                    dispute,
                    as_of,
                    c["feature"],
                    offline.at[dispute, c["feature"]],
                    c["value"],
                )
            assert answer["risk"] == pytest.approx(scored.at[dispute, "risk"], abs=1e-12)
            assert answer["tier"] == scored.at[dispute, "tier"]
            compared += 1
    assert compared >= 200, compared
