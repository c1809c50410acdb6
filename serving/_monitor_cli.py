"""``riskwarn monitor``: drift, performance before and after labels, and alarms of a model.

Declared in the serving stage because, without a dataset directory, it reads the history
the service holds (through the store's public :meth:`Store.read_dataset`); the work itself
is the training stage's (:func:`riskwarn.training._monitor.monitor`).

riskwarn monitor [DIR] [--model models:/riskwarn@champion] [--as-of 2024-12-31] [--report r.html]
"""

from __future__ import annotations

from pathlib import Path

import typer

from riskwarn import config

commands = typer.Typer()


@commands.command()
def monitor(
    directory: Path | None = typer.Argument(
        None, help="Contract dataset directory; without it, the service's store."
    ),
    model: str = typer.Option(
        "models:/riskwarn@champion", "--model", help="The model to monitor (URI)."
    ),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Read only data dated on or before this (YYYY-MM-DD: the end of that day); "
        "default the data's last record.",
    ),
    report: Path | None = typer.Option(
        None, "--report", help="Write the HTML report here too (it is always logged to MLflow)."
    ),
    every: int = typer.Option(30, "--every", help="Days between snapshot dates.", min=1),
    db: str | None = typer.Option(
        None, "--db", help="Store URL (without DIR); default RISKWARN_DB_URL or the home folder."
    ),
    tracking_uri: str | None = typer.Option(
        None,
        "--tracking-uri",
        help="MLflow tracking URI; default MLFLOW_TRACKING_URI, else the embedded SQLite store "
        "in RISKWARN_HOME.",
    ),
) -> None:
    """Compare the model's training data with every month after it up to --as-of: drift per
    feature and of the score, performance estimated before labels, realised performance of
    matured months, alarms. Logged as an MLflow run; exits 0 whatever the alarms."""
    from riskwarn._progress import progress_bar
    from riskwarn.training import print_monitor, run_monitor

    if directory is None:
        from riskwarn.serving._store import Store

        url = config.store_url(db)
        dataset, source = Store(url).read_dataset(), f"store {url}"
    else:
        from riskwarn import load_dataset

        dataset, source = load_dataset(directory), str(directory)
    with progress_bar("monitor") as progress:
        result, run_id = run_monitor(
            dataset,
            source=source,
            model_uri=model,
            tracking_uri=tracking_uri,
            as_of=as_of,
            report=report,
            every_days=every,
            progress=progress,
        )
    print_monitor(result, run_id=run_id, report=report)
