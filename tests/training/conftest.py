"""Fixtures for the training tests: generated labelled tables and a throwaway MLflow store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def make_table(n: int = 6000, seed: int = 0, days: int = 900) -> pd.DataFrame:
    """A flat labelled table with a known signal: time, id, numeric, category, checklist
    flags, a group column and a 0/1 label drawn from a logistic model."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-01")
    as_of = start + pd.to_timedelta(rng.integers(0, days // 30, n) * 30, unit="D")
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    cat = rng.choice(["land", "debt", "family"], n)
    threat = rng.random(n) < 0.15
    violence = rng.random(n) < 0.08
    weapon = rng.random(n) < 0.05
    logit = -3.2 + 1.3 * x1 + 0.6 * x2**2 + 0.9 * (cat == "family") + 0.8 * threat + 0.6 * violence
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "case": [f"c{i % (n // 3)}" for i in range(n)],
            "as_of": as_of.strftime("%Y-%m-%d"),
            "x1": x1,
            "x2": x2,
            "kind": cat,
            "threat_reported": threat,
            "violence_reported": violence,
            "weapon_mentioned": weapon,
            "gender": rng.choice(["male", "female"], n),
            "leak": label * 100.0,
            "label": label,
        }
    )


@pytest.fixture
def table() -> pd.DataFrame:
    return make_table()


@pytest.fixture
def table_csv(tmp_path: Path, table: pd.DataFrame) -> Path:
    path = tmp_path / "table.csv"
    table.to_csv(path, index=False)
    return path


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh embedded MLflow store (SQLite + local artifacts) under a temp RISKWARN_HOME."""
    home = tmp_path / "home"
    monkeypatch.setenv("RISKWARN_HOME", str(home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    home.mkdir()
    return f"sqlite:///{home / 'mlflow.db'}"


@pytest.fixture(scope="session")
def county():  # type: ignore[no-untyped-def]
    """A simulated county, small but with enough incidents to train on (built once)."""
    from riskwarn import simulate

    return simulate(persons=15000, years=3, seed=11)


@pytest.fixture(scope="session")
def county_dir(county, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    from riskwarn import write_dataset

    return write_dataset(county, tmp_path_factory.mktemp("county"), "parquet")
