"""The scorer shares one feature builder between the event loop and worker threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from riskwarn.features import open_disputes
from riskwarn.serving import Scorer, ScoreRequest
from riskwarn.training import load_model


def test_concurrent_scoring_equals_one_at_a_time(served) -> None:
    model = load_model("models:/riskwarn@champion", tracking_uri=served.tracking_uri)
    dates = pd.date_range(served.dataset.start.normalize() + pd.Timedelta(days=400),
                          periods=8, freq="45D")  # fmt: skip
    pairs = [(d, t) for t in dates for d in open_disputes(served.dataset, t)[:12]]
    assert len(pairs) > 40

    def case(pair):
        request = ScoreRequest(dispute_id=pair[0], as_of=pair[1].isoformat())
        return scorer.resolve(request, now=pd.Timestamp.now().to_pydatetime())

    scorer = Scorer(model, served.dataset)
    alone = [scorer.features([case(p)])[0] for p in pairs]
    fresh = Scorer(model, served.dataset)  # a new builder, its day cache empty
    scorer = fresh
    with ThreadPoolExecutor(8) as pool:  # dates in every order, many threads at once
        together = list(pool.map(lambda p: fresh.features([case(p)])[0], pairs))
    names = list(alone[0])
    a = np.array([[row[n] for n in names] for row in alone], dtype=object)
    b = np.array([[row[n] for n in names] for row in together], dtype=object)
    assert (
        (pd.DataFrame(a).fillna(-1).astype(str) == pd.DataFrame(b).fillna(-1).astype(str))
        .all()
        .all()
    )


def test_a_new_persons_grid_counts_in_a_residents_based_population(served, good) -> None:
    """G2's population is counted from residents (the contract leaves it empty there): a new
    resident named by grid_id changes its rates; without grid_id it would not."""
    from riskwarn import load_dataset
    from riskwarn.features import FeatureBuilder

    dataset = load_dataset(good)
    model = load_model("models:/riskwarn@champion", tracking_uri=served.tracking_uri)
    scorer = Scorer(model, dataset)
    case = {
        "dispute": {
            "dispute_id": "D-NEW",
            "reported_at": "2024-03-10T09:00:00",
            "grid_id": "G2",
            "category": "neighbor",
            "source": "hotline",
            "threat_reported": False,
            "violence_reported": False,
            "weapon_mentioned": False,
        },
        "parties": [
            {"person_id": "P3", "role": "claimant"},
            {"person_id": "P-NEW", "role": "respondent", "grid_id": "G2", "birth_year": 1990},
        ],
    }
    request = ScoreRequest(case=case, as_of="2024-03-20T12:00:00")
    [served_row] = scorer.features([scorer.resolve(request, pd.Timestamp.now())])
    builder, as_of = FeatureBuilder(dataset), pd.Timestamp("2024-03-20T12:00")
    dispute = {**case["dispute"], "reported_at": pd.Timestamp("2024-03-10T09:00:00")}
    parties = [{"dispute_id": "D-NEW", **p} for p in case["parties"]]
    offline = builder.features_for_case(dispute, parties, [], as_of)
    homeless = [{k: v for k, v in p.items() if k != "grid_id"} for p in parties]
    without = builder.features_for_case(dispute, homeless, [], as_of)
    assert pd.Series(served_row).astype(str).equals(pd.Series(offline).astype(str))
    changed = [n for n in offline if str(offline[n]) != str(without[n])]
    assert changed and all("grid" in n or "township" in n or "area" in n for n in changed), changed
