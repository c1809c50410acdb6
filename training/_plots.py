"""Evaluation plots as PNG files (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

from riskwarn.training._metrics import calibration_points
from riskwarn.vocab import TIERS

_TIER_COLOURS = {"red": "#d62728", "orange": "#ff7f0e", "yellow": "#e6c229", "blue": "#1f77b4"}


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def roc_plot(y: np.ndarray, risks: dict[str, np.ndarray], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, r in risks.items():
        fpr, tpr, _ = roc_curve(y, r)
        ax.plot(fpr, tpr, label=name)
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, test window")
    ax.legend()
    return _save(fig, path)


def pr_plot(y: np.ndarray, risks: dict[str, np.ndarray], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5, 5))
    for name, r in risks.items():
        prec, rec, _ = precision_recall_curve(y, r)
        ax.plot(rec, prec, label=name)
    ax.axhline(float(np.mean(y)), ls=":", c="grey", label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall, test window")
    ax.legend()
    return _save(fig, path)


def calibration_plot(y: np.ndarray, risks: dict[str, np.ndarray], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5, 5))
    top = 0.0
    for name, r in risks.items():
        pts = calibration_points(y, r)
        xs = [p["predicted"] for p in pts]
        ys = [p["observed"] for p in pts]
        top = max(top, *xs, *ys)
        ax.plot(xs, ys, marker="o", label=name)
    ax.plot([0, top], [0, top], ls=":", c="grey", label="perfect")
    ax.set(xlabel="mean predicted risk", ylabel="observed rate", title="Calibration (deciles)")
    ax.legend()
    return _save(fig, path)


def shap_summary_plot(
    contrib: np.ndarray, x: np.ndarray, names: list[str], path: Path, top: int = 15
) -> Path:
    """Beeswarm-like: each dot a case, x its contribution, colour its feature value rank."""
    order = np.argsort(-np.abs(contrib).mean(axis=0))[:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.35 * len(order) + 1.5))
    rng = np.random.default_rng(0)
    for row, j in enumerate(order):
        vals = x[:, j]
        rank = pd.Series(vals).rank(pct=True).to_numpy()
        jitter = rng.uniform(-0.3, 0.3, len(vals))
        ax.scatter(
            contrib[:, j],
            row + jitter,
            c=np.nan_to_num(rank, nan=0.5),
            cmap="coolwarm",
            s=4,
            alpha=0.6,
        )
    ax.set_yticks(range(len(order)), [names[j] for j in order])
    ax.axvline(0, c="grey", lw=0.5)
    ax.set(
        xlabel="SHAP contribution (log-odds)", title="SHAP summary, test window (red = high value)"
    )
    return _save(fig, path)


def dependence_plot(
    contrib: np.ndarray, x: np.ndarray, names: list[str], j: int, path: Path
) -> Path:
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(x[:, j], contrib[:, j], s=4, alpha=0.5)
    ax.axhline(0, c="grey", lw=0.5)
    ax.set(xlabel=names[j], ylabel="SHAP contribution (log-odds)", title=f"Dependence: {names[j]}")
    return _save(fig, path)


def tiers_over_time_plot(time: np.ndarray, tiers: np.ndarray, path: Path) -> Path:
    frame = pd.DataFrame(
        {"time": pd.to_datetime(pd.Series(np.asarray(time))), "tier": np.asarray(tiers)}
    )
    counts = frame.groupby(["time", "tier"]).size().unstack(fill_value=0)
    shares = counts.div(counts.sum(axis=1), axis=0)
    fig, ax = plt.subplots(figsize=(7, 4))
    bottom = np.zeros(len(shares))
    for tier in TIERS:
        if tier in shares:
            ax.bar(
                shares.index,
                shares[tier],
                bottom=bottom,
                width=20,
                color=_TIER_COLOURS[tier],
                label=tier,
            )
            bottom += shares[tier].to_numpy()
    ax.set(ylabel="share of open cases", title="Tiers over time, test window")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.autofmt_xdate()
    return _save(fig, path)


def make_plots(
    directory: Path,
    y: np.ndarray,
    risks: dict[str, np.ndarray],
    contrib: np.ndarray,
    x: np.ndarray,
    names: list[str],
    time: np.ndarray,
    tiers: np.ndarray,
    n_dependence: int = 3,
) -> list[Path]:
    """All evaluation plots into ``directory``; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [
        roc_plot(y, risks, directory / "roc.png"),
        pr_plot(y, risks, directory / "pr.png"),
        calibration_plot(y, risks, directory / "calibration.png"),
        shap_summary_plot(contrib, x, names, directory / "shap_summary.png"),
        tiers_over_time_plot(time, tiers, directory / "tiers_over_time.png"),
    ]
    for j in np.argsort(-np.abs(contrib).mean(axis=0))[:n_dependence]:
        paths.append(
            dependence_plot(contrib, x, names, int(j), directory / f"dependence_{names[j]}.png")
        )
    return paths
