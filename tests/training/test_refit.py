"""The deployed model fit on all the evidence: refit on every labelled snapshot, calibrated
on out-of-time folds, it stays calibrated on a later window it never saw."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskwarn.training import ece, fit_evaluate, parse_config, table_data

from .conftest import make_table


def test_the_refit_model_is_calibrated_on_a_later_window_it_never_saw() -> None:
    frame = make_table(n=16000, seed=4, days=1500)
    t = pd.to_datetime(frame["as_of"])
    later = t > t.quantile(0.8)  # held out: never given to training
    data = table_data(frame.loc[~later], label="label", time="as_of", id="case", drop=["leak"])
    cfg = parse_config({"bootstrap": 0, "search": {"grid": {}}, "model": "lightgbm"})
    result = fit_evaluate(data, cfg)
    model = result.model
    refit = model.metadata.refit
    assert refit.refit and refit.window is not None and refit.window.rows == len(data.label)
    assert refit.rounds
    # every calibration fold was scored by a model fitted on no row whose label window
    # overlaps the fold's: earlier rows end one horizon before it, later ones start after
    horizon = pd.Timedelta(days=90)
    assert len(refit.folds) == 5
    for fold in refit.folds:
        start, end = pd.Timestamp(fold["start"]), pd.Timestamp(fold["end"])
        if fold["fit_before"]:
            assert pd.Timestamp(fold["fit_before"]) + horizon <= start
        if fold["fit_after"]:
            assert pd.Timestamp(fold["fit_after"]) >= end + horizon
        assert fold["fit_rows"] < len(data.label) - fold["rows"]
    assert model.metadata.labels_end == (t[~later].max() + pd.Timedelta(days=90)).to_pydatetime()
    held = frame.loc[later]
    y = held["label"].to_numpy()
    risk = model.predict_risk(held)
    assert abs(risk.mean() - y.mean()) < 0.2 * y.mean()
    assert ece(y, risk) < 0.02
    # the evaluated model (train window only) is what the reported figures come from
    assert result.evaluation_model is not None
    assert not result.evaluation_model.metadata.refit.refit
    # --no-refit keeps the evaluated model as the deployed one
    kept = fit_evaluate(data, cfg.model_copy(update={"refit": False})).model
    assert not kept.metadata.refit.refit
    np.testing.assert_array_equal(
        kept.predict_risk(held), result.evaluation_model.predict_risk(held)
    )


CANDIDATES = (25, 35, 50, 70, 100, 140, 200, 280, 400, 560, 600)  # up to n_estimators


def test_the_refit_rounds_come_from_the_folds_or_from_the_validated_rounds_scaled() -> None:
    frame = make_table(n=6000, seed=5, days=1200)
    data = table_data(frame, label="label", time="as_of", id="case", drop=["leak"])
    cfg = parse_config({"bootstrap": 0, "search": {"grid": {}}, "model": "lightgbm"})
    folds = fit_evaluate(data, cfg.model_copy(update={"refit_rounds": "folds"})).model
    folds = folds.metadata.refit
    # "folds": a candidate, scaled from a fold model's rows to all rows
    fit_rows = np.mean([f["fit_rows"] for f in folds.folds])
    scaled = {round(k * len(data.label) / fit_rows) for k in CANDIDATES}
    assert folds.rounds in scaled
    # "scaled": the validated rounds times all rows / the training window's rows
    result = fit_evaluate(data, cfg.model_copy(update={"refit_rounds": "scaled"}))
    n_train = int(result.split.train.sum())
    expected = round(result.params["best_iteration"] * len(data.label) / n_train)
    assert result.model.metadata.refit.rounds == expected > result.params["best_iteration"]
