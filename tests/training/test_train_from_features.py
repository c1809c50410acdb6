"""`riskwarn train --features` and `riskwarn experiment run --features`: features built once
by `riskwarn features`, checked against the dataset and the feature registry, and the same
table (so the same model) as building them again."""

from __future__ import annotations

import pandas as pd
import pytest

from riskwarn import simulate, write_dataset
from riskwarn.cli import main
from riskwarn.errors import ConfigError
from riskwarn.features import FeatureFile, read_features, write_features
from riskwarn.training import build_table

FAST_TOML = 'name = "fast"\nbootstrap = 20\nbaselines = false\n[lgbm]\nn_estimators = 60\n'


@pytest.fixture(scope="module")
def features_file(county_dir, tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("features") / "county.parquet"
    assert main(["features", str(county_dir), "--out", str(out)]) == 0
    return out


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    pd.testing.assert_frame_equal(a.snapshots, b.snapshots)
    pd.testing.assert_frame_equal(a.features, b.features)
    pd.testing.assert_frame_equal(a.groups, b.groups)
    assert (a.digest, a.registry_version, a.train_until) == (
        b.digest,
        b.registry_version,
        b.train_until,
    )


@pytest.mark.parametrize("until", [None, "2024-03-31"])
def test_a_features_file_gives_the_table_training_builds(county, features_file, until) -> None:  # type: ignore[no-untyped-def]
    _same(
        build_table(county, features=features_file, train_until=until),
        build_table(county, train_until=until),
    )


def _metrics(out: str) -> str:
    """The printed metrics table (run ids and times left out)."""
    return out.split("MLflow run")[0]


def test_train_and_experiments_read_the_file(
    county_dir, features_file, store, tmp_path, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "200")
    config = tmp_path / "fast.toml"
    config.write_text(FAST_TOML, encoding="utf-8")
    args = ["train", str(county_dir), "--config", str(config), "--tracking-uri", store]
    assert main([*args, "--features", str(features_file)]) == 0
    from_file = capsys.readouterr().out
    assert main(args) == 0
    rebuilt = capsys.readouterr().out
    assert "ROC-AUC" in from_file and _metrics(from_file) == _metrics(rebuilt)

    other = tmp_path / "other.toml"
    other.write_text(
        f'feature_groups = ["case"]\n{FAST_TOML}'.replace('"fast"', '"cases"'), encoding="utf-8"
    )
    run = ["experiment", "run", str(config), str(other), "--data", str(county_dir)]
    assert main([*run, "--features", str(features_file), "--tracking-uri", store]) == 0
    out = capsys.readouterr().out
    assert "fast" in out and "cases" in out

    horizon = tmp_path / "h60.toml"
    horizon.write_text(f"horizon_days = 60\n{FAST_TOML}", encoding="utf-8")
    assert main([*run[:2], str(horizon), *run[4:], "--features", str(features_file)]) == 1
    err = capsys.readouterr().err
    assert "every 30 days with a 90-day horizon" in err and "horizon 60" in err


def test_a_file_of_other_data_or_another_registry_is_refused(
    county, county_dir, features_file, tmp_path, capsys
) -> None:  # type: ignore[no-untyped-def]
    small = write_dataset(simulate(persons=800, years=1.0, seed=2), tmp_path / "small")
    theirs = tmp_path / "small.parquet"
    assert main(["features", str(small), "--out", str(theirs)]) == 0
    capsys.readouterr()
    assert main(["train", str(county_dir), "--features", str(theirs)]) == 1
    err = capsys.readouterr().err
    mine = county.digest()
    assert mine in err and FeatureFile.of(theirs).dataset_digest in err
    assert "riskwarn features" in err

    table, info = read_features(features_file)
    stale = write_features(
        table, tmp_path / "stale.parquet", FeatureFile(mine, "0ldregistry0", 30, 90)
    )
    assert main(["train", str(county_dir), "--features", str(stale)]) == 1
    err = capsys.readouterr().err
    assert "0ldregistry0" in err and info.registry_version in err


def test_a_file_cut_at_a_date_serves_only_that_date(county, county_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cut = tmp_path / "cut.parquet"
    args = ["features", str(county_dir), "--out", str(cut), "--train-until", "2024-03-31"]
    assert main(args) == 0
    _same(
        build_table(county, features=cut, train_until="2024-03-31"),
        build_table(county, train_until="2024-03-31"),
    )
    with pytest.raises(ConfigError, match="was built with --train-until 2024-03-31 23:59:59"):
        build_table(county, features=cut)
    window = tmp_path / "window.parquet"
    assert main(["features", str(county_dir), "--out", str(window), "--start", "2023-01-01"]) == 0
    with pytest.raises(ConfigError, match="rebuild the file without --start and --end"):
        build_table(county, features=window)
