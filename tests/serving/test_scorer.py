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


def test_a_model_reading_interventions_scores_as_offline() -> None:
    """A model trained with the ``feature`` intervention policy reads what was done on each
    case so far: the service adds it as ``riskwarn score`` does, and the risks agree."""
    from riskwarn import WarningLoop, simulate_with_truth
    from riskwarn.training import (
        INTERVENTION_FEATURES,
        build_table,
        fit_evaluate,
        parse_config,
        score_open,
        training_data,
    )

    loop = WarningLoop(handled_share=0.8, effect=0.5, rollout="all", rollout_start="2022-07-01")
    looped = simulate_with_truth(20000, 3, 11, interventions=loop, oracle=False).dataset
    cfg = parse_config(
        {
            "bootstrap": 0,
            "baselines": False,
            "lgbm": {"n_estimators": 60},
            "search": {"grid": {}},
            "interventions": "feature",
        }
    )
    model = fit_evaluate(
        training_data(build_table(looped, train_until="2024-09-30"), cfg), cfg
    ).model
    assert set(INTERVENTION_FEATURES) <= set(model.feature_names)
    as_of = pd.Timestamp("2024-10-31 23:59:59")
    offline = score_open(looped, as_of, model).set_index("dispute_id")
    known = looped.cut(as_of)
    ids = list(offline.index[:40])
    scorer = Scorer(model, known)
    now = pd.Timestamp.now().to_pydatetime()
    cases = [scorer.resolve(ScoreRequest(dispute_id=d, as_of=as_of.isoformat()), now) for d in ids]
    scores = scorer.score(cases)
    np.testing.assert_allclose(scores.risk, offline.loc[ids, "risk"].to_numpy(), atol=1e-12)
    assert any(row["intervention_count"] > 0 for row in scorer.features(cases))
