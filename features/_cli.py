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
) -> None:
    """Write one row per open dispute and snapshot date: label and every feature."""
    import pandas as pd

    from riskwarn import load_dataset
    from riskwarn._progress import progress_bar

    from ._builder import FeatureBuilder
    from ._snapshots import build_snapshots

    began = time.perf_counter()
    dataset = load_dataset(directory)
    snapshots = build_snapshots(dataset, start=start, end=end, every=every, horizon=horizon)
    with progress_bar("features") as progress:
        table = FeatureBuilder(dataset).transform(snapshots, progress=progress)
    frame = pd.concat(
        [snapshots.reset_index(drop=True), table.drop(columns=["dispute_id", "as_of"])], axis=1
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out, index=False)
    positives = int(snapshots["label"].fillna(0).sum())
    n_features = table.shape[1] - 2
    typer.echo(
        f"wrote {out}: {len(frame):,} rows, {positives:,} positives, "
        f"{n_features} features in {time.perf_counter() - began:.1f}s"
    )
