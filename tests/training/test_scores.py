"""One pipeline from features and key facts to answers: ``RiskModel.score`` gives risk, the
model's tier, the tier after fact floors (raised, never lowered) and why, reasons and facts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskwarn.features import KeyFact
from riskwarn.training import apply_floors, fit_evaluate, parse_config, table_data

AT = pd.Timestamp("2024-05-01")


def fact(code: str) -> KeyFact:
    return KeyFact(code, f"{code} zh", f"{code} en", AT)


def test_floors_raise_never_lower_and_name_the_fact() -> None:
    floors = {"pair_homicide": "orange", "threat_7d": "yellow", "weapon_mentioned": "yellow"}
    model_tiers = np.array(["blue", "blue", "red", "yellow", "blue", "blue"])
    facts = [
        [fact("pair_homicide")],  # raised to orange
        [fact("threat_7d"), fact("weapon_mentioned")],  # yellow: the first fact in FACTS order
        [fact("pair_homicide")],  # red stays red
        [fact("threat_7d")],  # already yellow: no floor applied
        [fact("danger_level_3")],  # a fact without a floor
        [],
    ]
    tier, why = apply_floors(model_tiers, facts, floors)
    assert tier.tolist() == ["orange", "yellow", "red", "yellow", "blue", "blue"]
    assert why == ("pair_homicide", "weapon_mentioned", None, None, None, None)
    # the highest floor wins whatever the order of the facts
    tier, why = apply_floors(
        np.array(["blue"]), [[fact("threat_7d"), fact("pair_homicide")]], floors
    )
    assert tier.tolist() == ["orange"] and why == ("pair_homicide",)


def test_score_is_the_one_way_from_features_and_facts_to_answers(table: pd.DataFrame) -> None:
    data = table_data(table, label="label", time="as_of", id="case", drop=["leak"])
    cfg = parse_config(
        {
            "bootstrap": 0,
            "search": {"grid": {}},
            "tiers": {"floors": {"pair_homicide": "red", "threat_7d": "yellow"}},
        }
    )
    model = fit_evaluate(data, cfg).model
    rows = table.head(40)
    facts = [[fact("pair_homicide")] if i % 4 == 0 else [] for i in range(40)]
    scores = model.score(rows, facts, top_k=2)
    np.testing.assert_allclose(scores.risk, model.predict_risk(rows))
    assert scores.tier_model.tolist() == model.tiers(scores.risk).tolist()
    assert [t for i, t in enumerate(scores.tier) if i % 4 == 0] == ["red"] * 10
    raised = [i for i in range(40) if scores.tier_floor_reason[i]]
    assert raised and all(i % 4 == 0 and scores.tier_model[i] != "red" for i in raised)
    assert [scores.tier[i] for i in range(40) if i % 4] == [
        scores.tier_model[i] for i in range(40) if i % 4
    ]
    assert scores.key_facts[0] == (facts[0][0],) and scores.key_facts[1] == ()
    # reasons: at most top_k, positive, strongest first, from the same SHAP values
    for i, reasons in enumerate(scores.reasons):
        assert len(reasons) <= 2
        got = [r.contribution for r in reasons]
        assert got == sorted(got, reverse=True) and all(c > 0 for c in got)
        if reasons:
            assert got[0] == pytest.approx(scores.contributions[i].max())
            assert reasons[0].text_en and reasons[0].text_zh
    assert len(scores.explain(0)) == len(model.feature_names)
    # the same answers from the matrix and from feature dicts (what the service holds)
    by_matrix = model.score(model.matrix(rows), facts, top_k=2)
    by_dicts = model.score(rows.to_dict("records"), facts, top_k=2)
    for other in (by_matrix, by_dicts):
        np.testing.assert_array_equal(other.risk, scores.risk)
        assert other.tier.tolist() == scores.tier.tolist()
        assert other.reasons == scores.reasons
    with pytest.raises(ValueError, match="one list of key facts per row"):
        model.score(rows, facts[:3])


def test_an_absence_is_never_a_reason_for_higher_risk() -> None:
    """A false flag or a zero count pushing the risk up is left out of the top reasons (it
    may still explain a lower risk, and every feature stays in the full explanation)."""
    from riskwarn.training import reasons_of

    names = ("case_threat_reported", "case_violence_reported", "case_parties", "other_column")
    values = [0.0, 1.0, 0.0, 3.0]
    contrib = np.array([0.9, 0.5, 0.4, 0.3])
    top = reasons_of(names, values, contrib, 3)
    assert [r.feature for r in top] == ["case_violence_reported", "other_column"]
    assert len(reasons_of(names, values, contrib, None)) == 4
