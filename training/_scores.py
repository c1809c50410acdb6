"""What scoring answers, as values: risk, tiers (the model's and after fact floors),
reasons and key facts, one row per case (:class:`Scores`, from ``RiskModel.score``).

The one reason builder (:func:`reasons_of`) and the one floor rule (:func:`apply_floors`)
live here, so ``riskwarn score``, the service and the pages say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from riskwarn.features import FACT_CODES, KeyFact
from riskwarn.vocab import tier_rank


@dataclass(frozen=True)
class Reason:
    """One feature pushing a case's risk: its value, its contribution (log-odds, SHAP) and
    the sentence in Chinese and English."""

    feature: str
    value: float | str | None
    contribution: float
    text_zh: str
    text_en: str

    def text(self, lang: str = "zh") -> str:
        return self.text_zh if lang == "zh" else self.text_en

    def to_dict(self) -> dict[str, object]:
        return {
            "feature": self.feature,
            "value": self.value,
            "contribution": self.contribution,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
        }


@dataclass(frozen=True)
class Scores:
    """Scores of n cases, row i for case i.

    ``risk``: calibrated probability of an incident within the horizon; ``tier_model``: the
    tier its risk reaches; ``tier``: after the key facts' floors (never lower than
    ``tier_model``); ``tier_floor_reason``: the fact code whose floor raised the tier, or
    None; ``reasons``: the top-k features pushing risk up; ``key_facts``: the facts found;
    ``contributions`` (n, n_features) and ``base_value`` (n,): SHAP values in log-odds of
    the raw model; ``values``: each case's feature values in model order.
    """

    feature_names: tuple[str, ...]
    values: list[list[float | str | None]]
    risk: np.ndarray
    tier_model: np.ndarray
    tier: np.ndarray
    tier_floor_reason: tuple[str | None, ...]
    reasons: tuple[tuple[Reason, ...], ...]
    key_facts: tuple[tuple[KeyFact, ...], ...]
    contributions: np.ndarray
    base_value: np.ndarray

    def __len__(self) -> int:
        return len(self.risk)

    def explain(self, i: int) -> list[Reason]:
        """Every feature of case ``i``, largest absolute contribution first."""
        return reasons_of(self.feature_names, self.values[i], self.contributions[i], None)


def reason_texts(name: str, value: object) -> tuple[str, str]:
    """Chinese and English text of one reason, from the feature registry when it knows the
    feature; a plain ``name = value`` for other tables' columns."""
    from riskwarn.features import REGISTRY

    known = _registry_texts(name, value) if name in REGISTRY else None
    if known is not None:
        return known
    shown = "无" if value is None else value
    return f"{name} = {shown}", f"{name} = {'none' if value is None else value}"


def _registry_texts(name: str, value: object) -> tuple[str, str] | None:
    """The registry's sentences; None when ``value`` does not fit the feature of that name
    (another table's column that happens to share it)."""
    from riskwarn.features import REGISTRY

    try:
        return REGISTRY.reason(name, value, "zh"), REGISTRY.reason(name, value, "en")
    except (TypeError, ValueError):
        return None


def reasons_of(
    names: Sequence[str],
    values: Sequence[float | str | None],
    contrib: np.ndarray,
    k: int | None,
) -> list[Reason]:
    """The features of one case as reasons. ``k``: the top ``k`` pushing risk up (only
    positive contributions, and never an absence: a zero count, a false flag or a missing
    value is not offered as a reason for higher risk, ``REGISTRY.absent``); None: every
    feature, largest absolute contribution first."""
    if k is None:
        order = list(np.argsort(-np.abs(contrib), kind="stable"))
    else:
        order = []
        for i in np.argsort(-contrib, kind="stable"):  # largest first: stop at k or at <= 0
            if len(order) == k or contrib[i] <= 0:
                break
            if not _absent(names[i], values[i]):
                order.append(i)
    out = []
    for i in order:
        zh, en = reason_texts(names[i], values[i])
        out.append(Reason(names[i], values[i], float(contrib[i]), zh, en))
    return out


def _absent(name: str, value: object) -> bool:
    """An absence by the registry's rule; a column the registry does not know is not one."""
    from riskwarn.features import REGISTRY

    return name in REGISTRY and REGISTRY.absent(name, value)


def apply_floors(
    tier_model: np.ndarray, facts: Sequence[Sequence[KeyFact]], floors: Mapping[str, str]
) -> tuple[np.ndarray, tuple[str | None, ...]]:
    """Each case's tier after the floors: the model's tier, raised (never lowered) to the
    highest floor of the facts it has. The reason is the code of the first fact (in the
    order of ``FACTS``) whose floor set the tier, or None when the model's tier stood."""
    tier = np.asarray(tier_model).astype("<U6").copy()
    why: list[str | None] = []
    order = {c: i for i, c in enumerate(FACT_CODES)}
    for i, found in enumerate(facts):
        best: tuple[int, int, str] | None = None  # (-rank, fact order, code)
        for f in found:
            floor = floors.get(f.code)
            if floor is None:
                continue
            key = (-tier_rank(floor), order.get(f.code, len(order)), f.code)
            best = key if best is None or key < best else best
        if best is not None and -best[0] > tier_rank(tier[i]):
            tier[i] = floors[best[2]]
            why.append(best[2])
        else:
            why.append(None)
    return tier, tuple(why)
