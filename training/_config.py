"""The training configuration: one strict, typed object read from a small TOML file.

Every field has a default, so an empty file (or none at all) trains the documented default
model. Unknown keys are an error, so a typo never silently trains something else::

    name = "full"
    [lgbm]
    learning_rate = 0.05
    [tiers]
    mode = "capacity"
    red = 0.01
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from riskwarn.clock import parse_date as parse_date  # re-exported: its home is the clock
from riskwarn.errors import ConfigError
from riskwarn.vocab import TIERS

_STRICT = ConfigDict(extra="forbid", frozen=True)


class LGBMConfig(BaseModel):
    """LightGBM parameters; deterministic by default (fixed seed, threads and flags).

    Defaults suit a county-sized table (thousands of snapshots, a few hundred events):
    small trees, slow learning, half the features per tree, early stopping on validation.
    """

    model_config = _STRICT

    n_estimators: int = Field(
        600, ge=1, description="Most boosting rounds; early stopping ends sooner."
    )
    learning_rate: float = Field(0.03, gt=0, le=1, description="Shrinkage per round.")
    num_leaves: int = Field(7, ge=2, description="Leaves per tree.")
    max_depth: int = Field(-1, description="Depth limit per tree; -1 means none.")
    min_child_samples: int = Field(
        30, ge=1, description="Fewest rows in a leaf (guards rare events)."
    )
    feature_fraction: float = Field(0.5, gt=0, le=1, description="Share of features per tree.")
    bagging_fraction: float = Field(1.0, gt=0, le=1, description="Share of rows per tree.")
    bagging_freq: int = Field(0, ge=0, description="Bag every k rounds; 0 disables bagging.")
    reg_lambda: float = Field(1.0, ge=0, description="L2 penalty on leaf values.")
    extra_trees: bool = Field(
        False, description="Extremely randomised splits (one random threshold per feature)."
    )
    early_stopping_rounds: int = Field(
        60, ge=1, description="Stop when validation log loss stalls."
    )
    seed: int = Field(7, description="Seed for every random choice LightGBM makes.")
    num_threads: int = Field(2, ge=1, description="Fixed thread count (part of determinism).")


class SearchConfig(BaseModel):
    """A small grid search on the validation window (log loss of the raw model)."""

    model_config = _STRICT

    grid: dict[str, list[bool | int | float]] = Field(
        default_factory=dict,
        description="LightGBM field name -> values to try; the product of the lists is tried, "
        "each on top of [lgbm]. An empty grid trains [lgbm] alone.",
    )
    max_trials: int = Field(16, ge=1, description="Most grid points tried, in grid order.")

    @model_validator(mode="after")
    def _known_fields(self) -> SearchConfig:
        known = set(LGBMConfig.model_fields)
        for key in self.grid:
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"search.grid names unknown LightGBM field {key!r}.{hint}")
        return self


DEFAULT_GRID: dict[str, list[bool | int | float]] = {
    "num_leaves": [4, 15],
    "min_child_samples": [50, 200],
    "extra_trees": [False, True],
    "feature_fraction": [0.5],
    "reg_lambda": [1.0, 10.0],
}
"""The fixed grid every run searches on the validation window unless its config says
otherwise: small trees or larger ones, more data per leaf, extremely randomised splits and a
stronger L2 penalty (the settings that regularise a model of a few hundred events)."""


def default_search() -> SearchConfig:
    return SearchConfig(grid=DEFAULT_GRID)


class TierConfig(BaseModel):
    """How the red/orange/yellow/blue tiers are cut from the calibrated risk.

    ``capacity``: red is the top ``red`` share of open cases (default 1%), orange the next
    up to ``orange`` (5%), yellow up to ``yellow`` (20%), the rest blue; thresholds are
    the matching quantiles of calibrated risk on the validation window. ``probability``:
    the values are minimum calibrated risks (e.g. red = 0.30 means 30 in 100).
    """

    model_config = _STRICT

    mode: Literal["capacity", "probability"] = Field(
        "capacity", description="Cut by share of open cases or by calibrated risk."
    )
    red: float = Field(0.01, gt=0, lt=1, description="Top share (capacity) or minimum risk.")
    orange: float = Field(0.05, gt=0, lt=1, description="Top share (capacity) or minimum risk.")
    yellow: float = Field(0.20, gt=0, lt=1, description="Top share (capacity) or minimum risk.")
    floors: dict[str, str] = Field(
        default_factory=dict,
        description="Key fact code -> the lowest tier a case with that fact may get (e.g. "
        "pair_homicide = 'orange'). A floor only ever raises the model's tier.",
    )

    @model_validator(mode="after")
    def _known_floors(self) -> TierConfig:
        from riskwarn.features import FACT_CODES

        for code, tier in self.floors.items():
            if code not in FACT_CODES:
                close = difflib.get_close_matches(code, FACT_CODES, n=1)
                known = f" Known: {', '.join(FACT_CODES)}."
                hint = f" Did you mean {close[0]!r}?" if close else known
                raise ValueError(f"tiers.floors names unknown key fact {code!r}.{hint}")
            if tier not in TIERS:
                close = difflib.get_close_matches(str(tier), TIERS, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"tiers.floors.{code}: expected a tier, one of {', '.join(TIERS)}, got "
                    f"{tier!r}.{hint}"
                )
        return self

    @model_validator(mode="after")
    def _ordered(self) -> TierConfig:
        increasing = self.red < self.orange < self.yellow
        decreasing = self.red > self.orange > self.yellow
        if self.mode == "capacity" and not increasing:
            raise ValueError(
                f"capacity tiers need red < orange < yellow shares, got {self.red}, "
                f"{self.orange}, {self.yellow}; red is the smallest, most urgent group."
            )
        if self.mode == "probability" and not decreasing:
            raise ValueError(
                f"probability tiers need red > orange > yellow risks, got {self.red}, "
                f"{self.orange}, {self.yellow}; red asks for the highest risk."
            )
        return self


class TrainConfig(BaseModel):
    """Everything one training run needs besides the data."""

    model_config = _STRICT

    name: str = Field("default", description="Experiment label, shown in tables and MLflow.")
    description: str = Field("", description="One line on what this configuration tests.")
    feature_groups: list[str] | None = Field(
        None, description="Feature registry groups to use; None means all."
    )
    drop_features: list[str] = Field(
        default_factory=list, description="Feature names left out (ablations)."
    )
    ever_features: bool = Field(
        False,
        description="Use the registry's \"ever\" counts (over a person's whole history) "
        "instead of their bounded alternatives (the last 5 years, `*_1826d`); off by default "
        "so no record marks a person for life (docs/rights.md).",
    )
    horizon_days: int = Field(90, ge=1, description="Label horizon, also the gap between windows.")
    every_days: int = Field(30, ge=1, description="Days between snapshots of an open dispute.")
    validation_share: float = Field(0.2, gt=0, lt=1, description="Share of rows in validation.")
    test_share: float = Field(0.2, gt=0, lt=1, description="Share of rows in test.")
    imbalance: Literal["none", "balanced"] = Field(
        "none",
        description="'none' keeps plain log loss (probabilities stay honest); 'balanced' "
        "up-weights positives and leaves the calibrator to undo the shift.",
    )
    calibration: Literal["auto", "isotonic", "sigmoid"] = Field(
        "auto", description="'auto' picks by cross-validated Brier score on validation."
    )
    bootstrap: int = Field(200, ge=0, description="Bootstrap resamples for confidence intervals.")
    lgbm: LGBMConfig = Field(default_factory=LGBMConfig, description="LightGBM parameters.")
    tiers: TierConfig = Field(default_factory=TierConfig, description="Tier cut points.")
    search: SearchConfig = Field(
        default_factory=default_search,
        description="Grid searched on the validation window by log loss (default: the fixed "
        "grid DEFAULT_GRID; `[search] grid = {}` trains [lgbm] alone).",
    )
    baselines: bool = Field(True, description="Also train logistic regression and the checklist.")
    model: Literal["lightgbm", "logistic", "best"] = Field(
        "best",
        description="Which model to register: LightGBM, the logistic regression, or the one "
        "with the lower validation log loss ('best'; needs baselines).",
    )
    monotone: bool = Field(
        True,
        description="Constrain LightGBM (monotone) and the logistic regression (coefficient "
        "signs) to the directions the feature registry declares.",
    )
    refit: bool = Field(
        True,
        description="After evaluating on the time split, refit the registered model on every "
        "labelled snapshot, calibrated on out-of-time folds (`--no-refit` turns it off).",
    )
    interventions: Literal["exclude", "feature", "ignore"] = Field(
        "exclude",
        description="Snapshots touched by an intervention (the interventions table): "
        "'exclude' drops those acted on by their horizon's end, 'feature' keeps them with "
        "the interventions known at the snapshot as inputs, 'ignore' trains on them as if "
        "nothing had been done (under-rates cases like those that were handled).",
    )
    refit_rounds: Literal["scaled", "folds"] = Field(
        "scaled",
        description="LightGBM's rounds for the refit model: 'scaled' takes the rounds early "
        "stopping found on the validation window, scaled by the ratio of all rows to the "
        "training window's; 'folds' chooses them by the log loss pooled over the "
        "out-of-time calibration folds (every labelled event speaks; the fold models grow "
        "to n_estimators, so the refit costs about twice as much). Measured on the "
        "simulated county of seed 7 (benchmarks/model_quality.py's year 3): 157 rounds "
        "instead of 291, ROC-AUC 0.793 against 0.790; not yet measured elsewhere, so not "
        "the default.",
    )
    refit_folds: int = Field(
        5,
        ge=2,
        le=12,
        description="Out-of-time calibration folds of the refit: the labelled snapshots cut "
        "by date into this many blocks, each scored by a model fitted on the snapshots "
        "before and after it whose labels cannot overlap it (one horizon apart).",
    )

    @model_validator(mode="after")
    def _shares(self) -> TrainConfig:
        if self.validation_share + self.test_share >= 0.8:
            raise ValueError(
                f"validation_share + test_share must leave at least 20% for training, got "
                f"{self.validation_share} + {self.test_share}."
            )
        return self


def parse_config(data: dict, source: str = "config") -> TrainConfig:
    """Validate a config mapping; a mistake becomes one :class:`ConfigError` naming the key."""
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        msg = first["msg"]
        hint = ""
        if first["type"] == "extra_forbidden":
            known = _known_keys(first["loc"])
            close = difflib.get_close_matches(str(first["loc"][-1]), known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else f" Known keys: {', '.join(known)}."
        raise ConfigError(
            f"{source}: key {where!r}: {msg}.{hint} Fix the file and run again."
        ) from exc


def _known_keys(loc: tuple) -> list[str]:
    model: type[BaseModel] = TrainConfig
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        sub = getattr(field, "annotation", None) if field else None
        candidates = [a for a in getattr(sub, "__args__", (sub,)) if isinstance(a, type)]
        nested = [a for a in candidates if issubclass(a, BaseModel)]
        if not nested:
            break
        model = nested[0]
    return sorted(model.model_fields)


def load_config(path: str | Path | None) -> TrainConfig:
    """Read a TOML config file; ``None`` gives the defaults."""
    if path is None:
        return TrainConfig()
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"expected a TOML config file, got {str(p)!r} which does not exist; "
            "see experiments/*.toml for examples."
        )
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc}); fix the syntax and run again.") from exc
    data.setdefault("name", p.stem)
    return parse_config(data, source=str(p))
