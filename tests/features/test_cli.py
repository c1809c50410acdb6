"""`riskwarn features DIR --out FILE.parquet` through the CLI entry point, and the library on
a simulated county end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from riskwarn import simulate, write_dataset
from riskwarn.cli import main
from riskwarn.features import REGISTRY, FeatureBuilder, build_features, build_snapshots


def test_features_command_writes_labels_and_features(tmp_path: Path, capsys) -> None:
    ds = simulate(persons=1500, years=1.0, seed=5)
    write_dataset(ds, tmp_path / "county")
    out = tmp_path / "out" / "features.parquet"
    args = ["features", str(tmp_path / "county"), "--out", str(out), "--every", "30"]
    assert main([*args, "--horizon", "60"]) == 0
    printed = capsys.readouterr().out
    assert "rows" in printed and "positives" in printed and "features" in printed
    table = pd.read_parquet(out)
    assert list(table.columns) == ["dispute_id", "as_of", "label", "label_known", *REGISTRY.names()]
    assert len(table) > 0
    assert table.loc[~table["label_known"], "label"].isna().all()
    assert table.loc[table["label_known"], "label"].notna().all()
    end = ds.end
    assert (table["label_known"] == (table["as_of"] + pd.Timedelta(days=60) <= end)).all()


def test_bad_options_fail_with_a_message(tmp_path: Path, capsys) -> None:
    assert (
        main(["features", str(tmp_path), "--out", str(tmp_path / "x.parquet"), "--every", "0"]) != 0
    )
    assert main(["features", str(tmp_path / "missing"), "--out", str(tmp_path / "x.parquet")]) != 0
    assert "riskwarn" in capsys.readouterr().err


def test_simulated_county_end_to_end() -> None:
    ds = simulate(persons=4000, years=2.0, seed=11)
    snaps = build_snapshots(ds)
    assert snaps["label_known"].any() and len(snaps) > 100
    table = build_features(ds, snaps)
    assert len(table) == len(snaps)
    assert (table["dispute_id"].to_numpy() == snaps["dispute_id"].to_numpy()).all()
    constant = [n for n in REGISTRY.names() if table[n].nunique(dropna=False) <= 1]
    assert len(constant) < len(REGISTRY) // 5, constant  # the county exercises most features
    assert table["graph_component_size"].min() >= 1
    assert (table["case_age_days"] >= 0).all()
    builder = FeatureBuilder(ds)
    sample = snaps.sample(20, random_state=0)
    for i, row in sample.iterrows():
        one = builder.features_for(row["dispute_id"], row["as_of"])
        for name in (
            "graph_pagerank_max",
            "ego_open_disputes_1hop",
            "area_grid_disputes_365d_rate",
        ):
            assert one[name] == table.loc[i, name]
