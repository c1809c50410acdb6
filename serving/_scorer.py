"""From a request to features and key facts, then through the model's one pipeline.

A :class:`Scorer` holds what it learned at start (the model, the history, the feature
builder over it) and resolves requests into cases; :meth:`Scorer.score` builds each case's
features and key facts point-in-time and hands them to :meth:`RiskModel.score`, the same
call ``riskwarn score`` makes, so risk, tiers, floors, reasons and facts have one owner.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from riskwarn import Dataset
from riskwarn.errors import RequestError, UnknownRecordError
from riskwarn.features import FeatureBuilder, KeyFact, open_disputes
from riskwarn.serving._schemas import CaseIn, ExplainRequest, ScoreRequest
from riskwarn.training import RiskModel, Scores, check_registry


@dataclass(frozen=True)
class Target:
    """A request resolved against the history: what to score, and as of when."""

    dispute_id: str
    as_of: pd.Timestamp
    field: str  # where the request named it, for error messages ("cases[3].dispute_id")
    new_case: CaseIn | None = None


def _stamp(value: dt.datetime | None, now: dt.datetime) -> pd.Timestamp:
    return pd.Timestamp(value if value is not None else now).floor("s")


def resolve(
    request: ScoreRequest | ExplainRequest,
    reported: Mapping[str, pd.Timestamp],
    grids: frozenset[str],
    now: dt.datetime,
    where: str = "",
) -> Target:
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
        return Target(request.dispute_id, as_of, f"{where}dispute_id")
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
    return Target(case.dispute.dispute_id, as_of, f"{where}case", case)


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
        check_registry(self.model)
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
    ) -> Target:
        return resolve(request, self.reported_, self.grids_, now, where)

    def features(self, cases: list[Target]) -> list[dict[str, Any]]:
        """Each case's feature values (registry names) at its ``as_of``."""
        return [self._one(case, "features") for case in cases]

    def facts(self, cases: list[Target]) -> list[list[KeyFact]]:
        """Each case's key facts at its ``as_of`` (features.FACTS)."""
        return [self._one(case, "facts") for case in cases]

    def _one(self, case: Target, what: str) -> Any:
        with self.lock_:
            if case.new_case is None:
                held = self.builder_.features_for if what == "features" else self.builder_.facts_for
                return held(case.dispute_id, case.as_of)
            given = _case_rows(case.new_case)
            new = (
                self.builder_.features_for_case
                if what == "features"
                else self.builder_.facts_for_case
            )
            return new(*given, case.as_of)

    def score(self, cases: list[Target], top_k: int = 3) -> Scores:
        """Risk, tiers (the model's and after the facts' floors), the ``top_k`` reasons and
        the key facts of each case, row i for case i (:meth:`RiskModel.score`)."""
        return self.model.score(self.features(cases), self.facts(cases), top_k=top_k)

    def open_cases(self, as_of: pd.Timestamp) -> list[Target]:
        """Every dispute open at ``as_of``, as cases to score (for queue snapshots)."""
        ids = open_disputes(self.dataset, as_of)
        return [Target(str(d), as_of, "dispute_id") for d in ids]
