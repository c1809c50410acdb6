"""From a request to a risk, a tier and reasons: the service's one way through.

A :class:`Scorer` holds what it learned at start (the model, the history, the feature
builder over it) and turns resolved cases into answers. The functions around it are pure:
they check a request against the history and shape results; the service adds HTTP.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from riskwarn.features import REGISTRY, REGISTRY_VERSION, FeatureBuilder, open_disputes
from riskwarn.serving._schemas import CaseIn, ExplainRequest, Reason, ScoreRequest
from riskwarn.training import RiskModel

from riskwarn import Dataset
from riskwarn.errors import ModelMismatchError, RequestError, UnknownRecordError

TIER_ORDER = ("blue", "yellow", "orange", "red")  # lowest caution first


@dataclass(frozen=True)
class Case:
    """A request resolved against the history: what to score, and as of when."""

    dispute_id: str
    as_of: pd.Timestamp
    field: str  # where the request named it, for error messages ("cases[3].dispute_id")
    new_case: CaseIn | None = None


@dataclass
class Scores:
    """Answers for a list of cases, row i for case i."""

    cases: list[Case]
    features: pd.DataFrame  # raw feature values, model order
    matrix: np.ndarray  # what the booster reads
    risk: np.ndarray
    tiers: np.ndarray
    contrib: np.ndarray
    base: np.ndarray


def check_model(model: RiskModel) -> None:
    """ModelMismatchError unless the model was built on this code's feature registry."""
    if str(model.registry_version) != str(REGISTRY_VERSION):
        raise ModelMismatchError(
            f"model {model.uri} (version {model.version}) was trained with feature registry "
            f"version {model.registry_version}, this code has {REGISTRY_VERSION}; retrain "
            "with `riskwarn train` or serve a model of this registry version"
        )


def _stamp(value: dt.datetime | None, now: dt.datetime) -> pd.Timestamp:
    return pd.Timestamp(value if value is not None else now).floor("s")


def resolve(
    request: ScoreRequest | ExplainRequest, dataset: Dataset, now: dt.datetime, where: str = ""
) -> Case:
    """Check one request against the history; 404 for unknown ids, 400 for impossible times."""
    as_of = _stamp(request.as_of, now)  # type: ignore[arg-type]
    if request.dispute_id is not None:
        rows = dataset.disputes.loc[dataset.disputes["dispute_id"] == request.dispute_id]
        if rows.empty:
            raise UnknownRecordError(
                f"{where}dispute_id: expected a dispute the store holds, got "
                f"{request.dispute_id!r}; ingest it first (POST /v1/ingest) or send the "
                "full case in 'case'"
            )
        reported = rows["reported_at"].iloc[0]
        if reported > as_of:
            raise RequestError(
                f"{where}as_of: expected a moment at or after the dispute was reported "
                f"({reported:%Y-%m-%dT%H:%M:%S}), got {as_of:%Y-%m-%dT%H:%M:%S}"
            )
        return Case(request.dispute_id, as_of, f"{where}dispute_id")
    case = request.case
    assert case is not None
    known = set(dataset.persons["person_id"])
    for i, party in enumerate(case.parties):
        if party.person_id not in known:
            raise UnknownRecordError(
                f"{where}case.parties[{i}].person_id: expected a person the store holds, "
                f"got {party.person_id!r}; ingest the person first (POST /v1/ingest)"
            )
    grids = dataset.grids["grid_id"]
    if len(grids) and case.dispute.grid_id not in set(grids):
        raise UnknownRecordError(
            f"{where}case.dispute.grid_id: expected a grid the store holds, got "
            f"{case.dispute.grid_id!r}"
        )
    reported = pd.Timestamp(case.dispute.reported_at)  # type: ignore[arg-type]
    if reported > as_of:
        raise RequestError(
            f"{where}as_of: expected a moment at or after case.dispute.reported_at "
            f"({reported:%Y-%m-%dT%H:%M:%S}), got {as_of:%Y-%m-%dT%H:%M:%S}"
        )
    return Case(case.dispute.dispute_id, as_of, f"{where}case", case)


def _case_rows(case: CaseIn) -> tuple[dict[str, Any], list[dict], list[dict]]:
    dispute = case.dispute.model_dump()
    dispute["reported_at"] = pd.Timestamp(dispute["reported_at"])
    parties = [{"dispute_id": dispute["dispute_id"], **p.model_dump()} for p in case.parties]
    events = [
        {"dispute_id": dispute["dispute_id"], **e.model_dump(), "at": pd.Timestamp(e.at)}
        for e in case.events
    ]
    return dispute, parties, events


def plain(value: Any) -> float | str | None:
    """A feature value as JSON shows it: a number, a category, or None when missing."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    return str(value)


def reasons(
    names: list[str], values: list[Any], contrib: np.ndarray, k: int | None
) -> list[Reason]:
    """The features of one case as reasons, strongest push towards risk first.

    ``k=None`` gives every feature ordered by absolute contribution (for explanations).
    """
    if k is None:
        order = np.argsort(-np.abs(contrib), kind="stable")
    else:
        order = np.argsort(-contrib, kind="stable")[:k]
    out = []
    for i in order:
        name, value = names[i], plain(values[i])
        out.append(
            Reason(
                feature=name,
                value=value,
                contribution=float(contrib[i]),
                text_zh=REGISTRY.reason(name, value, "zh"),
                text_en=REGISTRY.reason(name, value, "en"),
            )
        )
    return out


@dataclass
class Scorer:
    """The model and the history it scores against, loaded once.

    ``builder_`` is learned state: a feature builder over ``dataset``, rebuilt when the
    history grows.
    """

    model: RiskModel
    dataset: Dataset
    builder_: FeatureBuilder = field(init=False)

    def __post_init__(self) -> None:
        check_model(self.model)
        self.builder_ = FeatureBuilder(self.dataset)

    @property
    def feature_names(self) -> list[str]:
        return list(self.model.feature_names)

    def with_dataset(self, dataset: Dataset) -> Scorer:
        return Scorer(self.model, dataset)

    def features(self, cases: list[Case]) -> pd.DataFrame:
        rows = []
        for case in cases:
            if case.new_case is None:
                rows.append(self.builder_.features_for(case.dispute_id, case.as_of))
            else:
                rows.append(self.builder_.features_for_case(*_case_rows(case.new_case), case.as_of))
        return pd.DataFrame.from_records(rows, columns=self.feature_names)

    def score(self, cases: list[Case]) -> Scores:
        x = self.features(cases)
        m = self.model.matrix(x)
        risk = np.asarray(self.model.predict_risk(m), dtype=np.float64)
        contrib, base = self.model.contributions(m)
        return Scores(
            cases=cases,
            features=x,
            matrix=m,
            risk=risk,
            tiers=np.asarray(self.model.tiers(risk)).astype(str),
            contrib=np.asarray(contrib),
            base=np.asarray(base),
        )

    def open_cases(self, as_of: pd.Timestamp) -> list[Case]:
        """Every dispute open at ``as_of``, as cases to score (for queue snapshots)."""
        ids = open_disputes(self.dataset, as_of)
        return [Case(str(d), as_of, "dispute_id") for d in ids]


def iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S")
