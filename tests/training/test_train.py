"""Training on a contract dataset: point in time, registry and aliases, promotion, scoring,
experiments, all through the public API and the CLI on a real MLflow SQLite store."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from riskwarn import load_dataset
from riskwarn.cli import main
from riskwarn.errors import ModelMismatchError, ModelNotFoundError
from riskwarn.features import REGISTRY, REGISTRY_VERSION, build_snapshots, open_disputes
from riskwarn.training import (
    build_table,
    fit_evaluate,
    load_model,
    parse_config,
    promote,
    score_open,
    train,
    training_data,
)

UNTIL = pd.Timestamp("2024-03-31 23:59:59")  # what --train-until 2024-03-31 means
FAST = {"bootstrap": 20, "lgbm": {"n_estimators": 80}, "search": {"grid": {}}}
FAST_TOML = 'name = "fast"\nbootstrap = 20\n[lgbm]\nn_estimators = 80\n[search]\ngrid = {}\n'


@pytest.fixture(scope="module")
def table(county):  # type: ignore[no-untyped-def]
    return build_table(county, train_until="2024-03-31")


def test_train_until_uses_nothing_after_the_date(county, table) -> None:  # type: ignore[no-untyped-def]
    horizon = pd.Timedelta(days=90)
    assert (table.snapshots["as_of"] + horizon <= UNTIL).all()
    assert table.snapshots["label"].notna().all()
    # a dataset that never had any row after UNTIL gives the very same table and model
    blind = build_table(county.cut(UNTIL), train_until=UNTIL)
    pd.testing.assert_frame_equal(table.snapshots, blind.snapshots)
    pd.testing.assert_frame_equal(table.features, blind.features)
    assert table.digest == blind.digest
    # a bare date is the whole day: rows dated during 2024-03-31 are in, later ones are not
    assert table.train_until == UNTIL
    assert table.digest != county.cut(pd.Timestamp("2024-03-31")).digest()
    cfg = parse_config({**FAST, "bootstrap": 0, "baselines": False})
    a = fit_evaluate(training_data(table, cfg), cfg)
    b = fit_evaluate(training_data(blind, cfg), cfg)
    assert (
        a.model.estimator.booster.model_to_string() == b.model.estimator.booster.model_to_string()
    )
    assert pd.Timestamp(a.windows["test"]["end"]) + horizon <= UNTIL
    # without the cut, later labelled snapshots exist
    later = build_snapshots(county)
    assert later.loc[later["label_known"], "as_of"].max() > table.snapshots["as_of"].max()


def test_a_bad_date_is_a_clear_error(county_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["train", str(county_dir), "--train-until", "last tuesday"]) == 1
    assert "expected --train-until as a date like 2024-06-30" in capsys.readouterr().err


def test_config_selects_feature_groups(table) -> None:  # type: ignore[no-untyped-def]
    data = training_data(table, parse_config({"feature_groups": ["case", "history"]}))
    bounded = [s.name for s in REGISTRY if s.group in ("case", "history") and not s.bounded]
    assert list(data.features.columns) == bounded  # the "ever" counts' bounded twins instead
    ever_names = [n for n in REGISTRY.names(["case", "history"]) if "_ever" in n]
    assert ever_names and all(n.replace("_ever", "_1826d") in bounded for n in ever_names)
    ever = training_data(
        table, parse_config({"feature_groups": ["history"], "ever_features": True})
    )
    assert "events_threat_ever" in ever.features.columns
    assert "events_threat_1826d" not in ever.features.columns
    assert "gender" not in data.features.columns and set(data.groups.columns) >= {
        "gender",
        "age_band",
        "township",
        "category",
    }
    no_graph = training_data(table, parse_config({"drop_features": REGISTRY.names(["graph"])}))
    assert not set(REGISTRY.names(["graph"])) & set(no_graph.features.columns)


@pytest.fixture(scope="module")
def fitted(table):  # type: ignore[no-untyped-def]
    cfg = parse_config({**FAST, "baselines": False})
    return fit_evaluate(training_data(table, cfg), cfg).model


def test_scoring_uses_only_what_was_known_at_the_date(county, fitted) -> None:  # type: ignore[no-untyped-def]
    as_of = pd.Timestamp("2024-06-30")
    full = score_open(county, as_of, fitted, lang="en")
    blind = score_open(county.cut(as_of), as_of, fitted, lang="en")
    pd.testing.assert_frame_equal(full, blind)
    assert sorted(full["dispute_id"]) == open_disputes(county.cut(as_of), as_of)
    assert list(full.columns) == [
        "dispute_id",
        "as_of",
        "risk",
        "tier",
        "tier_model",
        "tier_floor_reason",
        "model_version",
        "reason_1",
        "reason_2",
        "reason_3",
        "key_fact_codes",
        "key_facts",
    ]
    assert full["risk"].between(0, 1).all() and full["risk"].is_monotonic_decreasing
    assert set(full["tier"]) <= {"red", "orange", "yellow", "blue"}
    # the riskiest cases have reasons (cases below the base rate may have none pushing up)
    assert (full["reason_1"].head(5).str.len() > 0).all()
    assert full["reason_1"].str.contains("days|times|threat|mediation|petition|dispute").any()


def test_a_bare_as_of_date_means_the_end_of_that_day(county, fitted) -> None:  # type: ignore[no-untyped-def]
    day = pd.Timestamp("2024-06-30")
    late = county.disputes.loc[
        (county.disputes["reported_at"] > day)
        & (county.disputes["reported_at"] < day + pd.Timedelta(days=1)),
        "dispute_id",
    ].tolist()
    assert late, "the county registers a dispute during the day"
    scored = score_open(county, "2024-06-30", fitted, lang="en")
    assert set(late) <= set(scored["dispute_id"])
    end = day + pd.Timedelta(hours=23, minutes=59, seconds=59)
    pd.testing.assert_frame_equal(scored, score_open(county, end, fitted, lang="en"))
    assert (scored["as_of"] == "2024-06-30T23:59:59").all()
    # an explicit moment is taken as it is
    midnight = score_open(county, "2024-06-30T00:00:00", fitted, lang="en")
    assert not set(late) & set(midnight["dispute_id"])
    assert (midnight["as_of"] == "2024-06-30T00:00:00").all()


def test_a_model_from_another_registry_is_refused(county, fitted) -> None:  # type: ignore[no-untyped-def]
    from riskwarn.training import RiskModel

    other = RiskModel(
        fitted.estimator, fitted.calibrator, fitted.metadata.with_(registry_version="old-registry")
    )
    with pytest.raises(ModelMismatchError, match=REGISTRY_VERSION):
        score_open(county, "2024-06-30", other)


@pytest.fixture
def cli(capsys):  # type: ignore[no-untyped-def]
    """Run ``riskwarn ...`` through its entry point; return stdout, fail on a non-zero exit."""

    def run(*args: str) -> str:
        code = main(list(args))
        captured = capsys.readouterr()
        assert code == 0, captured.err
        return captured.out

    return run


def test_registry_aliases_promotion_and_batch_scoring(
    county_dir, store, tmp_path, monkeypatch, cli, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(ModelNotFoundError, match="riskwarn@champion"):
        load_model(tracking_uri=store)
    args = ["score", str(county_dir), "--as-of", "2024-06-30", "--out", str(tmp_path / "x.csv")]
    assert main([*args, "--tracking-uri", store]) == 1
    assert (
        "expected a registered model behind 'models:/riskwarn@champion'" in capsys.readouterr().err
    )
    config = tmp_path / "fast.toml"
    config.write_text("refit = false\n" + FAST_TOML, encoding="utf-8")  # as before refits

    out = cli("train", str(county_dir), "--config", str(config), "--tracking-uri", store)
    assert "ROC-AUC" in out and "checklist" in out and "logistic" in out
    assert "registered model version 1" in out
    assert "now champion" in cli("promote", "--tracking-uri", store)
    assert load_model(tracking_uri=store).version == "1"

    cli("train", str(county_dir), "--config", str(config), "--tracking-uri", store)
    assert load_model("models:/riskwarn@challenger", tracking_uri=store).version == "2"
    kept = cli("promote", "--tracking-uri", store)  # same data, same seed: not better
    assert "champion stays version 1" in kept and "not better" in kept
    assert "forced" in cli("promote", "--force", "--tracking-uri", store)
    champion = load_model(tracking_uri=store)
    assert champion.version == "2"
    assert load_model("models:/riskwarn@previous-champion", tracking_uri=store).version == "1"
    assert champion.registry_version == REGISTRY_VERSION
    assert set(champion.thresholds) == {"red", "orange", "yellow"}
    assert champion.metadata.run_id and champion.metadata.model_card
    assert champion.metadata.windows and champion.metadata.metrics and champion.metadata.groups

    client = mlflow.MlflowClient()
    reasons = [
        r.data.tags["reason"]
        for r in mlflow.search_runs(experiment_names=["riskwarn-promotions"], output_format="list")
    ]
    assert len(reasons) == 3 and any("no champion yet" in r for r in reasons)
    assert "promotion" in client.get_model_version("riskwarn", "2").tags

    csv = tmp_path / "nightly.csv"
    cli(
        "score",
        str(county_dir),
        "--as-of",
        "2024-06-30",
        "--out",
        str(csv),
        "--tracking-uri",
        store,
    )
    nightly = pd.read_csv(csv)
    assert (nightly["model_version"] == 2).all()
    at = pd.Timestamp("2024-06-30 23:59:59")  # --as-of 2024-06-30: the whole day
    assert (nightly["as_of"] == "2024-06-30T23:59:59").all()
    assert sorted(nightly["dispute_id"]) == open_disputes(load_dataset(county_dir).cut(at), at)
    features = champion_features(county_dir, nightly["dispute_id"], at)
    expected = champion.predict_risk(features)
    np.testing.assert_allclose(nightly["risk"].to_numpy(), expected, rtol=1e-6)

    # what `mlflow models serve` runs: the pyfunc, on features in their wire types
    wire = features[champion.feature_names].copy()
    for name in champion.layout.categories:
        wire[name] = wire[name].astype(object)
    served = mlflow.pyfunc.load_model("models:/riskwarn@champion").predict(wire)
    np.testing.assert_allclose(served["risk"].to_numpy(), expected, rtol=1e-9)
    assert served["tier"].tolist() == champion.tiers(expected).tolist()


def test_promotion_never_grades_a_champion_on_its_own_training_labels(
    county, county_dir, table, store
) -> None:  # type: ignore[no-untyped-def]
    cfg = parse_config({**FAST, "bootstrap": 0, "baselines": False})
    everything = build_table(county)

    def fit(t, c=cfg):  # type: ignore[no-untyped-def]
        model = train(county_dir, c, table=t, tracking_uri=store).result.model
        return model.metadata.model_dump(mode="json")  # the JSON form, as MLflow holds it

    newest = fit(everything)  # v1: trained on all labels, then refit on all of them
    assert newest["horizon_days"] == 90 and newest["refit"]["refit"]
    val_end = pd.Timestamp(newest["windows"]["validation"]["end"])
    evaluated_end = pd.Timestamp(newest["evaluation_labels_end"])
    assert evaluated_end == val_end + pd.Timedelta(days=90)
    assert evaluated_end <= pd.Timestamp(newest["windows"]["test"]["start"])
    # the deployed model has seen every label: up to the last labelled snapshot's horizon
    last = everything.snapshots["as_of"].max()
    assert pd.Timestamp(newest["labels_end"]) == last + pd.Timedelta(days=90)
    assert promote(store).promoted

    older = fit(table)  # v2: --train-until 2024-03-31, its test window long before v1's end
    assert pd.Timestamp(older["windows"]["test"]["end"]) < pd.Timestamp(newest["labels_end"])
    card = older["model_card"]
    assert "data dated on or before 2024-03-31T23:59:59" in card and "Horizon: 90 days" in card
    assert f"ends by\n**{older['labels_end']}**" in card and "| labels end |" in card
    assert f"ends by\n**{older['evaluation_labels_end']}**" in card
    assert "no `--train-until`" in newest["model_card"]
    decision = promote(store)
    assert not decision.promoted and decision.metrics == {}
    assert "where the champion's training labels end, got 0 of" in decision.reason
    assert "--force" in decision.reason
    assert promote(store, force=True).promoted  # v2 champion now, labels ending 2024-03-31

    fit(everything)  # v3: a challenger trained on newer data than the champion
    decision = promote(store)
    assert decision.metrics and decision.window["since"] == older["labels_end"]
    assert 0 < decision.window["rows"] == decision.window["test_rows"]
    assert f"on {decision.window['rows']} of the challenger's" in decision.reason
    # the refit challenger has seen its own test labels: it is graded by its evaluated
    # model's risks stored with the run, never by re-scoring with the refit model
    challenger = load_model("models:/riskwarn@challenger", tracking_uri=store)
    test = pd.read_parquet(
        mlflow.artifacts.download_artifacts(
            run_id=challenger.metadata.run_id,
            artifact_path="evaluation/test.parquet",
            tracking_uri=store,
        )
    )
    from riskwarn.training import evaluate

    honest = evaluate(test["label"], test["evaluated_risk"], groups=test["time"], n_boot=0)
    assert decision.metrics["challenger"]["roc_auc"] == pytest.approx(honest["roc_auc"]["value"])
    refit_auc = evaluate(
        test["label"], challenger.predict_risk(test), groups=test["time"], n_boot=0
    )["roc_auc"]["value"]
    assert refit_auc != pytest.approx(honest["roc_auc"]["value"])

    shorter = parse_config({**FAST, "bootstrap": 0, "baselines": False, "horizon_days": 60})
    fit(build_table(county, horizon_days=60), shorter)  # v4: another question altogether
    decision = promote(store)
    assert not decision.promoted and "same horizon, got challenger 60 days" in decision.reason


def champion_features(directory, ids, at):  # type: ignore[no-untyped-def]
    from riskwarn.features import build_features

    snaps = pd.DataFrame(
        {
            "dispute_id": pd.array(list(ids), dtype="str"),
            "as_of": pd.Series([at] * len(ids), dtype="datetime64[ns]"),
        }
    )
    return build_features(load_dataset(directory).cut(at), snaps)


def test_experiment_run_compares_configs(county_dir, store, tmp_path, monkeypatch, cli) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "250")
    configs = []
    for name, extra in (
        ("case_only", 'feature_groups = ["case"]'),
        ("no_graph", 'feature_groups = ["case", "history", "petitions", "parties", "area"]'),
    ):
        path = tmp_path / f"{name}.toml"
        path.write_text(
            f'name = "{name}"\n{extra}\nbootstrap = 20\n[lgbm]\nn_estimators = 80\n',
            encoding="utf-8",
        )
        configs.append(str(path))
    out = cli("experiment", "run", *configs, "--data", str(county_dir), "--tracking-uri", store)
    assert "case_only" in out and "no_graph" in out
    runs = mlflow.search_runs(experiment_names=["riskwarn-experiments"], output_format="list")
    assert sorted(r.data.tags["riskwarn.config"] for r in runs) == ["case_only", "no_graph"]
    assert mlflow.MlflowClient().search_registered_models() == []

    # an unregistered run's model scores by its runs:/ URI, which the command prints
    uri = f"runs:/{runs[0].info.run_id}/model"
    assert uri in out
    model = load_model(uri, tracking_uri=store)
    assert model.version == "" and model.uri == uri
    csv = tmp_path / "by-run.csv"
    cli("score", str(county_dir), "--as-of", "2024-06-30", "--out", str(csv), "--model", uri)
    assert (pd.read_csv(csv)["model_version"] == uri).all()
    found = mlflow.search_logged_models([runs[0].info.experiment_id], output_format="list")
    logged = found[0].model_uri  # MLflow's own models:/m-... URI
    assert load_model(logged, tracking_uri=store).feature_names
    with pytest.raises(ModelNotFoundError, match="runs:/0123abc/model"):
        load_model("runs:/0123abc/model", tracking_uri=store)

    # --register: one version, of the config with the best validation score
    out = cli(
        "experiment",
        "run",
        *configs,
        "--data",
        str(county_dir),
        "--register",
        "--tracking-uri",
        store,
    )
    client = mlflow.MlflowClient()
    versions = client.search_model_versions("name='riskwarn'")
    assert len(versions) == 1 and "registered as version 1" in out
    latest = mlflow.search_runs(
        experiment_names=["riskwarn-experiments"], output_format="list", max_results=2
    )
    brier = {r.data.tags["riskwarn.config"]: r.data.metrics["validation_brier"] for r in latest}
    best = min(brier, key=brier.__getitem__)
    assert versions[0].tags["config"] == best
    assert load_model("models:/riskwarn@challenger", tracking_uri=store).version == "1"
