"""Every monitor run is an MLflow run in the ``riskwarn-monitoring`` experiment, tagged
with the model version it watched: figures per month as metrics (``step`` = month number,
``timestamp`` = the month's date), alarm counts, and as artifacts the full result
(``monitor/result.json``), the tables as CSV, the charts and the HTML report.

:func:`latest_monitor` reads back the newest run of a model version, for the service's
``/metrics`` and the workbench's model page.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from riskwarn._dataset import Dataset
from riskwarn._progress import Progress
from riskwarn.training._monitor_report import charts, render_html
from riskwarn.training._monitor_result import ALARM_KINDS, MonitorResult
from riskwarn.training._tracking import connect, ensure_experiment

MONITORING = "riskwarn-monitoring"
RESULT_ARTIFACT = "monitor/result.json"
REPORT_ARTIFACT = "monitor/report.html"
VERSION_TAG = "riskwarn.model_version"
log = logging.getLogger("riskwarn.monitor")


def _month_metrics(result: MonitorResult) -> list[tuple[str, float, int, int]]:
    """(key, value, step, timestamp ms) of each month's figures."""
    out = []
    for step, m in enumerate(result.months):
        ms = int(pd.Timestamp(m.as_of).value // 1_000_000)
        values = {f"estimated_{k}": v for k, v in m.estimated.items()}
        values |= {f"realised_{k}": iv.value for k, iv in m.realised.items()}
        values |= {"score_psi": m.score_psi, "rows": float(m.rows)}
        fired = [a.kind for a in result.alarms if a.as_of == m.as_of]
        values |= {f"alarms_{kind}": float(fired.count(kind)) for kind in ALARM_KINDS}
        if m.events is not None:
            values["events"] = float(m.events)
        out += [(k, float(v), step, ms) for k, v in values.items() if v is not None and v == v]
    return out


def log_monitor(
    result: MonitorResult,
    *,
    dataset: str,
    tracking_uri: str | None = None,
    report: str | Path | None = None,
) -> str:
    """Log ``result`` as a run of the monitoring experiment; also write the HTML report to
    ``report`` when given. Returns the run id."""
    import mlflow
    from mlflow.entities import Metric

    uri = connect(tracking_uri)
    experiment_id = ensure_experiment(uri, MONITORING)
    images = charts(result)
    html = render_html(result, images)
    if report is not None:
        Path(report).parent.mkdir(parents=True, exist_ok=True)
        Path(report).write_text(html, encoding="utf-8")
    name = f"monitor {result.model_version or 'unregistered'} {result.as_of:%Y-%m-%d}"
    with (
        tempfile.TemporaryDirectory() as tmp,
        mlflow.start_run(experiment_id=experiment_id, run_name=name) as run,
    ):
        work = Path(tmp) / "monitor"
        (work / "charts").mkdir(parents=True)
        mlflow.set_tags(
            {
                VERSION_TAG: result.model_version,
                "riskwarn.model_uri": result.model_uri,
                "riskwarn.as_of": result.as_of.isoformat(),
                "riskwarn.dataset": dataset,
                "riskwarn.alarms": str(len(result.alarms)),
            }
        )
        mlflow.log_params(
            {
                "every_days": result.every_days,
                "horizon_days": result.horizon_days,
                "reference_start": result.reference.start.isoformat(),
                "reference_end": result.reference.end.isoformat(),
            }
        )
        client = mlflow.MlflowClient()
        metrics = [Metric(k, v, ms, step) for k, v, step, ms in _month_metrics(result)]
        for i in range(0, len(metrics), 1000):  # MLflow takes at most 1000 per batch
            client.log_batch(run.info.run_id, metrics=metrics[i : i + 1000])
        summary = result.summary()
        mlflow.log_metrics(
            {f"alarms_{k}_total": float(v) for k, v in summary["alarms"].items()}
            | {
                k: float(summary[k])
                for k in ("observed_expected", "realised_auc", "estimated_auc")
                if summary[k] is not None
            }
        )
        (work / "result.json").write_text(result.model_dump_json(), encoding="utf-8")
        (work / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
        (work / "report.html").write_text(html, encoding="utf-8")
        result.months_frame().to_csv(work / "months.csv", index=False)
        result.drift_frame().to_csv(work / "drift.csv", index=False)
        pd.DataFrame([g.model_dump(mode="json") for g in result.groups]).to_csv(
            work / "groups.csv", index=False
        )
        for chart, png in images.items():
            (work / "charts" / f"{chart}.png").write_bytes(png)
        mlflow.log_artifacts(str(work), "monitor")
    return run.info.run_id


def latest_monitor_run(model_version: str, tracking_uri: str | None = None) -> Any | None:
    """The newest monitor run (an MLflow ``Run``) of ``model_version``; None when there is
    none."""
    import mlflow

    connect(tracking_uri)
    experiment = mlflow.get_experiment_by_name(MONITORING)
    if experiment is None:
        return None
    runs = mlflow.MlflowClient().search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`{VERSION_TAG}` = '{model_version}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0] if runs else None


def latest_monitor(model_version: str, tracking_uri: str | None = None) -> MonitorResult | None:
    """The newest monitor run's result for ``model_version``; None when there is none."""
    import mlflow

    run = latest_monitor_run(model_version, tracking_uri)
    if run is None:
        return None
    with tempfile.TemporaryDirectory() as local:
        path = mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path=RESULT_ARTIFACT, dst_path=local
        )
        return MonitorResult.model_validate_json(Path(path).read_text("utf-8"))


def run_monitor(
    dataset: Dataset,
    *,
    source: str,
    model_uri: str = "models:/riskwarn@champion",
    tracking_uri: str | None = None,
    as_of: str | pd.Timestamp | None = None,
    report: str | Path | None = None,
    every_days: int = 30,
    progress: Progress | None = None,
) -> tuple[MonitorResult, str]:
    """``riskwarn monitor``: load the model, monitor ``dataset`` (read from ``source``),
    log each alarm (logger ``riskwarn.monitor``) and the run to MLflow; returns the result
    and the run id."""
    from riskwarn.training._monitor import monitor
    from riskwarn.training._tracking import load_model

    model = load_model(model_uri, tracking_uri)
    result = monitor(dataset, model, as_of, every_days=every_days, progress=progress)
    for alarm in result.alarms:
        log.warning("alarm (%s): %s", alarm.kind, alarm.message)
    run_id = log_monitor(result, dataset=source, tracking_uri=tracking_uri, report=report)
    return result, run_id
