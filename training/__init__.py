"""riskwarn.training: train, calibrate, evaluate, track and score escalation-risk models.

>>> from riskwarn.training import load_model
>>> model = load_model("models:/riskwarn@champion")   # doctest: +SKIP
>>> risk = model.predict_risk(features)                # doctest: +SKIP
>>> model.tiers(risk), model.reasons(features, k=3)    # doctest: +SKIP
"""

from __future__ import annotations

from riskwarn.features import KeyFact
from riskwarn.training._baselines import ChecklistBaseline, LogisticBaseline
from riskwarn.training._calibrate import Calibrator, choose_calibrator
from riskwarn.training._config import (
    DEFAULT_GRID,
    LGBMConfig,
    SearchConfig,
    TierConfig,
    TrainConfig,
    load_config,
    parse_config,
)
from riskwarn.training._experiment import ExperimentRun, comparison, run_experiments
from riskwarn.training._fit import TrainingData, TrainResult, fit_evaluate
from riskwarn.training._interventions import INTERVENTION_FEATURES, intervention_columns
from riskwarn.training._lgbm import TreeModel
from riskwarn.training._linear import LinearModel
from riskwarn.training._matrix import FeatureLayout, to_matrix
from riskwarn.training._metadata import SCHEMA_VERSION, ModelMetadata
from riskwarn.training._metrics import ece, evaluate, top_flags
from riskwarn.training._model import RiskModel, check_registry
from riskwarn.training._promote import PromotionDecision, promote
from riskwarn.training._score import score, score_open
from riskwarn.training._scores import Reason, Scores, apply_floors
from riskwarn.training._split import Split, time_split
from riskwarn.training._table import TrainOutcome, read_table, table_data, train_table
from riskwarn.training._tiers import assign_tiers, tier_thresholds
from riskwarn.training._tracking import LoggedRun, load_model
from riskwarn.training._train import SnapshotTable, build_table, train, training_data

__all__ = [  # noqa: RUF022 - plain sorted(), as tests/test_exported_members.py checks
    "Calibrator",
    "ChecklistBaseline",
    "DEFAULT_GRID",
    "ExperimentRun",
    "FeatureLayout",
    "INTERVENTION_FEATURES",
    "KeyFact",
    "LGBMConfig",
    "LinearModel",
    "LoggedRun",
    "LogisticBaseline",
    "ModelMetadata",
    "PromotionDecision",
    "Reason",
    "RiskModel",
    "SCHEMA_VERSION",
    "Scores",
    "SearchConfig",
    "SnapshotTable",
    "Split",
    "TierConfig",
    "TrainConfig",
    "TrainOutcome",
    "TrainResult",
    "TrainingData",
    "TreeModel",
    "apply_floors",
    "assign_tiers",
    "build_table",
    "check_registry",
    "choose_calibrator",
    "comparison",
    "ece",
    "evaluate",
    "fit_evaluate",
    "intervention_columns",
    "load_config",
    "load_model",
    "parse_config",
    "promote",
    "read_table",
    "run_experiments",
    "score",
    "score_open",
    "table_data",
    "tier_thresholds",
    "time_split",
    "to_matrix",
    "top_flags",
    "train",
    "train_table",
    "training_data",
]
