"""The ground truth beside a simulated dataset: scenario.json and the oracle."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import riskwarn
from riskwarn import simulate, simulate_with_truth
from riskwarn.features import build_snapshots


@pytest.fixture(scope="module")
def truthful() -> riskwarn.Simulation:
    return simulate_with_truth(persons=20_000, years=3, seed=2)


def test_the_dataset_is_the_same_with_or_without_its_truth(truthful):
    assert truthful.dataset.digest() == simulate(persons=20_000, years=3, seed=2).digest()
    assert truthful.truth.warnings is None  # no warning loop asked for
    assert truthful.truth.scenario["drift"] == {"scenario": "none"}


def test_the_oracle_covers_every_open_dispute_every_week(truthful):
    oracle = truthful.truth.oracle
    assert list(oracle.columns) == ["dispute_id", "as_of", "status", "hazard_week", "risk_90d"]
    assert set(oracle["dispute_id"]) <= set(truthful.dataset.disputes["dispute_id"])
    assert set(oracle["status"]) == {"open", "closed"}
    assert (oracle["as_of"].dt.day_of_week == oracle["as_of"].iloc[0].day_of_week).all()  # weekly
    assert ((oracle["hazard_week"] > 0) & (oracle["hazard_week"] < 1)).all()
    assert ((oracle["risk_90d"] > 0) & (oracle["risk_90d"] < 1)).all()
    # 90 days hold about 13 weeks of hazard: the 90-day risk exceeds one week's for open cases
    open_ = oracle[oracle["status"] == "open"]
    assert (open_["risk_90d"] > open_["hazard_week"]).mean() > 0.95
    # a dispute is in the oracle from the first week after its registration
    first = oracle.groupby("dispute_id")["as_of"].min()
    reported = truthful.dataset.disputes.set_index("dispute_id")["reported_at"]
    lag = first - reported.loc[first.index]
    assert (lag > pd.Timedelta(0)).all() and (lag <= pd.Timedelta(days=7)).all()


def test_the_oracle_ranks_the_labels_far_better_than_chance(truthful):
    """The data's own risk: the label of a monthly snapshot against the oracle's risk at
    the week holding it (a ceiling for models, docs/simulator.md)."""
    ds, oracle = truthful.dataset, truthful.truth.oracle
    snaps = build_snapshots(ds, start=pd.Timestamp("2022-01-01"), every=30, horizon=90)
    snaps = snaps[snaps["label_known"]].sort_values("as_of")
    joined = pd.merge_asof(
        snaps, oracle.sort_values("as_of"), on="as_of", by="dispute_id", direction="backward"
    ).dropna(subset=["risk_90d"])
    assert len(joined) > 0.9 * len(snaps)
    auc = roc_auc_score(joined["label"].astype(int), joined["risk_90d"])
    assert auc > 0.8
    # calibrated in the large within a factor of about two (it leaves out incidents that
    # reach a dispute through its parties, and new events)
    mine = joined["label"].astype(int).mean()
    assert 0.3 < joined["risk_90d"].mean() / mine < 2.0


def test_truth_is_written_beside_the_tables_and_the_contract_ignores_it(tmp_path, cli):
    out = tmp_path / "county"
    result = cli("simulate", str(out), "--persons", "2000", "--years", "1", "--truth")
    assert result.returncode == 0, result.stderr
    truth = out / "_truth"
    assert sorted(p.name for p in truth.iterdir()) == ["oracle.parquet", "scenario.json"]
    oracle = pd.read_parquet(truth / "oracle.parquet")
    assert len(oracle) > 1000
    scenario = json.loads((truth / "scenario.json").read_text(encoding="utf-8"))
    assert scenario["persons"] == 2000 and scenario["oracle"]["horizon_days"] == 90
    report = riskwarn.validate_dataset(out)
    assert report.ok and not report.warnings
    assert "_truth" not in report.rows and len(report.rows) == 10
    loaded = riskwarn.load_dataset(out)
    assert loaded.digest() == simulate(persons=2000, years=1, seed=0).digest()
    # a plain run into the same folder leaves no stale truth behind
    assert cli("simulate", str(out), "--persons", "2000", "--years", "1").returncode == 0
    assert not truth.exists()


def test_a_plain_write_leaves_other_files_in_the_folder_alone(tmp_path):
    out = tmp_path / "county"
    (out / "_truth").mkdir(parents=True)
    (out / "_truth" / "mine.txt").write_text("kept", encoding="utf-8")
    (out / "_truth" / "oracle.parquet").write_bytes(b"stale")
    simulate_with_truth(persons=500, years=1, oracle=False).write(out)
    assert not (out / "_truth" / "oracle.parquet").exists()
    assert (out / "_truth" / "mine.txt").read_text(encoding="utf-8") == "kept"
    assert np.isclose(len(riskwarn.load_dataset(out).persons), 500)
