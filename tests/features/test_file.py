"""Features files: `riskwarn features` records what a file was built from in its Parquet
metadata, and reading it gives back the table `build_features` gives, typed the same."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from riskwarn import simulate, write_dataset
from riskwarn.cli import main
from riskwarn.errors import ConfigError
from riskwarn.features import (
    REGISTRY,
    REGISTRY_VERSION,
    FeatureFile,
    build_features,
    build_snapshots,
    read_features,
    write_features,
)


@pytest.fixture(scope="module")
def county():  # type: ignore[no-untyped-def]
    return simulate(persons=1500, years=1.0, seed=5)


@pytest.fixture(scope="module")
def county_dir(county, tmp_path_factory):  # type: ignore[no-untyped-def]
    return write_dataset(county, tmp_path_factory.mktemp("county"), "parquet")


def test_the_command_records_what_the_file_was_built_from(county, county_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "f.parquet"
    args = ["features", str(county_dir), "--out", str(out), "--every", "14", "--horizon", "60"]
    assert main([*args, "--start", "2022-03-01", "--train-until", "2022-10-31"]) == 0
    meta = json.loads(pq.read_schema(out).metadata[b"riskwarn.features"])
    assert meta == {
        "dataset_digest": county.digest(),
        "registry_version": REGISTRY_VERSION,
        "every": 14,
        "horizon": 60,
        "start": "2022-03-01T00:00:00",
        "end": None,
        "train_until": "2022-10-31T23:59:59",
        "retention": None,
        "rows": pq.read_metadata(out).num_rows,
    }
    table, info = read_features(out)
    assert info == FeatureFile(**meta)
    # the file holds what the cut dataset gives: nothing dated after the cut is used
    cut = county.cut(info.until)
    snaps = build_snapshots(cut, start="2022-03-01", every=14, horizon=60)
    pd.testing.assert_frame_equal(table[list(snaps.columns)], snaps)
    expected = build_features(cut, snaps[["dispute_id", "as_of"]])
    pd.testing.assert_frame_equal(table[REGISTRY.names()], expected[REGISTRY.names()])


def test_reading_gives_the_types_build_features_gives(county, tmp_path) -> None:  # type: ignore[no-untyped-def]
    snaps = build_snapshots(county, every=60)
    table = pd.concat(
        [snaps, build_features(county, snaps[["dispute_id", "as_of"]]).iloc[:, 2:]], axis=1
    )
    info = FeatureFile(county.digest(), REGISTRY_VERSION, every=60, horizon=90)
    path = write_features(table, tmp_path / "deep" / "f.parquet", info)
    back, meta = read_features(path)
    pd.testing.assert_frame_equal(back, table)
    assert meta.rows == len(table) and meta.until is None


def test_a_file_of_other_data_or_another_registry_is_refused_naming_both(county, tmp_path) -> None:  # type: ignore[no-untyped-def]
    info = FeatureFile("0123456789abcdef", "feedfacecafe", every=30, horizon=90)
    path = write_features(pd.DataFrame({"dispute_id": []}), tmp_path / "f.parquet", info)
    with pytest.raises(ConfigError) as caught:
        FeatureFile.of(path).check(county.digest(), path)
    message = str(caught.value)
    assert "0123456789abcdef" in message and county.digest() in message
    assert "feedfacecafe" in message and REGISTRY_VERSION in message
    assert "riskwarn features" in message
    FeatureFile(county.digest(), REGISTRY_VERSION, 30, 90).check(county.digest(), path)


def test_files_that_are_not_features_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        read_features(tmp_path / "missing.parquet")
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(plain)
    with pytest.raises(ConfigError, match="no riskwarn features metadata"):
        read_features(plain)
    text = tmp_path / "text.parquet"
    text.write_text("not parquet", encoding="utf-8")
    with pytest.raises(ConfigError, match="Parquet"):
        read_features(text)
