"""riskwarn.training: train, calibrate, evaluate, track and score escalation-risk models.

>>> from riskwarn.training import load_model
>>> model = load_model("models:/riskwarn@champion")   # doctest: +SKIP
>>> risk = model.predict_risk(features)                # doctest: +SKIP
>>> model.tiers(risk), model.reasons(features, k=3)    # doctest: +SKIP
"""

from __future__ import annotations

from riskwarn.features import KeyFact
from riskwarn.training._alarms import find_alarms
from riskwarn.training._baselines import ChecklistBaseline, LogisticBaseline
from riskwarn.training._boosters import Boosters
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
from riskwarn.training._dask import dask_boosters
from riskwarn.training._drift import (
    chi_square,
    feature_drift,
    ks,
    missing_share,
    psi_levels,
    psi_numbers,
)
from riskwarn.training._estimate import expected_performance
from riskwarn.training._experiment import ExperimentRun, comparison, run_experiments
from riskwarn.training._fit import TrainingData, TrainResult, fit_evaluate
from riskwarn.training._interventions import INTERVENTION_FEATURES, intervention_columns
from riskwarn.training._lgbm import TreeModel
from riskwarn.training._linear import LinearModel
from riskwarn.training._matrix import FeatureLayout, to_matrix
from riskwarn.training._metadata import SCHEMA_VERSION, ModelMetadata, RecalibrationInfo
from riskwarn.training._metrics import ece, evaluate, top_flags
from riskwarn.training._model import RiskModel, check_registry
from riskwarn.training._monitor import monitor
from riskwarn.training._monitor_report import print_monitor, render_html, write_report
from riskwarn.training._monitor_result import (
    ALARM_KINDS,
    Alarm,
    FeatureDrift,
    GroupResult,
    MonitorResult,
    Month,
)
from riskwarn.training._monitor_tracking import (
    latest_monitor,
    latest_monitor_run,
    log_monitor,
    run_monitor,
)
from riskwarn.training._promote import PromotionDecision, promote
from riskwarn.training._realised import calibration_measures, realised_performance
from riskwarn.training._recalibrate import Recalibration, recalibrate, recalibrate_model
from riskwarn.training._score import score, score_open
from riskwarn.training._scores import Reason, Scores, apply_floors, reasons_of
from riskwarn.training._split import Split, time_split
from riskwarn.training._table import TrainOutcome, read_table, table_data, train_table
from riskwarn.training._tiers import assign_tiers, tier_thresholds
from riskwarn.training._tracking import LoggedRun, load_model
from riskwarn.training._train import SnapshotTable, build_table, train, training_data

__all__ = [  # noqa: RUF022 - plain sorted(), as tests/test_exported_members.py checks
    "ALARM_KINDS",
    "Alarm",
    "Boosters",
    "Calibrator",
    "ChecklistBaseline",
    "DEFAULT_GRID",
    "ExperimentRun",
    "FeatureDrift",
    "FeatureLayout",
    "GroupResult",
    "INTERVENTION_FEATURES",
    "KeyFact",
    "LGBMConfig",
    "LinearModel",
    "LoggedRun",
    "LogisticBaseline",
    "ModelMetadata",
    "MonitorResult",
    "Month",
    "PromotionDecision",
    "Reason",
    "Recalibration",
    "RecalibrationInfo",
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
    "calibration_measures",
    "check_registry",
    "chi_square",
    "choose_calibrator",
    "comparison",
    "dask_boosters",
    "ece",
    "evaluate",
    "expected_performance",
    "feature_drift",
    "find_alarms",
    "fit_evaluate",
    "intervention_columns",
    "ks",
    "latest_monitor",
    "latest_monitor_run",
    "load_config",
    "load_model",
    "log_monitor",
    "missing_share",
    "monitor",
    "parse_config",
    "print_monitor",
    "promote",
    "psi_levels",
    "psi_numbers",
    "read_table",
    "realised_performance",
    "reasons_of",
    "recalibrate",
    "recalibrate_model",
    "render_html",
    "run_experiments",
    "run_monitor",
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
    "write_report",
]
