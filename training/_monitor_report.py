"""The monitor's report: one self-contained HTML page (charts inline as PNG) and the short
table the command prints."""

from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from riskwarn.training._drift import PSI_FLOOR
from riskwarn.training._monitor_result import MonitorResult

TEMPLATES = Path(__file__).parent / "templates"


def _figure(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _interval(iv, digits: int = 2) -> str:  # type: ignore[no-untyped-def]
    if iv is None or iv.value is None:
        return "–"
    if iv.lo is None or iv.hi is None:
        return _figure(iv.value, digits)
    return f"{iv.value:.{digits}f} [{iv.lo:.{digits}f}, {iv.hi:.{digits}f}]"


ALARM_LABELS = {
    "observed_expected": "observed/expected excludes 1, two matured months in a row",
    "calibration_slope": "calibration slope excludes 1, two matured months in a row",
    "auc_below_training": "realised ROC-AUC below the training evaluation's lower bound",
    "feature_psi": "a top-10 feature's PSI above 0.25",
}


def alarm_groups(result: MonitorResult) -> list[dict[str, object]]:
    """One line per alarm kind that fired: how often, from when to when, which features."""
    out = []
    for kind, label in ALARM_LABELS.items():
        found = [a for a in result.alarms if a.kind == kind]
        if found:
            features = sorted({a.feature for a in found if a.feature})
            out.append(
                {
                    "label": label,
                    "count": len(found),
                    "first": min(a.as_of for a in found),
                    "last": max(a.as_of for a in found),
                    "features": features,
                }
            )
    return out


def charts(result: MonitorResult) -> dict[str, bytes]:
    """Each chart of the report as PNG bytes, by name (matplotlib loads here, not on import)."""
    from riskwarn.training._monitor_plots import CHARTS

    return {name: draw(result) for name, draw in CHARTS.items()}


def render_html(result: MonitorResult, images: dict[str, bytes] | None = None) -> str:
    """The report page: alarms and advice first, then the charts and tables."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["fig"] = _figure
    env.filters["iv"] = _interval
    pictures = images if images is not None else charts(result)
    inline = {k: base64.b64encode(v).decode("ascii") for k, v in pictures.items()}
    return env.get_template("monitor_report.html").render(
        r=result,
        alarm_groups=alarm_groups(result),
        charts=inline,
        ranking=result.ranking(15).to_dict("records"),
        psi_floor=PSI_FLOOR,
    )


def write_report(result: MonitorResult, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(result), encoding="utf-8")
    return out


def summary_table(result: MonitorResult, top: int = 5):  # type: ignore[no-untyped-def]
    """Rich tables for the terminal: top drifted features, then estimated and realised
    performance per month."""
    from rich.table import Table

    drifted = Table(title=f"Top {top} drifted features (PSI x importance, largest month)")
    for col in ("feature", "month", "PSI", "importance", "weighted", "test", "missing now"):
        drifted.add_column(col, justify="left" if col == "feature" else "right")
    for r in result.ranking(top).to_dict("records"):
        drifted.add_row(
            r["feature"],
            f"{r['as_of']:%Y-%m-%d}",
            _figure(r["psi"], 2),
            f"{r['importance']:.1%}",
            _figure(r["weighted"], 4),
            f"{r['test']} {_figure(r['statistic'], 2)}",
            f"{r['missing_current']:.0%}",
        )
    months = Table(title="Per month: estimated before labels, realised once matured (95% interval)")
    for col in (
        "month",
        "rows",
        "events",
        "predicted rate",
        "observed rate",
        "O/E",
        "slope",
        "est. AUC",
        "AUC",
        "score PSI",
    ):
        months.add_column(col, justify="right")
    for m in result.months:
        r = m.realised
        months.add_row(
            f"{m.as_of:%Y-%m-%d}",
            str(m.rows),
            "–" if m.events is None else str(m.events),
            f"{m.estimated['event_rate']:.2%}",
            "not matured" if m.events is None else f"{m.events / m.rows:.2%}",
            _interval(r.get("observed_expected")),
            _interval(r.get("calibration_slope")),
            _figure(m.estimated.get("roc_auc")),
            _interval(r.get("roc_auc"), 3),
            _figure(m.score_psi, 3),
        )
    return drifted, months


def print_monitor(
    result: MonitorResult, *, run_id: str | None = None, report: str | Path | None = None
) -> None:
    """What ``riskwarn monitor`` prints: a header, the top drifted features, the months,
    the alarms and the advice."""
    from riskwarn.training._cli import _console

    console = _console()
    ref = result.reference
    console.print(
        f"model {result.model_version or result.model_uri} ({result.model_kind}) as of "
        f"{result.as_of:%Y-%m-%d %H:%M:%S}; reference {ref.start:%Y-%m-%d} to "
        f"{ref.end:%Y-%m-%d} ({ref.rows} snapshots); {len(result.months)} months, "
        f"{sum(m.matured for m in result.months)} matured"
    )
    for table in summary_table(result):
        console.print(table)
    if result.alarms:
        console.print(f"{len(result.alarms)} alarms:")
        for alarm in result.alarms:
            console.print(f"  ALARM {alarm.message}")
    else:
        console.print("no alarm")
    for line in result.advice:
        console.print(f"next: {line}")
    if run_id:
        where = f"; report {report}" if report else ""
        console.print(f"MLflow run {run_id} (experiment riskwarn-monitoring){where}")
