"""The honest choice of model: on a small table with a plain linear signal among noise,
the logistic regression beats LightGBM on validation log loss and is registered (model =
"best"); the run says so in its table, card and MLflow, and the registered logistic model is
a full model: calibrated, tiered, with reasons, saved as JSON, served by the pyfunc."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from riskwarn.cli import main
from riskwarn.training import LinearModel, load_model


def linear_table(n: int = 2000, seed: int = 5) -> pd.DataFrame:
    """Few rows, a signal that is exactly linear and spread over ten of twelve features:
    trees need many splits to approximate it, a logistic regression none."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 12))
    logit = -1.5 + x[:, :10] @ np.array([0.5, -0.5, 0.4, -0.4, 0.4, 0.3, -0.3, 0.3, 0.3, -0.3])
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(12)])
    days = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 30, n) * 30, unit="D")
    return frame.assign(case=[f"c{i}" for i in range(n)], as_of=days.strftime("%Y-%m-%d"), y=label)


@pytest.fixture
def linear_csv(tmp_path: Path) -> Path:
    path = tmp_path / "linear.csv"
    linear_table().to_csv(path, index=False)
    return path


def test_logistic_wins_on_a_linear_table_and_is_registered_as_a_full_model(
    linear_csv: Path, store: str, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    args = ["train-table", str(linear_csv), "--label", "y", "--time", "as_of", "--id", "case"]
    assert main([*args, "--tracking-uri", store]) == 0
    out = capsys.readouterr().out
    assert "validation log loss" in out and "registered" in out
    assert "LightGBM is worse than the logistic regression on validation log loss" in out

    model = load_model("models:/riskwarn-table@challenger", tracking_uri=store)
    assert model.kind == "logistic" and isinstance(model.estimator, LinearModel)
    choice = model.metadata.choice
    assert choice.rule == "best" and choice.lightgbm_worse_than_logistic
    assert choice.validation_logloss["logistic"] < choice.validation_logloss["lightgbm"]
    card = model.metadata.model_card
    assert "Registered: **logistic**" in card
    assert "**LightGBM is worse than the logistic regression on validation log loss.**" in card
    assert "linear SHAP" in card
    run = mlflow.get_run(model.metadata.run_id)
    assert run.data.tags["riskwarn.model_kind"] == "logistic"
    assert run.data.tags["riskwarn.lightgbm_worse_than_logistic"] == "true"
    # a full model: calibrated, tiered, reasons from linear SHAP, saved without pickle
    frame = pd.read_csv(linear_csv).head(200)
    scores = model.score(frame)
    assert set(scores.tier) <= {"red", "orange", "yellow", "blue"}
    assert any(r and r[0].feature in ("f0", "f1", "f2", "f3") for r in scores.reasons)
    files = {f.path for f in mlflow.artifacts.list_artifacts(model.uri + "/artifacts")}
    assert any(p.endswith("linear.json") for p in _walk(model.uri))
    assert not [p for p in _walk(model.uri) if p.endswith((".pkl", ".pickle"))], files
    served = mlflow.pyfunc.load_model("models:/riskwarn-table@challenger").predict(
        frame[model.feature_names]
    )
    np.testing.assert_allclose(served["risk"].to_numpy(), scores.risk)
    assert mlflow.models.get_model_info(model.uri).metadata["kind"] == "logistic"

    # the config may insist on LightGBM: registered, and the run still says it is worse
    config = tmp_path / "lgbm.toml"
    config.write_text('model = "lightgbm"\n', encoding="utf-8")
    assert main([*args, "--config", str(config), "--tracking-uri", store]) == 0
    out = capsys.readouterr().out
    forced = load_model("models:/riskwarn-table@challenger", tracking_uri=store)
    assert forced.kind == "lightgbm" and "registering LightGBM because the config says" in out
    assert forced.metadata.refit.refit and "refit on all" in out

    # --no-refit registers the evaluated model itself
    assert main([*args, "--no-refit", "--tracking-uri", store]) == 0
    kept = load_model("models:/riskwarn-table@challenger", tracking_uri=store)
    assert not kept.metadata.refit.refit and "refit on all" not in capsys.readouterr().out
    assert "`--no-refit`" in kept.metadata.model_card


def _walk(uri: str, path: str = "") -> list[str]:
    found = []
    for f in mlflow.artifacts.list_artifacts(uri if not path else f"{uri}/{path}"):
        name = f.path.split("/")[-1]
        sub = f"{path}/{name}" if path else name
        found += _walk(uri, sub) if f.is_dir else [sub]
    return found
