"""Core commands: ``validate`` a contract dataset and ``simulate`` a county."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import typer

commands = typer.Typer()


@commands.command()
def validate(
    directory: Path = typer.Argument(..., help="Dataset directory (CSV and/or Parquet tables)."),
    limit: int = typer.Option(50, help="Issues to list before summarising the rest."),
) -> None:
    """Check a dataset against the data contract and print a report (exit 1 when invalid)."""
    from riskwarn._progress import progress_bar
    from riskwarn._validate import validate_dataset

    with progress_bar("validating") as progress:
        report = validate_dataset(directory, progress=progress)
    typer.echo(report.format(limit=limit))
    if not report.ok:
        raise typer.Exit(1)


def _summary_lines(ds) -> list[str]:
    """A short human summary of a dataset: sizes, period, rates."""
    import pandas as pd

    persons, disputes = len(ds.persons), len(ds.disputes)
    start, end = ds.start, ds.end
    lines = [f"  {name:<17}{n:>10,} rows" for name, n in ds.summary().items()]
    if pd.isna(start) or not persons:
        lines.append("  period           none: the dataset holds no dated records")
        return lines
    years = max((end - start).days / 365.25, 1 / 365.25)
    lines.append(f"  period           {start:%Y-%m-%d} .. {end:%Y-%m-%d}")
    lines.append(f"  disputes per 100 persons per year: {100 * disputes / persons / years:.1f}")
    lines.append(f"  categories: {ds.disputes['category'].value_counts().to_dict()}")
    lines.append(f"  incidents by kind: {ds.incidents['kind'].value_counts().to_dict()}")
    return lines


@commands.command()
def simulate(
    out_dir: Path = typer.Argument(..., help="Directory to write the dataset into."),
    persons: int = typer.Option(20_000, "--persons", min=100, help="Residents of the county."),
    years: float = typer.Option(3.0, "--years", min=0.25, help="Years of records."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same data."),
    start: str = typer.Option("2022-01-01", "--start", help="First day of records, YYYY-MM-DD."),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
) -> None:
    """Write a synthetic county as a contract dataset (see docs/simulator.md)."""
    from riskwarn._io import check_output_dir, write_dataset
    from riskwarn._progress import progress_bar
    from riskwarn._simulate import simulate as run
    from riskwarn.errors import ConfigError

    try:
        first = date.fromisoformat(start)
    except ValueError as exc:
        raise ConfigError(f"--start must be a date YYYY-MM-DD, got {start!r}") from exc
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"--format must be 'csv' or 'parquet', got {fmt!r}")
    check_output_dir(out_dir)
    began = time.perf_counter()
    with progress_bar("simulating") as progress:
        ds = run(persons=persons, years=years, seed=seed, start=first, progress=progress)
        progress(1, 1, f"writing {out_dir}")
        write_dataset(ds, out_dir, fmt)
    typer.echo(f"wrote {out_dir} in {time.perf_counter() - began:.1f}s")
    typer.echo("\n".join(_summary_lines(ds)))


@commands.command()
def summary(
    directory: Path = typer.Argument(..., help="Dataset directory."),
) -> None:
    """Load a dataset through the validating loader and print a short summary."""
    from riskwarn._progress import progress_bar
    from riskwarn._validate import load_dataset

    with progress_bar("loading") as progress:
        ds = load_dataset(directory, progress=progress)
    typer.echo(f"dataset {directory} (digest {ds.digest()})")
    typer.echo("\n".join(_summary_lines(ds)))
