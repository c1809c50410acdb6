"""Where the pipeline's LightGBM boosters are fitted: in this process (the default) or on a
Dask cluster (:func:`riskwarn.training.dask_boosters`). Either way a fit returns a plain
``lightgbm.Booster``, so everything after it (calibration, tiers, card, the registered
model the service loads) is the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from riskwarn.training._lgbm import fit_booster, fit_rounds


@dataclass(frozen=True)
class Boosters:
    """The two fits the pipeline makes, with :func:`fit_booster`'s and :func:`fit_rounds`'s
    signatures: early-stopped on the validation window, and a fixed number of rounds (the
    refit)."""

    fit_booster: Callable[..., tuple]
    fit_rounds: Callable[..., object]
    where: str = "local"


LOCAL = Boosters(fit_booster, fit_rounds)
