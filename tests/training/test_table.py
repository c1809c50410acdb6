"""train-table end to end on a small generated table, on a real MLflow SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from riskwarn.errors import ConfigError
from riskwarn.training import (
    TrainConfig,
    TrainingData,
    choose_calibrator,
    fit_evaluate,
    load_model,
    parse_config,
    table_data,
    train_table,
)

FAST = {"bootstrap": 30, "lgbm": {"n_estimators": 120}, "search": {"grid": {}}}


def test_train_table_logs_evaluates_and_registers(
    table_csv: Path, store: str, tmp_path: Path
) -> None:
    out = tmp_path / "metrics.json"
    outcome = train_table(
        table_csv,
        label="label",
        time="as_of",
        id="case",
        drop=["leak"],
        group=["gender"],
        config=parse_config(FAST),
        tracking_uri=store,
        metrics_out=out,
    )
    written = json.loads(out.read_text(encoding="utf-8"))
    assert set(written["metrics"]) == {"lightgbm", "logistic", "checklist"}
    lgbm = written["metrics"]["lightgbm"]
    for key in ("roc_auc", "pr_auc", "brier", "ece", "recall_top1", "precision_top10"):
        assert lgbm[key]["lo"] <= lgbm[key]["value"] <= lgbm[key]["hi"], key
    # the signal is learnable, the checklist alone is weaker, and nothing leaked
    assert 0.75 < lgbm["roc_auc"]["value"] < 0.95
    assert written["metrics"]["checklist"]["roc_auc"]["value"] < lgbm["roc_auc"]["value"]
    assert {g["level"] for g in written["groups"]} == {"male", "female"}
    w = written["windows"]
    assert sum(w[p]["events"] for p in w) <= int(pd.read_csv(table_csv)["label"].sum())
    assert w["test"]["events"] > 30

    model = outcome.result.model
    assert "gender" not in model.feature_names and "case" not in model.feature_names
    assert "as_of" not in model.feature_names and "leak" not in model.feature_names

    loaded = load_model("models:/riskwarn-table@challenger", tracking_uri=store)
    assert loaded.version == outcome.run.model_version == "1"
    frame = pd.read_csv(table_csv).head(50)
    np.testing.assert_allclose(loaded.predict_risk(frame), model.predict_risk(frame))
    assert loaded.metadata.run_id == outcome.run.run_id
    card = loaded.metadata.model_card
    assert "Must not be used for" in card and "Horizon: 90 days" in card
    assert "| window | red | orange | yellow | blue |" in card and "| test |" in card

    import mlflow

    # the MLmodel file describes the model; the model is logged as code, not pickled
    info = mlflow.models.get_model_info("models:/riskwarn-table@challenger")
    assert info.metadata["registry_version"] == "table"
    assert info.metadata["thresholds"] == pytest.approx(loaded.thresholds)
    assert info.metadata["horizon_days"] == 90
    assert info.metadata["labels_end"] == loaded.metadata.model_dump(mode="json")["labels_end"]
    assert "riskwarn package" in info.metadata["requires"]
    assert "riskwarn package" in card
    model_files = {f.path for f in mlflow.artifacts.list_artifacts(info.model_uri)}
    assert "MLmodel" in model_files and "_pyfunc_code.py" in model_files
    assert not [f for f in model_files if f.endswith(".pkl")], model_files
    pyfunc = mlflow.pyfunc.load_model("models:/riskwarn-table@challenger")
    served = pyfunc.predict(_wire(frame, loaded.feature_names))
    np.testing.assert_allclose(served["risk"].to_numpy(), loaded.predict_risk(frame))
    assert served["tier"].tolist() == loaded.tiers(served["risk"].to_numpy()).tolist()
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(outcome.run.run_id, "plots")}
    assert {
        "plots/roc.png",
        "plots/pr.png",
        "plots/calibration.png",
        "plots/shap_summary.png",
    } <= artifacts


def test_metrics_out_is_strict_json_and_a_bad_path_fails_first(
    table_csv: Path, store: str, tmp_path: Path
) -> None:
    import mlflow

    args = {"label": "label", "time": "as_of", "id": "case", "drop": ["leak"]}
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    for bad in (blocker / "metrics.json", tmp_path):
        with pytest.raises(ConfigError, match="--metrics-out"):
            train_table(table_csv, **args, tracking_uri=store, metrics_out=bad)
    assert mlflow.MlflowClient(store, store).search_registered_models() == []

    out = tmp_path / "new" / "folder" / "metrics.json"  # made on the way
    cfg = parse_config({**FAST, "bootstrap": 0, "baselines": False})
    done = train_table(table_csv, **args, config=cfg, tracking_uri=store, metrics_out=out)
    saved = mlflow.artifacts.download_artifacts(
        run_id=done.run.run_id, artifact_path="model_card.md", tracking_uri=store
    )
    card = Path(saved).read_text(encoding="utf-8")
    assert "## Test metrics (no intervals: `bootstrap = 0`" in card
    assert "95% bootstrap" not in card

    def refuse(token: str) -> None:
        raise AssertionError(f"{token} is not JSON")

    written = json.loads(out.read_text(encoding="utf-8"), parse_constant=refuse)
    auc = written["metrics"]["lightgbm"]["roc_auc"]
    assert auc["lo"] is None and auc["hi"] is None and 0.5 < auc["value"] < 1


def _wire(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    out = frame[names].copy()
    for c in out.columns:
        if out[c].dtype == bool or pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].astype("float64")
        else:
            out[c] = out[c].astype(object)
    return out


def _data(table: pd.DataFrame) -> TrainingData:
    return table_data(
        table, label="label", time="as_of", id="case", drop=["leak"], group=["gender"]
    )


def test_training_is_deterministic(table: pd.DataFrame) -> None:
    cfg = parse_config({**FAST, "bootstrap": 0, "baselines": False})
    a = fit_evaluate(_data(table), cfg)
    b = fit_evaluate(_data(table), cfg)
    assert (
        a.model.estimator.booster.model_to_string() == b.model.estimator.booster.model_to_string()
    )
    np.testing.assert_array_equal(a.test_risk["lightgbm"], b.test_risk["lightgbm"])


def test_calibration_folds_keep_each_case_together(table: pd.DataFrame) -> None:
    data = _data(table)
    cfg = parse_config({**FAST, "bootstrap": 0, "baselines": False})
    result = fit_evaluate(data, cfg)
    val = result.split.validation
    raw = result.evaluation_model.raw_risk(data.features.loc[val])
    y = np.asarray(data.label)[val]
    _, by_case = choose_calibrator(raw, y, seed=cfg.lgbm.seed, groups=data.ids[val])
    assert result.calibration["cv_brier"] == pytest.approx(by_case, rel=1e-12)


def test_tier_shares_are_recorded_and_empty_tiers_warned(
    table: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = parse_config({**FAST, "bootstrap": 0, "baselines": False})
    meta = fit_evaluate(_data(table), cfg).model.metadata
    for window in ("validation", "test"):
        assert sum(meta.tier_shares[window].values()) == pytest.approx(1.0)
    assert meta.tier_shares["validation"]["red"] == pytest.approx(0.01, abs=0.005)
    assert meta.tier_shares["target"]["orange"] == pytest.approx(0.04)
    assert meta.tier_warnings == []
    # a model that tells no case apart cannot fill capacity tiers: say so, do not merge them
    flat = table.assign(x1=(table["x1"] > 0).astype(float), x2=0.0, kind="land")
    flat = flat.assign(threat_reported=False)
    flat = flat.assign(violence_reported=False, weapon_mentioned=False)
    with caplog.at_level("WARNING", logger="riskwarn.training"):
        meta = fit_evaluate(_data(flat), cfg).model.metadata
    assert meta.tier_shares["validation"]["blue"] == 1.0
    assert [w.split(" ")[1] for w in meta.tier_warnings] == ["red", "orange", "yellow"]
    assert "tier red is empty on the validation window" in caplog.text


def test_reasons_are_top_positive_contributions(table: pd.DataFrame) -> None:
    result = fit_evaluate(_data(table), parse_config({**FAST, "bootstrap": 0, "baselines": False}))
    model = result.model
    rows = table.head(30)
    contrib, _ = model.contributions(rows)
    reasons = model.reasons(rows, k=3, lang="en")
    for i, rs in enumerate(reasons):
        assert len(rs) <= 3
        got = [r["contribution"] for r in rs]
        assert got == sorted(got, reverse=True) and all(c > 0 for c in got)
        if rs:
            assert rs[0]["contribution"] == pytest.approx(contrib[i].max())
            assert rs[0]["text"] == rs[0]["text_en"] and rs[0]["text_zh"]


def test_single_row_prediction_matches_batch(table: pd.DataFrame) -> None:
    result = fit_evaluate(_data(table), parse_config({**FAST, "bootstrap": 0, "baselines": False}))
    model = result.model
    batch = model.predict_risk(table.head(20))
    for i in range(20):
        assert model.predict_risk(table.iloc[[i]])[0] == pytest.approx(batch[i])
    assert isinstance(model.estimator.booster, lgb.Booster)


def test_unknown_label_rows_are_left_out_and_bad_labels_refused(table: pd.DataFrame) -> None:
    t = table.copy()
    t["label"] = t["label"].astype("float64")
    t.loc[:99, "label"] = np.nan
    data = _data(t)
    assert len(data.features) == len(t) - 100
    t.loc[200, "label"] = 2
    with pytest.raises(ConfigError, match="0/1"):
        fit_evaluate(_data(t), TrainConfig(bootstrap=0))


@pytest.mark.parametrize("name", ["id", "time", "label", "group_gender"])
def test_a_feature_named_like_a_test_frame_column_is_refused_before_training(
    table_csv: Path, store: str, name: str
) -> None:
    frame = pd.read_csv(table_csv).rename(columns={"label": "y", "x2": name})
    path = table_csv.with_name("renamed.csv")
    frame.to_csv(path, index=False)
    args = {"label": "y", "time": "as_of", "id": "case", "drop": ["leak"], "group": ["gender"]}
    with pytest.raises(ConfigError, match=f"rename '{name}'.*--drop {name}"):
        train_table(path, **args, config=parse_config(FAST), tracking_uri=store)
    import mlflow

    assert mlflow.MlflowClient(store, store).search_registered_models() == []
    # once renamed as the message says, it trains
    fixed = frame.rename(columns={name: f"{name}_value"})
    cfg = parse_config({**FAST, "bootstrap": 0, "baselines": False})
    fit_evaluate(table_data(fixed, **args), cfg)


def test_missing_column_suggests_the_close_one(table: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="Did you mean 'as_of'"):
        table_data(table, label="label", time="as_off")


def test_few_and_many_rows_give_the_same_matrix(table: pd.DataFrame) -> None:
    result = fit_evaluate(_data(table), parse_config({**FAST, "bootstrap": 0, "baselines": False}))
    model = result.model
    frame = table.head(200).copy()
    frame.loc[3, "x1"] = np.nan
    frame.loc[4, "kind"] = None
    frame.loc[5, "kind"] = "never-seen"
    many = model.matrix(frame)
    few = np.vstack([model.matrix(frame.iloc[[i]]) for i in range(10)])
    np.testing.assert_array_equal(many[:10], few)
    assert np.isnan(many[3, model.feature_names.index("x1")])
    assert np.isnan(many[4:6, model.feature_names.index("kind")]).all()


def test_a_table_without_information_is_refused_and_nothing_registered(
    table: pd.DataFrame, tmp_path: Path, store: str, capsys: pytest.CaptureFixture
) -> None:
    import mlflow

    from riskwarn.cli import main

    args = ["--label", "label", "--time", "as_of", "--id", "case", "--drop", "leak"]
    empty = table.assign(x1=np.nan, x2=np.nan, kind=None, gender=None)
    empty = empty.assign(threat_reported=np.nan, violence_reported=np.nan, weapon_mentioned=np.nan)
    path = tmp_path / "empty.csv"
    empty.to_csv(path, index=False)
    assert main(["train-table", str(path), *args, "--tracking-uri", store]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "expected at least one feature that varies" in err[0]

    # features that vary but say nothing about the label: no better than chance
    noise = table.assign(label=np.random.default_rng(3).permutation(table["label"].to_numpy()))
    noise = noise.drop(columns=["leak"])
    path = tmp_path / "noise.csv"
    noise.to_csv(path, index=False)
    code = main(["train-table", str(path), *args[:6], "--tracking-uri", store])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "better than chance" in err[0]
    assert mlflow.MlflowClient(store, store).search_registered_models() == []
