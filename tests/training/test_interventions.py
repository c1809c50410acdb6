"""Training that knows about interventions: exclude, feature or ignore, point in time,
reported in the metadata and the model card, and scored the way it was trained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskwarn import WarningLoop, simulate_with_truth
from riskwarn.errors import ConfigError
from riskwarn.training import (
    INTERVENTION_FEATURES,
    build_table,
    fit_evaluate,
    intervention_columns,
    load_model,
    parse_config,
    score_open,
    train,
    training_data,
)

FAST = {"bootstrap": 0, "baselines": False, "lgbm": {"n_estimators": 60}, "search": {"grid": {}}}


@pytest.fixture(scope="module")
def looped():  # type: ignore[no-untyped-def]
    loop = WarningLoop(handled_share=0.8, effect=0.5, rollout="all", rollout_start="2022-07-01")
    return simulate_with_truth(20000, 3, 11, interventions=loop, oracle=False).dataset


@pytest.fixture(scope="module")
def table(looped):  # type: ignore[no-untyped-def]
    return build_table(looped, train_until="2024-09-30")


def test_intervention_columns_are_point_in_time(looped, table) -> None:  # type: ignore[no-untyped-def]
    cols = table.interventions
    snaps = table.snapshots
    acts = looped.interventions
    assert len(cols) == len(snaps) and cols["intervention_count"].sum() > 0
    # a snapshot's count is the interventions on its dispute dated at or before it
    i = int(np.flatnonzero(cols["intervention_count"].to_numpy() > 0)[0])
    d, t = snaps.loc[i, "dispute_id"], snaps.loc[i, "as_of"]
    mine = acts[(acts["dispute_id"] == d)]
    assert cols.loc[i, "intervention_count"] == (mine["at"] <= t).sum()
    assert cols.loc[i, "intervention_days_since"] == pytest.approx(
        (t - mine["at"].min()) / pd.Timedelta(days=1)
    )
    # nothing dated after the snapshot changes its inputs; the horizon flag looks ahead
    blind = intervention_columns(looped.cut(t), snaps.iloc[[i]], 90)
    assert blind.loc[0, "intervention_count"] == cols.loc[i, "intervention_count"]
    untouched = cols["intervention_count"].eq(0) & ~cols["intervention_in_horizon"]
    assert cols.loc[untouched, "intervention_days_since"].isna().all()
    ahead = cols["intervention_in_horizon"] & cols["intervention_count"].eq(0)
    assert ahead.any()  # acted on after the snapshot, within its horizon


def test_the_three_policies_choose_rows_and_inputs(table) -> None:  # type: ignore[no-untyped-def]
    ignore = training_data(table, parse_config({"interventions": "ignore"}))
    exclude = training_data(table, parse_config({"interventions": "exclude"}))
    feature = training_data(table, parse_config({"interventions": "feature"}))
    acted = table.interventions["intervention_in_horizon"].to_numpy(bool)
    assert len(ignore.label) == len(feature.label) == len(table.snapshots)
    assert len(exclude.label) == len(table.snapshots) - acted.sum() > 0
    assert not set(INTERVENTION_FEATURES) & set(ignore.features.columns)
    assert list(feature.features.columns[-2:]) == list(INTERVENTION_FEATURES)
    assert len(exclude.groups) == len(exclude.features) == len(exclude.extra) == len(exclude.ids)
    kept = exclude.extra[["dispute_id", "as_of"]]
    dropped = table.snapshots.loc[acted, ["dispute_id", "as_of"]]
    assert kept.merge(dropped).empty
    # the default keeps labels of courses nobody intervened in
    assert parse_config({}).interventions == "exclude"
    with pytest.raises(ConfigError, match="interventions"):
        parse_config({"interventions": "drop"})


def test_without_interventions_the_policies_train_the_same(county) -> None:  # type: ignore[no-untyped-def]
    plain = build_table(county, train_until="2024-03-31")
    assert not plain.interventions["intervention_in_horizon"].any()
    a = training_data(plain, parse_config({"interventions": "exclude"}))
    b = training_data(plain, parse_config({"interventions": "ignore"}))
    pd.testing.assert_frame_equal(a.features, b.features)


def test_the_policy_is_in_the_metadata_card_and_scoring(looped, table, store) -> None:  # type: ignore[no-untyped-def]
    cfg = parse_config({**FAST, "interventions": "feature"})
    run = train("looped", cfg, table=table, tracking_uri=store, register=False).run
    model = load_model(run.model_uri, tracking_uri=store)
    assert model.metadata.interventions == "feature"
    assert set(INTERVENTION_FEATURES) <= set(model.feature_names)
    assert 'interventions = "feature"' in model.metadata.model_card
    scored = score_open(looped, "2024-10-31", model)
    assert len(scored) > 0 and scored["risk"].between(0, 1).all()
    cfg = parse_config({**FAST, "interventions": "exclude"})
    model = fit_evaluate(training_data(table, cfg), cfg).model
    assert model.metadata.interventions == "exclude"
    assert not set(INTERVENTION_FEATURES) & set(model.feature_names)
