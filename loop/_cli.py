"""Loop commands: ``evaluate-warnings``.

riskwarn evaluate-warnings DIR [--as-of 2024-12-31] [--model models:/riskwarn@champion]
                               [--warnings store_warnings.csv] [--out report.json]
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

commands = typer.Typer()


@commands.command("evaluate-warnings")
def evaluate_warnings(
    directory: Path = typer.Argument(..., help="Contract dataset directory with interventions."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Evaluate as of this date: outcomes whose horizon ended by then."
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        help="Model URI whose scoring rounds say which cases were warned (default: the "
        "simulator's _truth/warnings.parquet in DIR).",
    ),
    tracking_uri: str | None = typer.Option(None, "--tracking-uri", help="MLflow tracking URI."),
    warnings: Path | None = typer.Option(
        None, "--warnings", help="The store's warning records (CSV or Parquet): process measures."
    ),
    min_tier: str = typer.Option("orange", "--min-tier", help="Lowest tier that is warned."),
    horizon: int = typer.Option(90, "--horizon", min=1, help="Outcome horizon in days."),
    every: int = typer.Option(28, "--every", min=1, help="Days between a model's rounds."),
    bootstrap: int = typer.Option(400, "--bootstrap", min=50, help="Bootstrap resamples."),
    out: Path | None = typer.Option(None, "--out", help="Also write the figures as JSON."),
) -> None:
    """Outcomes of warnings, how fast they were handled, and the effect of handling (stepped
    rollout, regression discontinuity) beside the naive comparison, with its caution."""
    from riskwarn._progress import progress_bar
    from riskwarn.loop._rounds import evaluate_warnings as run

    with progress_bar("evaluate") as progress:
        evaluation = run(
            directory,
            as_of=as_of,
            model_uri=model,
            tracking_uri=tracking_uri,
            warnings=warnings,
            min_tier=min_tier,
            horizon_days=horizon,
            every_days=every,
            bootstrap=bootstrap,
            progress=progress,
        )
    typer.echo(evaluation.text())
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(evaluation.to_dict(), ensure_ascii=False, indent=1, default=str),
            encoding="utf-8",
        )
        typer.echo(f"wrote {out}")
