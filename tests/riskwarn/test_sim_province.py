"""A simulated province: counties with their own townships, tied across their borders."""

from __future__ import annotations

import pandas as pd
import pytest

import riskwarn
from riskwarn import simulate
from riskwarn.errors import ConfigError

PERSONS, COUNTIES = 60_000, 4


@pytest.fixture(scope="module")
def province() -> riskwarn.Dataset:
    return simulate(persons=PERSONS, years=2, seed=8, counties=COUNTIES)


def county_of(ds: riskwarn.Dataset) -> pd.Series:
    """person_id -> county."""
    grids = ds.grids.set_index("grid_id")["county"]
    return pd.Series(grids.loc[ds.persons["grid_id"]].to_numpy(), index=ds.persons["person_id"])


def test_counties_have_their_own_townships_and_grids(province):
    g = province.grids
    assert g["county"].nunique() == COUNTIES
    towns = g.groupby("county")["township"].nunique()
    assert towns.between(10, 20).all()
    assert g.groupby("township")["county"].nunique().max() == 1  # a township in one county
    assert g["population"].sum() == len(province.persons) == PERSONS
    sizes = g.groupby("county")["population"].sum()
    assert sizes.min() > 0.2 * PERSONS / COUNTIES  # sizes differ, none vanishes
    for table, key in {"persons": "person_id", "grids": "grid_id", "disputes": "dispute_id",
                       "petitions": "petition_id", "incidents": "incident_id"}.items():  # fmt: skip
        assert province.table(table)[key].is_unique, table


def test_people_have_ties_and_disputes_across_county_borders(province):
    county = county_of(province)
    r = province.relationships
    across = r[county.loc[r["person_a"]].to_numpy() != county.loc[r["person_b"]].to_numpy()]
    kinds = across["kind"].value_counts()
    for kind in ("relative", "parent_child", "colleague", "creditor_debtor"):
        assert kinds.get(kind, 0) >= 20, kind
    assert len(across) < 0.05 * len(r)  # most life stays within a county
    parties = province.dispute_parties.assign(
        county=county.loc[province.dispute_parties["person_id"]].to_numpy()
    )
    spread = parties.groupby("dispute_id")["county"].nunique()
    assert 0.005 < (spread > 1).mean() < 0.1
    debts = province.disputes.set_index("dispute_id").loc[spread[spread > 1].index, "category"]
    assert {"debt", "labor_wage"} <= set(debts)


def test_a_province_through_the_cli_is_contract_valid(tmp_path, cli):
    out = tmp_path / "province"
    result = cli("simulate", str(out), "--persons", "12000", "--years", "1", "--counties", "3")
    assert result.returncode == 0, result.stderr
    assert cli("validate", str(out)).returncode == 0
    grids = pd.read_csv(out / "grids.csv")
    assert grids["county"].nunique() == 3
    assert (out / "_truth" / "scenario.json").is_file()


def test_a_province_too_small_for_its_counties_is_refused():
    with pytest.raises(ConfigError, match="at least 1000 persons"):
        simulate(persons=500, years=1, counties=10)
    with pytest.raises(ConfigError, match="counties must be"):
        simulate(persons=500, years=1, counties=0)
