"""From a request to a risk, a tier and reasons: the service's one way through.

A :class:`Scorer` holds what it learned at start (the model, the history, the feature
builder over it) and turns resolved cases into answers. The functions around it are pure:
they check a request against the history and shape results; the service adds HTTP.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskwarn import Dataset
from riskwarn.errors import ModelMismatchError, RequestError, UnknownRecordError
from riskwarn.features import REGISTRY, REGISTRY_VERSION, FeatureBuilder, open_disputes
from riskwarn.serving._schemas import CaseIn, ExplainRequest, Reason, ScoreRequest
from riskwarn.training import RiskModel


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
    names: list[str]  # the model's features, in its order
    values: list[list[Any]]  # raw feature values per case, in that order
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
    request: ScoreRequest | ExplainRequest,
    reported: Mapping[str, pd.Timestamp],
    grids: frozenset[str],
    now: dt.datetime,
    where: str = "",
) -> Case:
    """Check one request against the history (``reported``: registration time of every
    stored dispute; ``grids``: the grids the store holds, empty when it has no grids table).

    404 for an unknown dispute or grid, 400 for an ``as_of`` before the registration.
    """
    as_of = _stamp(request.as_of, now)  # type: ignore[arg-type]
    if request.dispute_id is not None:
        stamp = reported.get(request.dispute_id)
        if stamp is None:
            raise UnknownRecordError(
                f"{where}dispute_id: expected a dispute the store holds, got "
                f"{request.dispute_id!r}; ingest it first (POST /v1/ingest) or send the "
                "full case in 'case'"
            )
        if stamp > as_of:
            raise RequestError(
                f"{where}as_of: expected a moment at or after the dispute was reported "
                f"({stamp:%Y-%m-%dT%H:%M:%S}), got {as_of:%Y-%m-%dT%H:%M:%S}"
            )
        return Case(request.dispute_id, as_of, f"{where}dispute_id")
    case = request.case
    assert case is not None
    named = [("case.dispute.grid_id", case.dispute.grid_id)] + [
        (f"case.parties[{i}].grid_id", p.grid_id)
        for i, p in enumerate(case.parties)
        if p.grid_id is not None
    ]
    for path, grid in named:
        if grids and grid not in grids:
            raise UnknownRecordError(
                f"{where}{path}: expected a grid the store holds, got {grid!r}; ingest the "
                "grid first (POST /v1/ingest)"
            )
    stamp = pd.Timestamp(case.dispute.reported_at)  # type: ignore[arg-type]
    if stamp > as_of:
        raise RequestError(
            f"{where}as_of: expected a moment at or after case.dispute.reported_at "
            f"({stamp:%Y-%m-%dT%H:%M:%S}), got {as_of:%Y-%m-%dT%H:%M:%S}"
        )
    return Case(case.dispute.dispute_id, as_of, f"{where}case", case)


def feature_matrix(
    rows: list[Mapping[str, Any]], names: list[str], categories: Mapping[str, list[str]]
) -> np.ndarray:
    """The booster's float matrix straight from feature dicts, as ``to_matrix`` makes it
    from a frame (categories by their code in the layout, missing as NaN), without pandas:
    a single case costs microseconds instead of milliseconds."""
    codes = {name: {c: i for i, c in enumerate(cats)} for name, cats in categories.items()}
    out = np.full((len(rows), len(names)), np.nan, dtype=np.float64)
    for i, row in enumerate(rows):
        for j, name in enumerate(names):
            value = row.get(name)
            if value is None or value is pd.NA or value is pd.NaT:
                continue
            lookup = codes.get(name)
            if lookup is not None:
                code = lookup.get(str(value))
                if code is not None:
                    out[i, j] = code
            elif isinstance(value, str):
                try:
                    out[i, j] = float(value)
                except ValueError:
                    continue
            else:
                out[i, j] = float(value)  # NaN stays NaN
    return out


def _case_rows(case: CaseIn) -> tuple[dict[str, Any], list[dict], list[dict]]:
    dispute = case.dispute.model_dump()
    dispute["reported_at"] = pd.Timestamp(dispute["reported_at"])
    parties = [
        {"dispute_id": dispute["dispute_id"], **p.model_dump(exclude_none=True)}
        for p in case.parties
    ]
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
    else:  # only features that push risk up, as the offline reasons are chosen
        order = [i for i in np.argsort(-contrib, kind="stable")[:k] if contrib[i] > 0]
    out = []
    for i in order:
        name, raw = names[i], values[i]
        text_value = None if plain(raw) is None else raw
        out.append(
            Reason(
                feature=name,
                value=plain(raw),
                contribution=float(contrib[i]),
                text_zh=REGISTRY.reason(name, text_value, "zh"),
                text_en=REGISTRY.reason(name, text_value, "en"),
            )
        )
    return out


@dataclass
class Scorer:
    """The model and the history it scores against, loaded once.

    ``builder_`` is learned state: a feature builder over ``dataset``, rebuilt when the
    history grows. The builder sweeps forward and caches graph days, so it is not safe to
    share between threads: ``lock_`` serialises its use one case at a time (single scores
    run on the event loop, batches in BentoML's worker threads).
    """

    model: RiskModel
    dataset: Dataset
    builder_: FeatureBuilder = field(init=False)
    reported_: dict[str, pd.Timestamp] = field(init=False)
    grids_: frozenset[str] = field(init=False)
    lock_: threading.Lock = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lock_ = threading.Lock()
        check_model(self.model)
        self.builder_ = FeatureBuilder(self.dataset)
        d = self.dataset.disputes
        self.reported_ = dict(zip(d["dispute_id"], d["reported_at"], strict=True))
        self.grids_ = frozenset(self.dataset.grids["grid_id"])

    @property
    def feature_names(self) -> list[str]:
        return list(self.model.feature_names)

    def with_dataset(self, dataset: Dataset) -> Scorer:
        return Scorer(self.model, dataset)

    def resolve(
        self, request: ScoreRequest | ExplainRequest, now: dt.datetime, where: str = ""
    ) -> Case:
        return resolve(request, self.reported_, self.grids_, now, where)

    def features(self, cases: list[Case]) -> list[dict[str, Any]]:
        """One dict of feature values per case (registry names; the model's are among them)."""
        rows = []
        for case in cases:
            with self.lock_:
                if case.new_case is None:
                    row = self.builder_.features_for(case.dispute_id, case.as_of)
                else:
                    row = self.builder_.features_for_case(*_case_rows(case.new_case), case.as_of)
            rows.append(row)
        return rows

    def score(self, cases: list[Case]) -> Scores:
        rows = self.features(cases)
        layout = self.model.layout
        m = feature_matrix(rows, layout.names, layout.categories)
        risk = np.asarray(self.model.predict_risk(m), dtype=np.float64)
        contrib, base = self.model.contributions(m)
        names = self.feature_names
        return Scores(
            cases=cases,
            names=names,
            values=[[row.get(n) for n in names] for row in rows],
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
