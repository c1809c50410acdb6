"""What training does with snapshots touched by an intervention (issue 14).

Once warnings work, handled cases have fewer incidents than their records suggest, and a
model trained on them as if nothing had been done learns that such records are "safe" and
under-rates the next unhandled case. The experiment config chooses (``interventions``):

- ``exclude`` (default): drop snapshots whose dispute was acted on at or before the end of
  their label's horizon, so every label is of a course nobody intervened in;
- ``feature``: keep them and give the model the intervention as an input, known at the
  snapshot (:data:`INTERVENTION_FEATURES`); scoring adds the same columns;
- ``ignore``: train on every snapshot as if nothing had been done (the naive retrain).

A dataset without an ``interventions`` table trains the same under all three.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskwarn._dataset import Dataset

POLICIES = ("exclude", "feature", "ignore")
INTERVENTION_FEATURES = ("intervention_count", "intervention_days_since")
"""The inputs of the ``feature`` policy: interventions on the dispute at or before the
snapshot, and days since the first of them (missing when none)."""
IN_HORIZON = "intervention_in_horizon"


def intervention_columns(
    dataset: Dataset, snapshots: pd.DataFrame, horizon_days: int
) -> pd.DataFrame:
    """For each ``(dispute_id, as_of)``: :data:`INTERVENTION_FEATURES` (point in time) and
    ``intervention_in_horizon`` (an intervention at or before ``as_of + horizon``; for
    ``exclude`` only, never an input). Rows keep the snapshots' order."""
    n = len(snapshots)
    out = pd.DataFrame(
        {
            "intervention_count": np.zeros(n),
            "intervention_days_since": np.full(n, np.nan),
            IN_HORIZON: np.zeros(n, bool),
        }
    )
    table = dataset.table("interventions")
    if table is None or table.empty or n == 0:
        return out
    acts = table[["dispute_id", "at"]].astype({"dispute_id": "str"})
    keys = pd.DataFrame(
        {
            "row": np.arange(n),
            "dispute_id": snapshots["dispute_id"].astype(str).to_numpy(),
            "as_of": pd.to_datetime(snapshots["as_of"]).to_numpy(),
        }
    )
    m = keys.merge(acts, on="dispute_id")
    before = m[m["at"] <= m["as_of"]]
    count = before.groupby("row").size()
    first = before.groupby("row")["at"].min()
    out.loc[count.index, "intervention_count"] = count.to_numpy(float)
    since = (keys.loc[first.index, "as_of"].to_numpy() - first.to_numpy()) / np.timedelta64(1, "D")
    out.loc[first.index, "intervention_days_since"] = since
    horizon = pd.Timedelta(days=horizon_days)
    touched = m.loc[m["at"] <= m["as_of"] + horizon, "row"].unique()
    out.loc[touched, IN_HORIZON] = True
    return out


def keep_mask(columns: pd.DataFrame | None, policy: str) -> np.ndarray | None:
    """Which snapshots a policy trains on (None: all of them)."""
    if policy != "exclude" or columns is None:
        return None
    return ~columns[IN_HORIZON].to_numpy(bool)
