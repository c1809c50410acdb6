"""What the simulator knows and the records do not: the true hazard of every dispute (the
"oracle"), the scenario a dataset was drawn under, and the simulated warning loop's
decisions. Written beside a dataset in ``_truth/``, outside the contract (the validator
and the loader read only the contract's files at the top of a dataset folder).

The oracle, for each dispute open or watched after closure and each simulated week:

- ``hazard_week``: the probability of an extreme incident in this dispute in the week,
  exactly as the simulator drew it (hidden factors included);
- ``risk_90d``: the probability of one in the next 90 days given the state at the week's
  start, ``1 - exp(-sum_k E[exp(eta_k)])`` over the 90 days' weeks ``k``, where ``eta_k``
  assumes nothing new happens (no new threat, call, failure, petition or closure; the
  threat and call memory and the exposure decay as they would; the hidden mood regresses
  to its mean, in expectation; a closed dispute's watch ends after 26 weeks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from riskwarn._sim_course import MEMORY_PER_WEEK, MOOD_AR, MOOD_SD, WATCH_WEEKS
from riskwarn._sim_time import Clock

HORIZON_DAYS = 90.0
TRUTH_DIR = "_truth"
TRUTH_FILES = ("scenario.json", "oracle.parquet", "warnings.parquet")


class Oracle:
    """Collects the true hazard of every dispute, week by week, while the course runs."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, float, bool, np.ndarray, np.ndarray]] = []

    def add(self, sim, d: np.ndarray, t0: float, t1: float, eta: np.ndarray, watched: bool):
        """The week starting at ``t0``: disputes ``d`` (those registered by then kept)."""
        known = sim.c.day[d] < t0
        d, eta = d[known], eta[known]
        if d.size == 0:
            return
        hazard = -np.expm1(-np.exp(eta))
        risk = _risk_ahead(sim, d, t0, t1, eta, watched)
        self.parts.append((d.astype(np.int32), t0, watched, hazard, risk))

    def frame(self, clock: Clock, dispute_id: np.ndarray) -> pd.DataFrame:
        """One row per (dispute, week): dispute_id, as_of, status, hazard_week, risk_90d."""
        if not self.parts:
            case = np.zeros(0, np.int32)
            t = hazard = risk = np.zeros(0)
            watched = np.zeros(0, bool)
        else:
            case = np.concatenate([x[0] for x in self.parts])
            t = np.concatenate([np.full(x[0].size, x[1]) for x in self.parts])
            watched = np.concatenate([np.full(x[0].size, x[2]) for x in self.parts])
            hazard = np.concatenate([x[3] for x in self.parts])
            risk = np.concatenate([x[4] for x in self.parts])
        order = np.lexsort((case, t))
        return pd.DataFrame(
            {
                "dispute_id": id_column(dispute_id, case[order]),
                "as_of": clock.stamps(t[order]).astype("datetime64[ns]"),
                "status": np.where(watched[order], "closed", "open"),
                "hazard_week": hazard[order],
                "risk_90d": risk[order],
            }
        )


def _risk_ahead(sim, d, t0: float, t1: float, eta: np.ndarray, watched: bool) -> np.ndarray:
    """``risk_90d`` of the module docstring for disputes ``d`` whose hazard now is ``eta``."""
    hz = sim.hazard_at(t0)[0]
    c, w = sim.c, sim.world
    a, b = c.a[d], c.b[d]
    thr, pol, mood = sim.thr[d], sim.pol[d], sim.mood[d]
    exposure = w.exposure[a] + w.exposure[b]
    weeks = np.maximum(t0 - c.day[d], 0.0) / 7.0
    last_sep = np.maximum(w.last_sep[a], w.last_sep[b])
    memory = 1.0 if watched else MEMORY_PER_WEEK  # only open disputes forget week by week

    def moving(k: int, lo: float, hi: float) -> np.ndarray:
        var = MOOD_SD**2 * (1 - MOOD_AR ** (2 * k)) / (1 - MOOD_AR**2)
        out = (
            hz.threat_events * np.minimum(thr * memory**k, 2)
            + hz.police_calls * np.minimum(pol * memory**k, 2)
            + hz.exposure * np.minimum(exposure * w.decay**k, 3)
            + hz.weeks_open * np.log1p((weeks + k) / 4.0)
            + hz.separation * ((t0 + 7.0 * k - last_sep) < 365)
            + hz.mood * MOOD_AR**k * mood
            + 0.5 * hz.mood**2 * var
        )
        if sim.loop is not None:
            out = out + sim.loop.log_multiplier(d, lo, hi)
        return out

    fixed = eta - moving(0, t0, t1)
    total = np.zeros(d.size)
    weeks_ahead = HORIZON_DAYS / 7.0
    for k in range(int(np.ceil(weeks_ahead))):
        share = min(1.0, weeks_ahead - k)
        term = np.exp(fixed + moving(k, t0 + 7.0 * k, t0 + 7.0 * k + 7.0))
        if watched:
            term = term * ((t0 + 7.0 * k - sim.closed_day[d]) <= 7 * WATCH_WEEKS)
        total += share * term
    return -np.expm1(-total)


def id_column(ids: np.ndarray, idx: np.ndarray) -> pd.Series:
    """``ids[idx]`` as a string column, built in Arrow (millions of rows stay cheap)."""
    dictionary = pa.array(np.asarray(ids, dtype=object).astype(str), pa.string())
    arr = pa.DictionaryArray.from_arrays(pa.array(np.asarray(idx, np.int32)), dictionary)
    return pd.Series(arr.cast(pa.string()).to_pandas(), dtype="str")


@dataclass(frozen=True)
class Truth:
    """What a simulation knows beyond its records (see the module docstring)."""

    scenario: dict
    oracle: pd.DataFrame | None = None
    warnings: pd.DataFrame | None = None

    def write(self, dataset_dir: Path) -> Path:
        """Write ``_truth/`` into the dataset folder (and nothing else there is touched)."""
        out = clear_truth(dataset_dir)
        out.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.scenario, ensure_ascii=False, indent=2, default=str)
        (out / "scenario.json").write_text(text + "\n", encoding="utf-8")
        if self.oracle is not None:
            self.oracle.to_parquet(out / "oracle.parquet", index=False)
        if self.warnings is not None:
            self.warnings.to_parquet(out / "warnings.parquet", index=False)
        return out


def clear_truth(dataset_dir: Path) -> Path:
    """Remove the truth files an earlier simulation left in ``dataset_dir``; the folder
    itself goes when nothing else is in it. Returns its path."""
    out = Path(dataset_dir) / TRUTH_DIR
    if out.is_dir():
        for name in TRUTH_FILES:
            (out / name).unlink(missing_ok=True)
        if not any(out.iterdir()):
            out.rmdir()
    return out
