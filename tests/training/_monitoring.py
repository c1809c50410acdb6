"""What the monitoring tests share: a quickly trained model and planted changes in a
contract dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskwarn import Dataset
from riskwarn.training import RiskModel, build_table, fit_evaluate, parse_config, training_data

FAST = {"bootstrap": 20, "lgbm": {"n_estimators": 80}, "search": {"grid": {}}, "baselines": False}


def model_until(ds: Dataset, until: str) -> RiskModel:
    """A small LightGBM model trained (and refit) on ``ds`` up to ``until``."""
    cfg = parse_config(FAST)
    return fit_evaluate(training_data(build_table(ds, train_until=until), cfg), cfg).model


def more_incidents(ds: Dataset, after: str, share: float = 0.2, seed: int = 0) -> Dataset:
    """``ds`` with how risk works changed from ``after``: a ``share`` of the disputes
    registered since then end in a serious injury 1-60 days later (their first party
    against the second), so risks learned before run far too low."""
    rng = np.random.default_rng(seed)
    frames = ds.tables()
    disputes = frames["disputes"]
    new = disputes.loc[disputes["reported_at"] > pd.Timestamp(after)]
    hit = new.loc[rng.random(len(new)) < share]
    parties = frames["dispute_parties"]
    rows, people = [], []
    for k, d in enumerate(hit.itertuples()):
        who = parties.loc[parties["dispute_id"] == d.dispute_id, "person_id"].tolist()
        when = d.reported_at + pd.Timedelta(days=float(rng.uniform(1, 60)))
        if not who or when > ds.end:
            continue
        rows.append(
            {
                "incident_id": f"PLANTED{k}",
                "occurred_at": when,
                "kind": "serious_injury",
                "dispute_id": d.dispute_id,
            }
        )
        people.append({"incident_id": f"PLANTED{k}", "person_id": who[0], "role": "perpetrator"})
        if len(who) > 1:
            people.append({"incident_id": f"PLANTED{k}", "person_id": who[1], "role": "victim"})
    incidents = pd.concat([frames["incidents"], pd.DataFrame(rows)], ignore_index=True)
    persons = pd.concat([frames["incident_persons"], pd.DataFrame(people)], ignore_index=True)
    frames["incidents"] = incidents.astype(frames["incidents"].dtypes.to_dict())
    frames["incident_persons"] = persons.astype(frames["incident_persons"].dtypes.to_dict())
    return Dataset.from_frames(**frames)
