"""Training commands: ``train``, ``train-table``, ``promote``, ``score``, ``experiment run``
and ``recalibrate`` (``monitor`` is declared by the serving stage, which may read the
service's store; its work is :func:`riskwarn.training._monitor.monitor`).

riskwarn train DIR [--config experiments/full.toml] [--train-until 2024-06-30] [--features F]
riskwarn train-table FILE --label y --time as_of [--id case] [--drop c] [--group g]
riskwarn promote [--force]
riskwarn score DIR --as-of 2024-06-30 --out nightly.csv [--model models:/riskwarn@champion]
riskwarn experiment run experiments/*.toml --data DIR [--features F]
riskwarn recalibrate [--model models:/riskwarn@champion] DIR
"""

from __future__ import annotations

from pathlib import Path

import typer

from riskwarn.vocab import TIERS

commands = typer.Typer()
experiment = typer.Typer(help="Train several configs on one dataset and compare them.")
commands.add_typer(experiment, name="experiment")

_CONFIG = typer.Option(
    None, "--config", help="TOML config (see experiments/); default settings without."
)
_TRACKING = typer.Option(
    None,
    "--tracking-uri",
    help="MLflow tracking URI; default MLFLOW_TRACKING_URI, else the embedded SQLite store "
    "in RISKWARN_HOME.",
)
_NO_REFIT = typer.Option(
    False,
    "--no-refit",
    help="Register the evaluated model (fitted on the training window) instead of refitting "
    "it on every labelled snapshot.",
)
_FEATURES = typer.Option(
    None,
    "--features",
    help="Features file of this dataset written by `riskwarn features` (checked against the "
    "dataset's digest and the feature registry version): read instead of building features.",
)
_RETENTION = typer.Option(
    None,
    "--retention",
    help="Honour a retention policy: 'default' (riskwarn/retention.toml) or a TOML file; "
    "rows are left out of features from the day they expire.",
)
_UNTIL = typer.Option(
    None,
    "--train-until",
    help="Use only data dated on or before this date, and only labels whose horizon ends by "
    "then. YYYY-MM-DD means the end of that day (data up to 23:59:59 included); "
    "YYYY-MM-DDTHH:MM:SS cuts at that moment.",
)


def _console():  # type: ignore[no-untyped-def]
    import os

    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # piped into a log (make demo, CI): rich would wrap tables at 80 columns
        console = Console(highlight=False, width=200)
    return console


def metrics_table(  # type: ignore[no-untyped-def]
    metrics: dict,
    title: str = "Test window metrics (95% bootstrap interval)",
    choice=None,  # ModelChoice
    kind: str | None = None,
):
    """A rich table: one row per metric, one column per model (LightGBM beside baselines),
    then each candidate's validation log loss and which one was registered."""
    from rich.table import Table

    from riskwarn.training._card import METRIC_LABELS

    table = Table(title=title)
    table.add_column("metric")
    for name in metrics:
        table.add_column(name, justify="right")
    if choice is not None:
        losses = choice.validation_logloss
        table.add_row(
            "validation log loss", *[f"{losses[n]:.5f}" if n in losses else "–" for n in metrics]
        )
        worse = choice.lightgbm_worse_than_logistic
        table.add_row(
            "registered",
            *[
                ("yes" if n == kind else "")
                + (" (LightGBM worse on validation)" if n == kind and worse else "")
                for n in metrics
            ],
        )
    for key, label in METRIC_LABELS.items():
        cells = []
        for name in metrics:
            d = metrics[name].get(key)
            cells.append(
                "–"
                if d is None or d["value"] != d["value"]
                else f"{d['value']:.3f} [{d['lo']:.3f}, {d['hi']:.3f}]"
            )
        table.add_row(label, *cells)
    return table


def _where(outcome) -> str:  # type: ignore[no-untyped-def]
    run = outcome.run
    model = outcome.result.model
    lines = [caution(outcome.result.windows)] if caution(outcome.result.windows) else []
    lines += [f"caution: {w}" for w in model.metadata.tier_warnings]
    choice = model.metadata.choice
    if choice.lightgbm_worse_than_logistic:
        lines.append(
            "note: LightGBM is worse than the logistic regression on validation log loss "
            f"({choice.validation_logloss['lightgbm']:.5f} vs "
            f"{choice.validation_logloss['logistic']:.5f}); registered: {model.kind}."
        )
    refit = model.metadata.refit
    if refit.refit and refit.window is not None:
        lines.append(
            f"registered model ({model.kind}) refit on all {refit.window.rows} labelled "
            f"snapshots ({refit.window.events} events), calibrated on {len(refit.folds)} "
            "out-of-time folds; the figures above are the evaluated model's"
        )
    lines += [
        f"MLflow run {run.run_id} (experiment {run.experiment_id}) at {run.tracking_uri}",
        f"calibration: {model.calibrator.method}; tier thresholds: "
        + ", ".join(f"{t} ≥ {v:.4f}" for t, v in model.thresholds.items()),
    ]
    shares = model.metadata.tier_shares
    for window in ("validation", "test"):
        if window in shares:
            lines.append(
                f"tier shares on {window}: "
                + ", ".join(f"{t} {v:.1%}" for t, v in shares[window].items())
            )
    if run.model_version:
        lines.append(
            f"registered model version {run.model_version} ({run.model_uri}), alias 'challenger'"
        )
    return "\n".join(lines)


def caution(windows: dict) -> str:
    """A plain warning when the test window holds too few events for its figures to mean much."""
    events = windows["test"].get("events", 0)
    if events >= MIN_TEST_EVENTS:
        return ""
    return (
        f"caution: only {events} events in the test window ({windows['test']['rows']} rows); "
        "the figures above are mostly noise. Use more data (persons, years) before relying on them."
    )


MIN_TEST_EVENTS = 30


_DASK = typer.Option(
    None,
    "--dask",
    help="Fit LightGBM with lightgbm.dask on this Dask scheduler (tcp://host:8786), or "
    "'local:N' for a LocalCluster of N workers; the rest of the pipeline is unchanged and the "
    "registered model is the same kind of plain model. Needs riskwarn[distributed].",
)


@commands.command()
def train(
    directory: Path = typer.Argument(..., help="Contract dataset directory."),
    config: Path | None = _CONFIG,
    train_until: str | None = _UNTIL,
    tracking_uri: str | None = _TRACKING,
    no_refit: bool = _NO_REFIT,
    features: Path | None = _FEATURES,
    retention: str | None = _RETENTION,
    dask: str | None = _DASK,
) -> None:
    """Build features (or read them, --features), train LightGBM and the logistic
    regression, choose, calibrate, evaluate against baselines, refit, log to MLflow and
    register the model as 'riskwarn' with alias 'challenger' (LightGBM on a Dask cluster
    with --dask)."""
    from contextlib import nullcontext

    from riskwarn._progress import progress_bar
    from riskwarn._retention import retention_option
    from riskwarn.features import dask_client
    from riskwarn.training._boosters import LOCAL
    from riskwarn.training._config import load_config
    from riskwarn.training._dask import dask_boosters
    from riskwarn.training._train import train as run

    policy = retention_option(retention)
    cfg = load_config(config)
    if no_refit:
        cfg = cfg.model_copy(update={"refit": False})
    with (
        dask_client(dask) if dask is not None else nullcontext() as client,
        progress_bar("train") as progress,
    ):
        outcome = run(
            directory,
            cfg,
            train_until=train_until,
            tracking_uri=tracking_uri,
            progress=progress,
            features=features,
            retention=policy,
            boosters=LOCAL if client is None else dask_boosters(client),
        )
    _report(outcome)


def _report(outcome) -> None:  # type: ignore[no-untyped-def]
    meta = outcome.result.model.metadata
    console = _console()
    console.print(metrics_table(outcome.result.metrics, choice=meta.choice, kind=meta.kind))
    console.print(_where(outcome))


@commands.command("train-table")
def train_table(
    file: Path = typer.Argument(..., help="Labelled CSV or Parquet table."),
    label: str = typer.Option(..., "--label", help="0/1 label column; empty rows are left out."),
    time: str = typer.Option(
        ..., "--time", help="Time column (the snapshot date) used for the split."
    ),
    id: str | None = typer.Option(None, "--id", help="Case id column (bootstrap clusters)."),
    drop: list[str] = typer.Option([], "--drop", help="Column never used (repeatable)."),
    group: list[str] = typer.Option(
        [], "--group", help="Column reported on, never a feature (repeatable)."
    ),
    config: Path | None = _CONFIG,
    tracking_uri: str | None = _TRACKING,
    metrics_out: Path | None = typer.Option(
        None, "--metrics-out", help="Write test metrics as JSON here."
    ),
    model_name: str = typer.Option("riskwarn-table", "--model-name", help="Registered model name."),
    no_refit: bool = _NO_REFIT,
) -> None:
    """Train, choose, calibrate, evaluate, refit and log a model on any labelled table."""
    from riskwarn._progress import progress_bar
    from riskwarn.training._config import load_config
    from riskwarn.training._table import train_table as run

    cfg = load_config(config)
    if no_refit:
        cfg = cfg.model_copy(update={"refit": False})
    with progress_bar("train-table") as progress:
        outcome = run(
            file,
            label=label,
            time=time,
            id=id,
            drop=drop,
            group=group,
            config=cfg,
            tracking_uri=tracking_uri,
            metrics_out=metrics_out,
            model_name=model_name,
            progress=progress,
        )
    _report(outcome)
    console = _console()
    if metrics_out:
        console.print(f"metrics written to {metrics_out}")


@commands.command()
def promote(
    force: bool = typer.Option(
        False, "--force", help="Promote the challenger even when not better."
    ),
    tracking_uri: str | None = _TRACKING,
    model_name: str = typer.Option("riskwarn", "--model-name", help="Registered model name."),
) -> None:
    """Compare challenger with champion on the challenger's test window; move 'champion'
    when better (or with --force), and log why."""
    from riskwarn.training._promote import promote as run

    decision = run(tracking_uri, force=force, model_name=model_name)
    console = _console()
    for who, values in decision.metrics.items():
        console.print(
            f"{who:<10} "
            + "  ".join(
                f"{k} {v:.4f}"
                for k, v in values.items()
                if k in ("roc_auc", "pr_auc", "brier", "ece")
            )
        )
    verdict = "promoted" if decision.promoted else "kept"
    if decision.promoted:
        console.print(
            f"{verdict}: version {decision.challenger} is now champion ({decision.reason})"
        )
    else:
        console.print(f"{verdict}: champion stays version {decision.champion} ({decision.reason})")


@commands.command()
def score(
    directory: Path = typer.Argument(..., help="Contract dataset directory."),
    as_of: str = typer.Option(
        ...,
        "--as-of",
        help="Score disputes open at this date, from data dated on or before it. YYYY-MM-DD "
        "means the end of that day (data up to 23:59:59 included; the as_of column says "
        "T23:59:59); YYYY-MM-DDTHH:MM:SS scores at that moment.",
    ),
    out: Path = typer.Option(..., "--out", help="CSV file to write."),
    model: str = typer.Option(
        "models:/riskwarn@champion",
        "--model",
        help="Model URI: models:/NAME@ALIAS, models:/NAME/VERSION, or runs:/RUN_ID/model for "
        "a run's unregistered model (e.g. from `experiment run`).",
    ),
    tracking_uri: str | None = _TRACKING,
    lang: str = typer.Option("zh", "--lang", help="Language of the reasons: zh or en."),
    retention: str | None = _RETENTION,
) -> None:
    """Score every dispute open at a date from what was known that day; write the list as CSV."""
    from riskwarn._progress import progress_bar
    from riskwarn._retention import retention_option
    from riskwarn.training._score import score as run

    policy = retention_option(retention)
    with progress_bar("score") as progress:
        frame = run(
            directory,
            as_of=as_of,
            out=out,
            model_uri=model,
            tracking_uri=tracking_uri,
            lang=lang,
            progress=progress,
            retention=policy,
        )
    counts = frame["tier"].value_counts().to_dict() if len(frame) else {}
    version = frame["model_version"].iloc[0] if len(frame) else "?"
    moment = frame["as_of"].iloc[0] if len(frame) else as_of
    typer.echo(
        f"wrote {out}: {len(frame)} open disputes at {moment} scored with model version {version}; "
        + ", ".join(f"{t} {counts.get(t, 0)}" for t in TIERS)
    )


@experiment.command("run")
def experiment_run(
    configs: list[Path] = typer.Argument(..., help="Config files, e.g. experiments/*.toml."),
    data: Path = typer.Option(..., "--data", help="Contract dataset directory shared by all runs."),
    train_until: str | None = _UNTIL,
    tracking_uri: str | None = _TRACKING,
    features: Path | None = _FEATURES,
    register: bool = typer.Option(
        False,
        "--register",
        help="Register the one config with the best validation Brier score (calibrated, "
        "cross-validated on the validation window; never the test window) as 'riskwarn' with "
        "alias 'challenger'. The other runs stay unregistered; score any of them with "
        "--model runs:/RUN_ID/model.",
    ),
) -> None:
    """Run each config on one dataset and print a comparison table (runs in MLflow experiment
    'riskwarn-experiments')."""
    from rich.table import Table

    from riskwarn._progress import progress_bar
    from riskwarn.training._config import load_config
    from riskwarn.training._experiment import comparison, run_experiments

    cfgs = [load_config(c) for c in configs]
    with progress_bar("experiments") as progress:
        runs = run_experiments(
            cfgs,
            data,
            train_until=train_until,
            tracking_uri=tracking_uri,
            register=register,
            progress=progress,
            features=features,
        )
    frame = comparison(runs)
    table = Table(title="Experiments: LightGBM on the test window (95% bootstrap interval)")
    for col in frame.columns:
        table.add_column(col, justify="left" if col == "config" else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*[str(v) for v in row])
    console = _console()
    console.print(table)
    for r in runs:
        run = r.outcome.run
        registered = (
            f"  registered as version {run.model_version} ({run.model_uri}), alias 'challenger'"
            if run.model_version
            else ""
        )
        console.print(f"{r.config.name}: runs:/{run.run_id}/model{registered}")


@commands.command()
def recalibrate(
    directory: Path = typer.Argument(..., help="Contract dataset directory."),
    model: str = typer.Option(
        "models:/riskwarn@champion", "--model", help="The model to recalibrate (URI)."
    ),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Read only data dated on or before this (YYYY-MM-DD: the end of that day); "
        "default the data's last record.",
    ),
    window: int = typer.Option(
        180, "--window", help="Days of matured snapshot dates to fit on.", min=30
    ),
    validation: int = typer.Option(
        30, "--validation", help="Newest days of matured snapshot dates to judge on.", min=1
    ),
    every: int = typer.Option(30, "--every", help="Days between snapshot dates.", min=1),
    tracking_uri: str | None = _TRACKING,
) -> None:
    """Fit intercept-only, logistic and (with enough events) isotonic recalibrations on the
    latest matured window, judge them on the newest matured days, and register the best as
    alias 'challenger' when it beats the current model on log loss and worsens no group's
    calibration. Never promotes: `riskwarn promote` decides."""
    from riskwarn._progress import progress_bar
    from riskwarn.training._recalibrate import recalibrate as run

    with progress_bar("recalibrate") as progress:
        outcome = run(
            directory,
            model_uri=model,
            tracking_uri=tracking_uri,
            as_of=as_of,
            window_days=window,
            validation_days=validation,
            every_days=every,
            progress=progress,
        )
    console = _console()
    console.print(recalibration_table(outcome))
    for method, why in outcome.skipped.items():
        console.print(f"{method}: skipped ({why})")
    worse = [g for g in outcome.groups if g.worse]
    for g in worse:
        console.print(
            f"group {g.group}={g.level}: observed/expected {g.candidate:.2f} after, "
            f"{g.current['value']:.2f} [{g.current['lo']:.2f}, {g.current['hi']:.2f}] before"
        )
    if outcome.registered:
        console.print(
            f"registered version {outcome.version} as 'challenger' ({outcome.reason}); "
            "champion unchanged"
        )
    else:
        console.print(f"nothing registered: {outcome.reason}")
    console.print(f"next: {outcome.next_step}")


def recalibration_table(outcome):  # type: ignore[no-untyped-def]
    """Each candidate beside the current model on the validation window."""
    from rich.table import Table

    fit, val = outcome.fit_window, outcome.validation_window
    table = Table(
        title=f"Recalibration of {outcome.model_version or outcome.model_uri}: fitted on "
        f"{fit.start:%Y-%m-%d} to {fit.end:%Y-%m-%d} ({fit.rows} snapshots, {fit.events} "
        f"events), judged on {val.start:%Y-%m-%d} to {val.end:%Y-%m-%d} ({val.rows}, "
        f"{val.events} events)"
    )
    for col in ("candidate", "log loss", "observed/expected", "calibration slope", "chosen"):
        table.add_column(col, justify="left" if col == "candidate" else "right")

    def iv(d: dict) -> str:
        return f"{d['value']:.2f} [{d['lo']:.2f}, {d['hi']:.2f}]"

    cur = outcome.current_validation
    table.add_row(
        "current model",
        f"{outcome.current_logloss:.5f}",
        iv(cur["observed_expected"]),
        iv(cur["calibration_slope"]),
        "",
    )
    for c in outcome.candidates:
        chosen = outcome.chosen is not None and c.method == outcome.chosen.method
        table.add_row(
            c.method,
            f"{c.validation_logloss:.5f}",
            iv(c.validation["observed_expected"]),
            iv(c.validation["calibration_slope"]),
            "best" if chosen else "",
        )
    return table
