"""The monitor's charts as PNG bytes (matplotlib, Agg backend): the drift ranking,
predicted against observed per month (with estimated and realised ROC-AUC), and the
calibration curves of the matured months."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from riskwarn.training._monitor_result import MonitorResult


def _png(fig: plt.Figure) -> bytes:
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def drift_ranking_chart(result: MonitorResult, top: int = 15) -> bytes:
    """Features by their largest importance-weighted PSI over the months, PSI beside each."""
    ranking = result.ranking(top)
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * max(len(ranking), 3) + 1.4))
    if ranking.empty:
        ax.text(0.5, 0.5, "no month to compare", ha="center", va="center")
        ax.set_axis_off()
        return _png(fig)
    rows = ranking.iloc[::-1]
    ax.barh(rows["feature"], rows["weighted"], color="#4c72b0")
    for i, (w, psi) in enumerate(zip(rows["weighted"], rows["psi"], strict=True)):
        ax.text(w, i, f"  PSI {psi:.2f}", va="center", fontsize=8)
    ax.set(
        xlabel="PSI x importance share (largest month)",
        title="Drift ranking: the features that moved and matter",
    )
    ax.margins(x=0.25)
    return _png(fig)


def predicted_observed_chart(result: MonitorResult) -> bytes:
    """Per month: expected event rate against the observed rate (95% interval), and the
    estimated ROC-AUC against the realised one, with the training evaluation's interval."""
    frame = result.months_frame()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
    if frame.empty:
        return _png(fig)
    when = frame["as_of"]
    top.plot(when, frame["estimated_event_rate"], marker="o", label="predicted (mean risk)")
    if "realised_observed_expected" in frame:
        expected = frame["estimated_event_rate"]
        observed = frame["events"] / frame["rows"]
        lo = frame["realised_observed_expected_lo"] * expected
        hi = frame["realised_observed_expected_hi"] * expected
        err = np.vstack([(observed - lo).clip(lower=0), (hi - observed).clip(lower=0)])
        top.errorbar(when, observed, yerr=err, fmt="s", color="#d62728", label="observed")
    top.set(ylabel="event rate", title="Predicted against observed, per month")
    top.legend()
    bottom.plot(when, frame["estimated_roc_auc"], marker="o", label="estimated before labels")
    if "realised_roc_auc" in frame:
        auc = frame["realised_roc_auc"]
        err = np.vstack(
            [
                (auc - frame["realised_roc_auc_lo"]).clip(lower=0),
                (frame["realised_roc_auc_hi"] - auc).clip(lower=0),
            ]
        )
        bottom.errorbar(when, auc, yerr=err, fmt="s", color="#d62728", label="realised")
    t = result.training_auc
    if t.lo is not None and t.hi is not None:
        bottom.axhspan(t.lo, t.hi, color="grey", alpha=0.2, label="training evaluation")
    bottom.set(ylabel="ROC-AUC")
    bottom.legend()
    fig.autofmt_xdate()
    return _png(fig)


def calibration_chart(result: MonitorResult) -> bytes:
    """Mean predicted risk against observed rate (deciles) for each matured month."""
    matured = [m for m in result.months if m.matured and m.calibration]
    fig, ax = plt.subplots(figsize=(6, 5.5))
    top = 0.0
    colours = plt.get_cmap("viridis")(np.linspace(0, 1, max(len(matured), 2)))
    for colour, m in zip(colours, matured, strict=False):
        xs = [p["predicted"] for p in m.calibration]
        ys = [p["observed"] for p in m.calibration]
        top = max(top, *xs, *ys)
        ax.plot(xs, ys, marker=".", color=colour, alpha=0.8, label=f"{m.as_of:%Y-%m-%d}")
    ax.plot([0, top or 1], [0, top or 1], ls=":", c="grey", label="perfect")
    ax.set(
        xlabel="mean predicted risk",
        ylabel="observed rate",
        title="Calibration by matured month (deciles)",
    )
    if matured:
        ax.legend(fontsize=7, ncol=2)
    else:
        ax.text(0.5, 0.5, "no month has matured yet", ha="center", transform=ax.transAxes)
    return _png(fig)


CHARTS = {
    "drift_ranking": drift_ranking_chart,
    "predicted_observed": predicted_observed_chart,
    "calibration_by_month": calibration_chart,
}
