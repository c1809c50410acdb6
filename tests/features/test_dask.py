"""Features built as Dask tasks (county tasks for the case features, date-range tasks for
the graph and area features) equal the single-process build, value for value, on a
simulated province whose ties and disputes cross county borders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from riskwarn import simulate, write_dataset
from riskwarn.cli import main
from riskwarn.errors import ConfigError
from riskwarn.features import (
    FeatureFile,
    build_features,
    build_features_dask,
    build_snapshots,
    dask_client,
    read_features,
)

KEYS = ["dispute_id", "as_of"]


@pytest.fixture(scope="module")
def province():
    return simulate(persons=6000, years=1.5, seed=3, counties=3)


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    with dask_client("local:2") as c:
        yield c


def _single(ds) -> pd.DataFrame:
    snaps = build_snapshots(ds)
    table = build_features(ds, snaps[KEYS])
    return pd.concat([snaps, table.drop(columns=KEYS)], axis=1)


def _cross_county(ds) -> tuple[int, int]:
    """(relationships, disputes) whose people live in different counties."""
    county = ds.grids.set_index("grid_id")["county"]
    home = ds.persons.set_index("person_id")["grid_id"].map(county)
    rel = ds.relationships
    ties = int(
        (home.reindex(rel["person_a"]).to_numpy() != home.reindex(rel["person_b"]).to_numpy()).sum()
    )
    parties = ds.dispute_parties.assign(
        county=home.reindex(ds.dispute_parties["person_id"]).to_numpy()
    )
    disputes = int((parties.groupby("dispute_id")["county"].nunique() > 1).sum())
    return ties, disputes


def test_dask_build_equals_the_single_process_build(province, client) -> None:
    ties, disputes = _cross_county(province)
    assert ties > 100 and disputes > 5  # the borders are crossed, so the halo is exercised
    single = _single(province)
    built = build_features_dask(province, client)
    assert len(built) > 300
    pd.testing.assert_frame_equal(built, single, check_exact=True)


def test_dask_build_honours_the_snapshot_grid(province, client) -> None:
    start, end = "2022-03-01", "2022-11-30"
    snaps = build_snapshots(province, start=start, end=end, every=14, horizon=60)
    single = pd.concat([snaps, build_features(province, snaps[KEYS]).drop(columns=KEYS)], axis=1)
    built = build_features_dask(province, client, start=start, end=end, every=14, horizon=60)
    pd.testing.assert_frame_equal(built, single, check_exact=True)


def test_features_command_with_dask_writes_the_same_file(province, tmp_path: Path) -> None:
    write_dataset(province, tmp_path / "province", format="parquet")
    one, many = tmp_path / "one.parquet", tmp_path / "many.parquet"
    assert main(["features", str(tmp_path / "province"), "--out", str(one)]) == 0
    args = ["features", str(tmp_path / "province"), "--out", str(many), "--dask", "local:2"]
    assert main(args) == 0
    (a, info_a), (b, info_b) = read_features(one), read_features(many)
    pd.testing.assert_frame_equal(b, a, check_exact=True)
    assert info_b == info_a == FeatureFile.of(many)  # `train --features` reads it the same


def test_a_bad_scheduler_address_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match="local:N"), dask_client("local:0"):
        pass
