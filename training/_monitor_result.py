"""What a monitor run found, as typed records: per month (estimated and realised
performance, score drift), per feature and month (drift), per group, and the alarms.

One record, :class:`MonitorResult`, JSON all the way down (NaN as null): the MLflow run
stores it as ``monitor/result.json``, the report reads it, and the service's ``/metrics``
and the workbench's model page read its :meth:`MonitorResult.summary`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from riskwarn.training._metadata import Interval, Window, _finite

_STRICT = ConfigDict(extra="forbid", frozen=True)
Number = Annotated[float | None, BeforeValidator(_finite)]
AlarmKind = Literal["observed_expected", "calibration_slope", "auc_below_training", "feature_psi"]
ALARM_KINDS: tuple[str, ...] = AlarmKind.__args__  # type: ignore[attr-defined]


class Month(BaseModel):
    """One monitored period: the snapshots of one date after the training data."""

    model_config = _STRICT

    as_of: dt.datetime = Field(description="The snapshot date.")
    rows: int = Field(description="Open disputes scored at that date.")
    matured: bool = Field(description="Whether every label's horizon has passed by as_of.")
    events: int | None = Field(description="Snapshots followed by an incident (matured only).")
    estimated: dict[str, Number] = Field(
        description="Expected event rate, precision of red and orange, ROC-AUC and PR-AUC "
        "from the calibrated risks alone (the confidence-based estimate)."
    )
    realised: dict[str, Interval] = Field(
        default_factory=dict, description="Realised figures with 95% intervals (matured only)."
    )
    score_psi: Number = Field(description="PSI of the calibrated risk against the reference.")
    score_ks: Number = Field(description="KS statistic of the calibrated risk.")
    calibration: list[dict[str, float]] = Field(
        default_factory=list, description="Mean predicted vs observed, deciles (matured only)."
    )


class FeatureDrift(BaseModel):
    """Drift of one feature in one month against the reference window."""

    model_config = _STRICT

    as_of: dt.datetime
    feature: str
    kind: Literal["number", "category", "flag"]
    psi: Number
    test: Literal["ks", "chi_square"]
    statistic: Number
    p_value: Number
    missing_reference: Number
    missing_current: Number
    importance: Number = Field(description="The feature's share of mean |SHAP| (reference).")
    weighted: Number = Field(description="PSI x importance share: the ranking key.")


class GroupResult(BaseModel):
    """Realised figures of one group level over the latest matured window."""

    model_config = _STRICT

    group: str
    level: str
    n: int
    positives: int
    mean_risk: float
    observed_rate: float
    ece: Number
    share_red_orange: float
    false_positive_rate: Number
    auc: Interval
    observed_expected: Interval


class Alarm(BaseModel):
    """One rule that fired, for one month."""

    model_config = _STRICT

    kind: AlarmKind
    as_of: dt.datetime = Field(description="The month it fired for.")
    message: str
    value: Number = None
    bound: Number = None
    feature: str | None = None


class MonitorResult(BaseModel):
    """Everything one ``riskwarn monitor`` run found."""

    model_config = _STRICT

    model_uri: str
    model_version: str
    model_kind: str
    as_of: dt.datetime = Field(description="Nothing dated after this was read.")
    reference: Window = Field(
        description="The reference: the training's evaluation window, its latest labelled stretch."
    )
    horizon_days: int
    every_days: int
    training_auc: Interval = Field(description="The training evaluation's test ROC-AUC.")
    top_features: list[str] = Field(description="The 10 most important features.")
    months: list[Month]
    drift: list[FeatureDrift]
    groups: list[GroupResult]
    group_window: Window | None = Field(description="The matured window groups are over.")
    alarms: list[Alarm]
    advice: list[str] = Field(description="What to do next, in plain words.")
    limits: list[str] = Field(description="What these figures cannot see.")

    def months_frame(self) -> pd.DataFrame:
        """One row per month: rows, events, estimated_* and realised_* (value, lo, hi)."""
        rows = []
        for m in self.months:
            row: dict[str, Any] = {
                "as_of": m.as_of,
                "rows": m.rows,
                "matured": m.matured,
                "events": m.events,
                "score_psi": m.score_psi,
            }
            row |= {f"estimated_{k}": v for k, v in m.estimated.items()}
            for k, v in m.realised.items():
                row |= {
                    f"realised_{k}": v.value,
                    f"realised_{k}_lo": v.lo,
                    f"realised_{k}_hi": v.hi,
                }
            rows.append(row)
        return pd.DataFrame(rows)

    def drift_frame(self) -> pd.DataFrame:
        return pd.DataFrame([d.model_dump() for d in self.drift])

    def ranking(self, top: int = 15) -> pd.DataFrame:
        """Features ranked by their largest importance-weighted drift over the months."""
        frame = self.drift_frame()
        if frame.empty:
            return frame
        best = frame.sort_values("weighted", ascending=False).drop_duplicates("feature")
        return best.head(top).reset_index(drop=True)

    def summary(self) -> dict[str, Any]:
        """The little the service shows: alarms by kind, the latest O/E and AUCs, and
        predicted against observed per month."""
        matured = [m for m in self.months if m.matured]
        last = matured[-1] if matured else None
        latest = self.months[-1] if self.months else None
        return {
            "model_version": self.model_version,
            "as_of": self.as_of.isoformat(),
            "alarms": {k: sum(a.kind == k for a in self.alarms) for k in ALARM_KINDS},
            "alarm_messages": [a.message for a in self.alarms],
            "latest_matured": last.as_of.isoformat() if last else None,
            "observed_expected": last.realised["observed_expected"].value if last else None,
            "realised_auc": last.realised["roc_auc"].value if last else None,
            "estimated_auc": latest.estimated.get("roc_auc") if latest else None,
            "months": [
                {
                    "as_of": m.as_of.date().isoformat(),
                    "predicted": m.estimated.get("event_rate"),
                    "observed": (m.events / m.rows) if m.events is not None and m.rows else None,
                }
                for m in self.months
            ],
            "advice": list(self.advice),
        }
