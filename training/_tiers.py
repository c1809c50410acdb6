"""The four colour tiers (red, orange, yellow, blue) cut from calibrated risk.

Red: complex or likely to turn criminal, led by senior officials; orange: likely to
escalate, specialist teams; yellow: ordinary disputes handled locally; blue: hidden risks
followed up by grid workers. A threshold is the minimum calibrated risk of a tier.
"""

from __future__ import annotations

import numpy as np

from riskwarn.errors import ConfigError
from riskwarn.training._config import TierConfig
from riskwarn.vocab import TIERS


def tier_thresholds(risk: np.ndarray, cfg: TierConfig) -> dict[str, float]:
    """Minimum calibrated risk of red, orange and yellow.

    ``capacity``: thresholds on ``risk`` (the calibrated risk of open cases, e.g. the
    validation window) that put the configured shares in each tier as closely as ties
    allow. The calibrator keeps risk strictly increasing in the raw score, so cases tie
    only when the model cannot tell them apart; a block of tied cases goes wholly into a
    tier or wholly below it, whichever lands nearer the target share (never by sweeping
    the tier below into it, as a plain quantile does). A tier may then come out empty: see
    :func:`tier_shares`. ``probability``: the configured values themselves.
    """
    if cfg.mode == "probability":
        return {"red": cfg.red, "orange": cfg.orange, "yellow": cfg.yellow}
    r = np.asarray(risk, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size == 0:
        raise ConfigError(
            "expected calibrated risks of open cases to set capacity tiers, got none; "
            "use more data or tiers.mode = 'probability'."
        )
    values = np.unique(r)  # ascending
    at_or_above = 1.0 - np.searchsorted(np.sort(r), values, side="left") / r.size
    # a threshold just above every risk seen leaves a tier empty
    values = np.append(values, np.nextafter(values[-1], np.inf))
    at_or_above = np.append(at_or_above, 0.0)
    out: dict[str, float] = {}
    upper = len(values) - 1
    for tier in TIERS[:3]:
        target = float(getattr(cfg, tier))
        # candidates: thresholds no higher than the tier above's (index <= upper);
        # nearest share wins, a tie goes to the smaller share (capacity is a limit)
        gap = np.abs(at_or_above[: upper + 1] - target)
        best = int(np.flatnonzero(gap <= gap.min() + 1e-12).max())
        out[tier] = float(values[best])
        upper = best  # the next tier's threshold is no higher; equal leaves it empty
    return out


def tier_shares(risk: np.ndarray, thresholds: dict[str, float]) -> dict[str, float]:
    """Share of ``risk`` in each tier (red, orange, yellow, blue), e.g. on a window."""
    tiers = assign_tiers(np.asarray(risk, dtype=np.float64), thresholds)
    n = max(len(tiers), 1)
    return {t: float((tiers == t).sum() / n) for t in TIERS}


def empty_tiers(shares: dict[str, float], window: str, cfg: TierConfig) -> list[str]:
    """A plain warning per tier (red, orange, yellow) that holds no case on ``window``."""
    out = []
    for tier in TIERS[:3]:
        if shares.get(tier, 0.0) > 0:
            continue
        why = (
            f"the model ties too many cases to split them at the {getattr(cfg, tier):.0%} "
            "share (few distinct risks; more data or a richer model help)"
            if cfg.mode == "capacity"
            else f"no case reached the minimum risk {getattr(cfg, tier)}"
        )
        out.append(f"tier {tier} is empty on the {window} window: {why}.")
    return out


def assign_tiers(risk: np.ndarray | float, thresholds: dict[str, float]) -> np.ndarray:
    """The tier of each calibrated risk: the highest tier whose minimum it reaches.

    >>> assign_tiers([0.5, 0.2, 0.05, 0.001], {"red": 0.3, "orange": 0.1, "yellow": 0.02})
    array(['red', 'orange', 'yellow', 'blue'], dtype='<U6')
    """
    r = np.atleast_1d(np.asarray(risk, dtype=np.float64))
    out = np.full(r.shape, "blue", dtype="<U6")
    out[r >= thresholds["yellow"]] = "yellow"
    out[r >= thresholds["orange"]] = "orange"
    out[r >= thresholds["red"]] = "red"
    return out
