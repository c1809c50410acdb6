"""Training on a contract dataset: snapshots and features through the feature library,
then the same pipeline as any table, logged and registered in MLflow.

``train_until`` keeps the model from its own future: the dataset is cut at that date
(``Dataset.cut``) and only snapshots whose label horizon ends on or before it are used. A
bare date (``"2024-06-30"``) means the end of that day, 23:59:59, for both rules.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from riskwarn._dataset import Dataset
from riskwarn._progress import Progress
from riskwarn._retention import RetentionPolicy, expiry
from riskwarn.clock import parse_date
from riskwarn.errors import ConfigError
from riskwarn.training._boosters import LOCAL, Boosters
from riskwarn.training._config import TrainConfig
from riskwarn.training._fit import TrainingData, fit_evaluate
from riskwarn.training._interventions import (
    INTERVENTION_FEATURES,
    intervention_columns,
    keep_mask,
)
from riskwarn.training._table import TrainOutcome
from riskwarn.training._tracking import EXPERIMENT, log_training

KEYS = ["dispute_id", "as_of"]


@dataclass(frozen=True)
class SnapshotTable:
    """Labelled snapshots with every registry feature and the report-only groups."""

    snapshots: pd.DataFrame
    features: pd.DataFrame
    groups: pd.DataFrame
    registry_version: str
    digest: str
    train_until: pd.Timestamp | None
    interventions: pd.DataFrame | None = None
    """Per snapshot: interventions known then, and whether one falls in its horizon
    (``training._interventions``); None for tables built without the dataset."""


def build_table(
    dataset: Dataset,
    *,
    every_days: int = 30,
    horizon_days: int = 90,
    train_until: str | pd.Timestamp | None = None,
    progress: Progress | None = None,
    features: str | Path | None = None,
    retention: RetentionPolicy | None = None,
) -> SnapshotTable:
    """Labelled snapshots and their features, using only data dated on or before
    ``train_until`` and only labels whose horizon ends by then; with ``retention``, each
    snapshot's features read only the rows not expired at its as_of.

    ``features``: a features file of ``dataset`` written by ``riskwarn features``, read
    instead of building the features (the same table; see :func:`_table_from_file`)."""
    from riskwarn.features import REGISTRY_VERSION, build_features, build_snapshots, snapshot_groups

    if features is not None:
        return _table_from_file(
            dataset,
            features,
            every_days=every_days,
            horizon_days=horizon_days,
            train_until=train_until,
            retention=retention,
        )

    until = parse_date(train_until, "--train-until") if train_until is not None else None
    ds = dataset.cut(until) if until is not None else dataset
    snaps = build_snapshots(ds, every=every_days, horizon=horizon_days)
    keep = snaps["label_known"].to_numpy(dtype=bool).copy()
    if until is not None:
        keep &= (snaps["as_of"] + pd.Timedelta(days=horizon_days) <= until).to_numpy()
    if retention is not None:  # a dispute reopened after its term ran out stays expired
        gone = expiry(ds, retention).dates["disputes"]
        gone = pd.Series(gone.to_numpy(), index=ds.disputes["dispute_id"].astype("object"))
        keep &= ~(
            gone.reindex(snaps["dispute_id"].astype("object")).to_numpy()
            <= snaps["as_of"].to_numpy()
        )
    snaps = snaps.loc[keep].reset_index(drop=True)
    if snaps.empty:
        raise ConfigError(
            f"expected labelled snapshots, got none (data end {ds.end}, horizon {horizon_days} "
            "days); use a later --train-until, more data or a shorter horizon."
        )
    feats = build_features(ds, snaps[KEYS], progress=progress, retention=retention)
    groups = snapshot_groups(ds, snaps[KEYS])
    groups = groups[[c for c in groups.columns if c not in KEYS]]
    return SnapshotTable(
        snapshots=snaps,
        features=feats.drop(columns=KEYS).reset_index(drop=True),
        groups=groups.reset_index(drop=True),
        registry_version=REGISTRY_VERSION,
        digest=ds.digest(),
        train_until=until,
        interventions=intervention_columns(ds, snaps, horizon_days),
    )


def _table_from_file(
    dataset: Dataset,
    features: str | Path,
    *,
    every_days: int = 30,
    horizon_days: int = 90,
    train_until: str | pd.Timestamp | None = None,
    retention: RetentionPolicy | None = None,
) -> SnapshotTable:
    """The table :func:`build_table` builds, read from a features file written by
    ``riskwarn features`` from this ``dataset`` (checked: its digest, the feature registry
    version, every and horizon, the whole date range, and the --train-until cut).

    A file built from all the data serves any ``train_until``: features of a snapshot use
    only data up to its as_of, so they do not change when later data is cut away; labels
    are kept only where the cut data would know them.
    """
    from riskwarn.features import REGISTRY, read_features, snapshot_groups

    table, info = read_features(features)
    info.check(dataset.digest(), features)
    if (info.every, info.horizon) != (every_days, horizon_days):
        raise ConfigError(
            f"features file {features} has snapshots every {info.every} days with a "
            f"{info.horizon}-day horizon; the config asks for every {every_days} and horizon "
            f"{horizon_days}; rebuild it with `riskwarn features ... --every {every_days} "
            f"--horizon {horizon_days}` or use a matching config"
        )
    if info.start is not None or info.end is not None:
        raise ConfigError(
            f"features file {features} covers as_of {info.start or 'from the start'} to "
            f"{info.end or 'the end'} only; training uses every snapshot date of the data, so "
            "rebuild the file without --start and --end"
        )
    wanted = None if retention is None else retention.digest()
    if info.retention != wanted:
        raise ConfigError(
            f"features file {features} was built "
            + (
                "without a retention policy"
                if info.retention is None
                else f"under retention policy {info.retention}"
            )
            + "; this run asks for "
            + ("none" if wanted is None else f"policy {wanted}")
            + "; rebuild it with the same `--retention` as this run"
        )
    until = parse_date(train_until, "--train-until") if train_until is not None else None
    if info.until is not None and until != info.until:
        asked = "no --train-until" if until is None else f"--train-until {until}"
        raise ConfigError(
            f"features file {features} was built with --train-until {info.until}; this run "
            f"asks for {asked}; pass --train-until {info.train_until} or build the file "
            "without --train-until"
        )
    ds = dataset.cut(until) if until is not None else dataset
    keep = table["label_known"].to_numpy(dtype=bool).copy()
    if until is not None:
        ends = table["as_of"] + pd.Timedelta(days=horizon_days)
        keep &= (ends <= ds.end).to_numpy() & (ends <= until).to_numpy()
    table = table.loc[keep].reset_index(drop=True)
    if table.empty:
        raise ConfigError(
            f"expected labelled snapshots in {features}, got none (data end {ds.end}, horizon "
            f"{horizon_days} days); use a later --train-until or more data"
        )
    groups = snapshot_groups(ds, table[KEYS])
    return SnapshotTable(
        snapshots=table[["dispute_id", "as_of", "label", "label_known"]],
        features=table[REGISTRY.names()],
        groups=groups[[c for c in groups.columns if c not in KEYS]].reset_index(drop=True),
        registry_version=info.registry_version,
        digest=ds.digest(),
        train_until=until,
        interventions=intervention_columns(ds, table[KEYS], horizon_days),
    )


def select_features(table: SnapshotTable, config: TrainConfig) -> list[str]:
    """Feature names a config asks for: its groups, minus its dropped names."""
    from riskwarn.features import REGISTRY

    known_groups = sorted(set(REGISTRY.groups))
    for g in config.feature_groups or []:
        if g not in known_groups:
            close = difflib.get_close_matches(g, known_groups, n=1)
            hint = (
                f" Did you mean {close[0]!r}?" if close else f" Known: {', '.join(known_groups)}."
            )
            raise ConfigError(f"{config.name}: unknown feature group {g!r}.{hint}")
    names = REGISTRY.names(config.feature_groups)
    for d in config.drop_features:
        if d not in REGISTRY:
            close = difflib.get_close_matches(d, REGISTRY.names(), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{config.name}: drop_features names unknown feature {d!r}.{hint}")
    left_out = set(config.drop_features) | unused_counts(config.ever_features)
    names = [n for n in names if n not in left_out and n in table.features.columns]
    if not names:
        raise ConfigError(f"{config.name}: expected at least one feature, the config leaves none.")
    return names


def unused_counts(ever: bool) -> set[str]:
    """The "ever" counts (``ever=False``, the default) or their bounded alternatives
    (``ever=True``): one of each pair is left out of training."""
    from riskwarn.features import REGISTRY

    pairs = [(s.name, s.bounded) for s in REGISTRY if s.bounded]
    return {bounded if ever else name for name, bounded in pairs}


def training_data(table: SnapshotTable, config: TrainConfig) -> TrainingData:
    """The pipeline's input for one config: its features, and its intervention policy
    applied (``exclude`` drops snapshots acted on by their horizon's end, ``feature`` adds
    the interventions known at the snapshot as inputs); all features kept for re-scoring."""
    names = select_features(table, config)
    features = table.features
    if config.interventions == "feature":
        extra = _intervention_inputs(table)
        features = pd.concat([features, extra], axis=1)
        names = [*names, *extra.columns]
    keep = keep_mask(table.interventions, config.interventions)
    rows = slice(None) if keep is None else keep

    def cut(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.loc[rows].reset_index(drop=True)

    snaps = cut(table.snapshots)
    if snaps.empty:
        raise ConfigError(
            f"{config.name}: interventions = 'exclude' leaves no snapshot (every one was acted "
            "on within its horizon); use 'feature' or more data"
        )
    return TrainingData(
        features=cut(features[names]),
        label=snaps["label"].to_numpy(dtype=np.int64),
        time=snaps["as_of"].to_numpy(),
        ids=snaps["dispute_id"].astype(str).to_numpy(),
        groups=cut(table.groups),
        registry_version=table.registry_version,
        extra=cut(pd.concat([table.snapshots[KEYS], features], axis=1)),
        topk_by_time=True,
        interventions=config.interventions,
    )


def _intervention_inputs(table: SnapshotTable) -> pd.DataFrame:
    if table.interventions is None:
        raise ConfigError(
            "interventions = 'feature' needs the table built from the dataset (build_table); "
            "this table has no intervention columns"
        )
    return table.interventions[list(INTERVENTION_FEATURES)].reset_index(drop=True)


def load(path: str | Path) -> Dataset:
    """The validated dataset in directory ``path``."""
    from riskwarn import load_dataset

    return load_dataset(path)


def train(
    path: str | Path,
    config: TrainConfig | None = None,
    *,
    train_until: str | pd.Timestamp | None = None,
    tracking_uri: str | None = None,
    register: bool = True,
    experiment: str = EXPERIMENT,
    progress: Progress | None = None,
    dataset: Dataset | None = None,
    table: SnapshotTable | None = None,
    features: str | Path | None = None,
    retention: RetentionPolicy | None = None,
    boosters: Boosters = LOCAL,
) -> TrainOutcome:
    """Snapshots -> features -> train, calibrate, evaluate -> MLflow run and registered model
    (alias ``challenger``). ``features``: a features file of this dataset (``riskwarn
    features``) to read instead of building the features; ``retention``: a policy whose
    expired rows no snapshot reads from their expiry on; ``boosters``: where LightGBM is
    fitted (:func:`riskwarn.training.dask_boosters` for a Dask cluster)."""
    cfg = config or TrainConfig()
    if table is None:
        ds = dataset if dataset is not None else load(path)
        table = build_table(
            ds,
            every_days=cfg.every_days,
            horizon_days=cfg.horizon_days,
            train_until=train_until,
            progress=progress,
            features=features,
            retention=retention,
        )
    result = fit_evaluate(training_data(table, cfg), cfg, progress, boosters=boosters)
    if table.train_until is not None:
        for model in (result.model, result.evaluation_model):
            if model is not None:
                model.metadata = model.metadata.with_(train_until=table.train_until)
    run = log_training(
        result,
        cfg,
        dataset=str(path),
        digest=table.digest,
        tracking_uri=tracking_uri,
        register=register,
        experiment=experiment,
        progress=progress,
    )
    return TrainOutcome(result, run)
