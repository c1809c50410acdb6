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

    from riskwarn._contract import TABLES_BY_NAME as CONTRACT_TABLES

    persons, disputes = len(ds.persons), len(ds.disputes)
    start, end = ds.start, ds.end
    extension = {name for name, t in CONTRACT_TABLES.items() if t.extension}
    lines = [
        f"  {name:<17}{n:>10,} rows"
        for name, n in ds.summary().items()
        if n or name not in extension
    ]
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
    persons: int = typer.Option(
        20_000, "--persons", min=100, help="Residents of the county (of the province, in all)."
    ),
    years: float = typer.Option(3.0, "--years", min=0.25, help="Years of records."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same data."),
    start: str = typer.Option("2022-01-01", "--start", help="First day of records, YYYY-MM-DD."),
    fmt: str = typer.Option("csv", "--format", help="csv or parquet."),
    mechanisms: Path | None = typer.Option(
        None,
        "--mechanisms",
        help="TOML file of mechanism strengths to change (experiments/sim/other_mechanisms.toml).",
    ),
    truth: bool = typer.Option(
        False, "--truth", help="Also write _truth/oracle.parquet: every dispute's true risk."
    ),
    drift: str = typer.Option(
        "none", "--drift", help="Drift scenario: none, covariate, concept or recording."
    ),
    drift_start: str | None = typer.Option(
        None, "--drift-start", help="When the drift begins, YYYY-MM-DD (default: the last year)."
    ),
    interventions: bool = typer.Option(
        False, "--interventions", help="Simulate warnings and their handling (a planted effect)."
    ),
    handled_share: float | None = typer.Option(
        None, "--handled-share", help="Share of warnings handled (default 0.6)."
    ),
    effect: float | None = typer.Option(
        None, "--effect", help="Handling multiplies the hazard by 1 - effect (default 0.3)."
    ),
    rollout: str | None = typer.Option(
        None, "--rollout", help="stepped (township groups one step apart) or all (default stepped)."
    ),
    rollout_start: str | None = typer.Option(
        None, "--rollout-start", help="First rollout day, YYYY-MM-DD (default: a year in)."
    ),
    rollout_step: int | None = typer.Option(
        None, "--rollout-step", help="Days between rollout steps (default 91)."
    ),
    counties: int = typer.Option(
        1, "--counties", min=1, help="Counties of a province, with ties across their borders."
    ),
) -> None:
    """Write a synthetic county as a contract dataset (see docs/simulator.md).

    Options beyond --persons, --years, --seed and --start also write _truth/ (the scenario,
    and the warning loop's decisions or the oracle when asked for) beside the tables.
    """
    from riskwarn._io import check_output_dir
    from riskwarn._progress import progress_bar
    from riskwarn._sim_mechanisms import load_mechanisms
    from riskwarn._simulate import simulate_with_truth
    from riskwarn.errors import ConfigError

    try:
        first = date.fromisoformat(start)
    except ValueError as exc:
        raise ConfigError(f"--start must be a date YYYY-MM-DD, got {start!r}") from exc
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"--format must be 'csv' or 'parquet', got {fmt!r}")
    loop_options = {
        "handled_share": handled_share,
        "effect": effect,
        "rollout": rollout,
        "rollout_start": rollout_start,
        "rollout_step_days": rollout_step,
    }
    given = {k: v for k, v in loop_options.items() if v is not None}
    loop = _warning_loop(given) if interventions else None
    if given and not interventions:
        names = ", ".join("--" + k.replace("_days", "").replace("_", "-") for k in given)
        raise ConfigError(f"{names} set the warning loop: give --interventions too")
    strengths = load_mechanisms(mechanisms) if mechanisms is not None else None
    check_output_dir(out_dir)
    began = time.perf_counter()
    with progress_bar("simulating") as progress:
        sim = simulate_with_truth(
            persons=persons, years=years, seed=seed, start=first, progress=progress,
            mechanisms=strengths, drift=drift, drift_start=drift_start, interventions=loop,
            counties=counties, oracle=truth,
        )  # fmt: skip
        progress(1, 1, f"writing {out_dir}")
        sim.write(out_dir, fmt)
    typer.echo(f"wrote {out_dir} in {time.perf_counter() - began:.1f}s")
    typer.echo("\n".join(_summary_lines(sim.dataset)))
    if not sim.plain:
        typer.echo(f"  truth: {out_dir / '_truth'} (scenario.json{_truth_files(sim)})")


def _warning_loop(options: dict):
    """The warning loop from the command line's options (a ConfigError names the option)."""
    from pydantic import ValidationError

    from riskwarn._sim_loop import WarningLoop
    from riskwarn.errors import ConfigError

    try:
        return WarningLoop(**options)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "--" + str(first["loc"][0]).replace("_days", "").replace("_", "-")
        raise ConfigError(f"{name}: {first['msg']} (got {first.get('input')!r})") from exc


def _truth_files(sim) -> str:
    files = [
        name
        for name, part in (("oracle", sim.truth.oracle), ("warnings", sim.truth.warnings))
        if part is not None
    ]
    return "".join(f", {name}.parquet" for name in files)


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
