"""The four colour tiers (red, orange, yellow, blue) cut from calibrated risk.

Red: complex or likely to turn criminal, led by senior officials; orange: likely to
escalate, specialist teams; yellow: ordinary disputes handled locally; blue: hidden risks
followed up by grid workers. A threshold is the minimum calibrated risk of a tier.
"""

from __future__ import annotations

import numpy as np

from riskwarn.errors import ConfigError
from riskwarn.training._config import TierConfig

TIERS = ("red", "orange", "yellow", "blue")


def tier_thresholds(risk: np.ndarray, cfg: TierConfig) -> dict[str, float]:
    """Minimum calibrated risk of red, orange and yellow.

    ``capacity``: the risk above which the configured share of ``risk`` lies (``risk`` is
    the calibrated risk of open cases, e.g. the validation window); ``probability``: the
    configured values themselves.
    """
    if cfg.mode == "probability":
        return {"red": cfg.red, "orange": cfg.orange, "yellow": cfg.yellow}
    r = np.asarray(risk, dtype=np.float64)
    if r.size == 0:
        raise ConfigError(
            "expected calibrated risks of open cases to set capacity tiers, got none; "
            "use more data or tiers.mode = 'probability'."
        )
    out = {t: float(np.quantile(r, 1.0 - getattr(cfg, t), method="higher")) for t in TIERS[:3]}
    out["orange"] = min(out["orange"], out["red"])
    out["yellow"] = min(out["yellow"], out["orange"])
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
