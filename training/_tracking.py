"""The MLflow edge: log a training run, register its model, move aliases, load models.

Embedded by default (a SQLite file and an artifact folder under ``RISKWARN_HOME``, nothing to
start); ``--tracking-uri`` or ``MLFLOW_TRACKING_URI`` points at a tracking server instead.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskwarn import config as rw_config
from riskwarn._progress import Progress, report
from riskwarn.errors import ConfigError, ModelNotFoundError
from riskwarn.training._card import model_card
from riskwarn.training._config import TrainConfig
from riskwarn.training._fit import TrainResult
from riskwarn.training._metadata import mlmodel_metadata
from riskwarn.training._model import BUNDLE, RiskModel

MODEL_NAME = "riskwarn"
EXPERIMENT = "riskwarn"
TEST_ARTIFACT = "evaluation/test.parquet"
_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")
_LOGGED = re.compile(r"^(runs:/[0-9A-Za-z]+/.+|models:/m-[0-9a-f]+)$")  # not registered

os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def connect(tracking_uri: str | None = None) -> str:
    """Point MLflow (tracking and registry) at the resolved URI and return it."""
    import mlflow

    uri = rw_config.tracking_uri(tracking_uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def _embedded(uri: str) -> bool:
    return uri.startswith("sqlite:") or uri.startswith("file:") or "://" not in uri


def ensure_experiment(uri: str, name: str = EXPERIMENT) -> str:
    """The experiment id, creating it (with the local artifact folder when embedded)."""
    import mlflow

    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = (rw_config.artifact_root() / name).as_uri() if _embedded(uri) else None
    return mlflow.create_experiment(name, artifact_location=location)


@dataclass(frozen=True)
class LoggedRun:
    """Where a training run landed in MLflow."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    model_version: str | None
    model_uri: str


def _example(frame: pd.DataFrame, model: RiskModel) -> pd.DataFrame:
    """Input example in wire types: category features as text; bool, integer and float
    features keep their own type (as ``build_features`` gives them), nullable integers
    become float."""
    out = {}
    for name in model.feature_names:
        col = frame[name]
        if name in model.layout.categories:
            text = col.astype("object").where(col.notna(), None)
            out[name] = text.map(lambda v: None if v is None else str(v))
        elif col.dtype == bool or col.dtype == np.int64 or col.dtype == np.float64:
            out[name] = col
        else:
            out[name] = pd.to_numeric(col, errors="coerce").astype("float64")
    return pd.DataFrame(out).reset_index(drop=True)


def _signature(example: pd.DataFrame, infer):  # type: ignore[no-untyped-def]
    """Input and output schema; integer features stay ``long`` (they are never missing:
    ``build_features`` gives counts as int64), so MLflow's hint about integer columns that
    might hold missing values does not apply."""
    output = pd.DataFrame({"risk": np.zeros(len(example)), "tier": ["blue"] * len(example)})
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Hint: Inferred schema contains integer column", category=UserWarning
        )
        return infer(example, output)


def pip_requirements() -> list[str]:
    """What the pyfunc needs, pinned to the versions that trained it. Given explicitly so
    MLflow does not probe imports in a subprocess (seconds per run). riskwarn itself must
    be importable where the model is loaded, and is left out on purpose: it is not on PyPI
    (see :func:`riskwarn.training._pyfunc.requirement_note`, also in the MLmodel metadata
    and the model card)."""
    from importlib.metadata import version

    return [
        f"{pkg}=={version(pkg)}"
        for pkg in ("mlflow", "lightgbm", "numpy", "pandas", "scipy", "scikit-learn", "pyarrow")
    ]


def _flat_params(config: TrainConfig, params: dict) -> dict[str, str]:
    flat = {f"lgbm.{k}" if k in type(config.lgbm).model_fields else k: v for k, v in params.items()}
    flat.update(
        {
            "config.name": config.name,
            "config.model": config.model,
            "config.monotone": config.monotone,
            "config.refit": config.refit,
            "config.calibration": config.calibration,
            "config.tiers": json.dumps(config.tiers.model_dump()),
            "config.feature_groups": json.dumps(config.feature_groups),
            "config.drop_features": json.dumps(config.drop_features),
            "config.validation_share": config.validation_share,
            "config.test_share": config.test_share,
            "config.bootstrap": config.bootstrap,
        }
    )
    return {k: str(v)[:500] for k, v in flat.items()}


def _metric_values(metrics: dict) -> dict[str, float]:
    out: dict[str, float] = {}
    for model, values in metrics.items():
        for key, d in values.items():
            for part, v in d.items():
                if v == v:  # skip NaN
                    suffix = "" if part == "value" else f"_{part}"
                    out[f"test_{model}_{key}{suffix}"] = float(v)
    return out


def log_training(
    result: TrainResult,
    config: TrainConfig,
    *,
    dataset: str,
    digest: str,
    tracking_uri: str | None = None,
    register: bool = True,
    model_name: str = MODEL_NAME,
    experiment: str = EXPERIMENT,
    progress: Progress | None = None,
) -> LoggedRun:
    """Log config, parameters, dataset digest, metrics, plots, model card and the model;
    register the model as ``model_name`` (default ``riskwarn``) and give the new version
    the alias ``challenger``."""
    import mlflow
    from mlflow.models import infer_signature

    from riskwarn.training._plots import make_plots
    from riskwarn.training._pyfunc import CODE as PYFUNC_CODE
    from riskwarn.training._pyfunc import requirement_note

    uri = connect(tracking_uri)
    experiment_id = ensure_experiment(uri, experiment)
    model = result.model
    steps = 4
    with (
        tempfile.TemporaryDirectory() as tmp,
        mlflow.start_run(experiment_id=experiment_id, run_name=config.name) as run,
    ):
        work = Path(tmp)
        report(progress, 0, steps, "parameters")
        choice = model.metadata.choice
        mlflow.set_tags(
            {
                "riskwarn.dataset": dataset,
                "riskwarn.dataset_digest": digest,
                "riskwarn.registry_version": model.registry_version,
                "riskwarn.config": config.name,
                "riskwarn.model_kind": model.kind,
                "riskwarn.refit": str(model.metadata.refit.refit).lower(),
                "riskwarn.lightgbm_worse_than_logistic": str(
                    choice.lightgbm_worse_than_logistic
                ).lower(),
            }
        )
        mlflow.log_params({**_flat_params(config, result.params), "dataset_digest": digest})
        mlflow.log_dict(config.model_dump(mode="json"), "config.json")
        mlflow.log_metrics(_metric_values(result.metrics))
        mlflow.log_metrics(
            {f"validation_logloss_{k}": v for k, v in choice.validation_logloss.items()}
        )
        cal = result.calibration
        # the calibrated model's validation score (cross-validated over the calibrator);
        # `experiment run --register` picks the config to register by it
        mlflow.log_metric("validation_brier", float(cal["cv_brier"][cal["method"]]))
        if result.search:
            mlflow.log_dict({"trials": result.search}, "search.json")
        report(progress, 1, steps, "plots")
        test = result.test_frame
        assert test is not None and result.test_contrib is not None
        x_test = model.matrix(test[model.feature_names])
        make_plots(
            work / "plots",
            test["label"].to_numpy(),
            result.test_risk,
            result.test_contrib,
            x_test,
            model.feature_names,
            test["time"].to_numpy(),
            model.tiers(result.test_risk[model.kind]),
        )
        mlflow.log_artifacts(str(work / "plots"), "plots")
        meta = model.metadata.with_(
            run_id=run.info.run_id,
            dataset=dataset,
            dataset_digest=digest,
            importance=result.importance[:30],
            importance_by_group=result.importance_by_group,
        )
        card = model_card(config=config, metadata=meta)
        model.metadata = meta.with_(model_card=card)
        mlflow.log_text(card, "model_card.md")
        mlflow.log_dict(
            model.metadata.model_dump(
                mode="json",
                include={
                    "windows",
                    "metrics",
                    "groups",
                    "calibration",
                    "importance",
                    "importance_by_group",
                    "choice",
                    "refit",
                },
            ),
            "evaluation/results.json",
        )
        report(progress, 2, steps, "test snapshots")
        (work / "evaluation").mkdir()
        test.to_parquet(work / "evaluation" / "test.parquet", index=False)
        mlflow.log_artifact(str(work / "evaluation" / "test.parquet"), "evaluation")
        report(progress, 3, steps, "model")
        bundle = model.save(work / BUNDLE)
        example = _example(test.head(5), model)
        signature = _signature(example, infer_signature)
        mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_CODE),
            metadata=mlmodel_metadata(model.metadata, requirement_note()),
            artifacts={BUNDLE: str(bundle)},
            signature=signature,
            input_example=example,
            pip_requirements=pip_requirements(),
        )
        report(progress, 4, steps, "done")
    logged = LoggedRun(run.info.run_id, experiment_id, uri, None, f"runs:/{run.info.run_id}/model")
    model.version, model.uri = "", logged.model_uri
    if register:
        logged = register_run(logged, model, config.name, model_name=model_name)
    return logged


def register_run(
    logged: LoggedRun, model: RiskModel, config_name: str, *, model_name: str = MODEL_NAME
) -> LoggedRun:
    """Register a logged run's model as ``model_name``, give the new version the alias
    ``challenger`` and tag it; returns the run with its version."""
    import mlflow

    connect(logged.tracking_uri)
    mv = mlflow.register_model(_logged_model_uri(logged), model_name)
    version = str(mv.version)
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(model_name, "challenger", version)
    client.set_model_version_tag(model_name, version, "run_id", logged.run_id)
    client.set_model_version_tag(model_name, version, "registry_version", model.registry_version)
    client.set_model_version_tag(model_name, version, "config", config_name)
    client.set_tag(logged.run_id, "riskwarn.model_version", version)
    model.version, model.uri = version, f"models:/{model_name}/{version}"
    return LoggedRun(logged.run_id, logged.experiment_id, logged.tracking_uri, version, model.uri)


def _logged_model_uri(logged: LoggedRun) -> str:
    """MLflow's own ``models:/m-ID`` for a run's model (registering by ``runs:/`` works but
    makes MLflow warn that the run holds no artifacts at that path)."""
    import mlflow

    outputs = mlflow.get_run(logged.run_id).outputs
    ids = [o.model_id for o in outputs.model_outputs] if outputs else []
    return f"models:/{ids[-1]}" if ids else logged.model_uri


def resolve_version(uri: str) -> tuple[str, str]:
    """(registered model name, version) behind ``models:/name@alias`` or ``models:/name/N``."""
    import mlflow
    from mlflow.exceptions import MlflowException

    m = _URI.match(uri)
    if m is None:
        raise ConfigError(
            f"expected a model URI like 'models:/riskwarn@champion', 'models:/riskwarn/3' or "
            f"'runs:/RUN_ID/model', got {uri!r}."
        )
    name = m["name"]
    client = mlflow.MlflowClient()
    try:
        if m["alias"]:
            mv = client.get_model_version_by_alias(name, m["alias"])
        else:
            mv = client.get_model_version(name, m["version"])
    except MlflowException as exc:
        raise ModelNotFoundError(
            f"expected a registered model behind {uri!r}, got none in the tracking store "
            f"{mlflow.get_tracking_uri()!r}; train one with `riskwarn train DIR` and promote it "
            "with `riskwarn promote`, or pass --model / --tracking-uri."
        ) from exc
    return name, str(mv.version)


def load_model(
    uri: str = "models:/riskwarn@champion", tracking_uri: str | None = None
) -> RiskModel:
    """Load a model as a :class:`RiskModel`: a registered one by alias or version
    (``models:/riskwarn@champion``, ``models:/riskwarn/3``), or one a run logged without
    registering it (``runs:/RUN_ID/model``, as ``experiment run`` prints; or MLflow's own
    ``models:/m-ID``). An unregistered model's ``version`` is empty; its ``uri`` names it.

    Raises :class:`~riskwarn.errors.ModelNotFoundError` when nothing stands behind ``uri``.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    connect(tracking_uri)
    if _LOGGED.match(uri):
        source, version = uri, ""
    else:
        name, version = resolve_version(uri)
        source = f"models:/{name}/{version}"
    with tempfile.TemporaryDirectory(prefix="riskwarn-model-") as local:
        try:
            path = mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=local)
        except (MlflowException, OSError) as exc:
            raise ModelNotFoundError(
                f"expected a logged model behind {uri!r}, got none in the tracking store "
                f"{mlflow.get_tracking_uri()!r} ({exc}); check the run id (`riskwarn experiment "
                "run` prints it), or pass --tracking-uri."
            ) from exc
        bundle = Path(path) / "artifacts" / BUNDLE
        if not bundle.is_dir():
            raise ModelNotFoundError(
                f"expected a riskwarn model bundle in {uri!r} (version {version or '-'}), got an "
                "MLflow model without one; log models with `riskwarn train`."
            )
        return RiskModel.load(bundle, version=version, uri=uri)


def download_test_frame(run_id: str) -> pd.DataFrame:
    """The test snapshots (features, labels, groups) stored with a training run."""
    import mlflow

    with tempfile.TemporaryDirectory() as local:
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=TEST_ARTIFACT, dst_path=local
        )
        return pd.read_parquet(path)
