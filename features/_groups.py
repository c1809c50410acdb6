"""Who a snapshot is about, for fairness reports (not features, never fed to a model)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskwarn._contract import CATEGORIES, GENDERS, PARTY_ROLES
from riskwarn._dataset import Dataset

from ._index import Index, ns

AGE_BANDS = ("<30", "30-44", "45-59", "60+", "unknown")
_RESPONDENT = PARTY_ROLES.index("respondent")


def age_band(age: float) -> str:
    """The fairness report's age band of ``age`` in years."""
    if age != age:
        return "unknown"
    if age < 30:
        return "<30"
    if age < 45:
        return "30-44"
    return "45-59" if age < 60 else "60+"


def primary_party(index: Index, d: int) -> int:
    """The respondent with the smallest person id, else the party with the smallest id."""
    people = index.parties.col("person", d)
    roles = index.parties.col("role", d)
    if len(people) == 0:
        return -1
    respondents = people[roles == _RESPONDENT]
    return int(respondents.min() if len(respondents) else people.min())


def snapshot_groups(dataset: Dataset, snapshots: pd.DataFrame) -> pd.DataFrame:
    """Per snapshot: ``gender``, ``age_band`` and ``township`` of the primary party, and
    the dispute's ``category`` (all strings, "unknown" when not known).

    The primary party is the respondent with the smallest person id, else the party with the
    smallest person id. Rows keep the order of ``snapshots``.
    """
    index = Index.of(dataset)
    ids = snapshots["dispute_id"].astype("object").to_numpy()
    held = index.dispute_pos.get_indexer(pd.Index(ids))
    years = pd.to_datetime(ns(snapshots["as_of"])).year.to_numpy()
    gender, band, town, category = [], [], [], []
    for d, year in zip(held.tolist(), years.tolist(), strict=True):
        p = primary_party(index, d) if d >= 0 else -1
        if p < 0:
            gender.append("unknown")
            band.append("unknown")
            town.append("unknown")
        else:
            gender.append(GENDERS[index.gender[p]] if index.gender[p] >= 0 else "unknown")
            band.append(age_band(year - index.birth_year[p]))
            g = index.person_grid[p]
            t = index.grid_township[g] if g >= 0 else -1
            town.append(str(index.township_names[t]) if t >= 0 else "unknown")
        c = index.category[d] if d >= 0 else -1
        category.append(CATEGORIES[c] if c >= 0 else "unknown")
    return pd.DataFrame(
        {
            "dispute_id": pd.array(ids, dtype="str"),
            "as_of": snapshots["as_of"].to_numpy(dtype="datetime64[ns]"),
            "gender": pd.array(gender, dtype="str"),
            "age_band": pd.array(band, dtype="str"),
            "township": pd.array(town, dtype="str"),
            "category": pd.array(category, dtype="str"),
        },
        index=np.arange(len(ids)),
    )
