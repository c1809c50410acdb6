"""The ``features`` command: snapshots, labels and features of a dataset, to Parquet."""

from __future__ import annotations

import time
from pathlib import Path

import typer

commands = typer.Typer()


@commands.command()
def features(
    directory: Path = typer.Argument(..., help="Dataset directory (CSV and/or Parquet tables)."),
    out: Path = typer.Option(..., "--out", help="Parquet file to write."),
    start: str | None = typer.Option(None, "--start", help="First as_of, YYYY-MM-DD."),
    end: str | None = typer.Option(None, "--end", help="Last as_of at most, YYYY-MM-DD."),
    every: int = typer.Option(30, "--every", min=1, help="Days between snapshot dates."),
    horizon: int = typer.Option(90, "--horizon", min=1, help="Label horizon in days."),
    train_until: str | None = typer.Option(
        None,
        "--train-until",
        help="Use only data dated on or before this date (YYYY-MM-DD: the end of that day), "
        "as `riskwarn train --train-until` does.",
    ),
    retention: str | None = typer.Option(
        None,
        "--retention",
        help="Honour a retention policy: 'default' (riskwarn/retention.toml) or a TOML file. "
        "Each snapshot reads only the rows not expired at its as_of.",
    ),
    dask: str | None = typer.Option(
        None,
        "--dask",
        help="Build by county as Dask tasks on this scheduler (tcp://host:8786), or "
        "'local:N' for a LocalCluster of N workers; needs riskwarn[distributed]. The values "
        "equal the single-process build (docs/scale.md).",
    ),
) -> None:
    """Write one row per open dispute and snapshot date: label and every feature, with
    the dataset's digest and the feature registry version in the file's metadata (so
    `riskwarn train --features` and `riskwarn experiment run --features` can reuse it)."""
    import pandas as pd

    from riskwarn import load_dataset
    from riskwarn._progress import progress_bar
    from riskwarn._retention import retention_option
    from riskwarn.clock import parse_date
    from riskwarn.errors import ConfigError

    from ._builder import build_features
    from ._file import FeatureFile, write_features
    from ._registry import REGISTRY_VERSION
    from ._snapshots import build_snapshots

    began = time.perf_counter()
    policy = retention_option(retention)
    dataset = load_dataset(directory)
    until = parse_date(train_until, "--train-until") if train_until is not None else None
    ds = dataset.cut(until) if until is not None else dataset
    if dask is not None:
        if policy is not None:
            raise ConfigError(
                "--retention is not supported with --dask yet; build this file without --dask"
            )
        from ._dask import build_features_dask, dask_client

        with dask_client(dask) as client:
            frame = build_features_dask(
                ds, client, start=start, end=end, every=every, horizon=horizon
            )
    else:
        snapshots = build_snapshots(ds, start=start, end=end, every=every, horizon=horizon)
        with progress_bar("features") as progress:
            table = build_features(ds, snapshots, progress, retention=policy)
        frame = pd.concat(
            [snapshots.reset_index(drop=True), table.drop(columns=["dispute_id", "as_of"])],
            axis=1,
        )
    info = FeatureFile(
        dataset_digest=dataset.digest(),
        registry_version=REGISTRY_VERSION,
        every=every,
        horizon=horizon,
        start=None if start is None else pd.Timestamp(start).isoformat(),
        end=None if end is None else pd.Timestamp(end).isoformat(),
        train_until=None if until is None else until.isoformat(),
        retention=None if policy is None else policy.digest(),
    )
    write_features(frame, out, info)
    positives = int(frame["label"].fillna(0).sum())
    n_features = frame.shape[1] - 4
    typer.echo(
        f"wrote {out}: {len(frame):,} rows, {positives:,} positives, "
        f"{n_features} features in {time.perf_counter() - began:.1f}s "
        f"(dataset {info.dataset_digest}, registry {info.registry_version})"
    )
