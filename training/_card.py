"""The model card: what the model is for, what it must not be used for, its data and
windows, metrics with intervals beside the baselines, group results, calibration, limits."""

from __future__ import annotations

import pandas as pd

from riskwarn.training._config import TrainConfig
from riskwarn.vocab import TIERS

METRIC_LABELS = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "brier": "Brier",
    "ece": "ECE",
    "recall_top1": "recall@1%",
    "precision_top1": "precision@1%",
    "recall_top5": "recall@5%",
    "precision_top5": "precision@5%",
    "recall_top10": "recall@10%",
    "precision_top10": "precision@10%",
}


def _fmt(v: float | None, digits: int = 3) -> str:
    return "–" if v is None or v != v else f"{v:.{digits}f}"


def metrics_markdown(metrics: dict[str, dict[str, dict[str, float]]]) -> str:
    """Metric rows, one column per model, each ``value [lo, hi]``."""
    models = list(metrics)
    lines = ["| metric | " + " | ".join(models) + " |", "|---|" + "---|" * len(models)]
    for key, label in METRIC_LABELS.items():
        cells = []
        for m in models:
            d = metrics[m].get(key)
            cells.append(
                "–" if d is None else f"{_fmt(d['value'])} [{_fmt(d['lo'])}, {_fmt(d['hi'])}]"
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def shares_markdown(shares: dict[str, dict[str, float]]) -> str:
    """Tier shares per window (target, validation, test), one row each."""
    tiers = TIERS
    lines = ["| window | " + " | ".join(tiers) + " |", "|---|" + "---|" * len(tiers)]
    for window in ("target", "validation", "test"):
        if window in shares:
            cells = " | ".join(f"{shares[window].get(t, 0.0):.1%}" for t in tiers)
            lines.append(f"| {window} | {cells} |")
    return "\n".join(lines) if len(lines) > 2 else "(not recorded)"


def groups_markdown(groups: list[dict]) -> str:
    lines = [
        "| group | level | n | events | AUC | mean risk | observed | ECE | red/orange "
        "| FPR red/orange |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for g in groups:
        lines.append(
            f"| {g['group']} | {g['level']} | {g['n']} | {g['positives']} | {_fmt(g['auc'])} | "
            f"{_fmt(g['mean_risk'], 4)} | {_fmt(g['observed_rate'], 4)} | {_fmt(g['ece'], 4)} | "
            f"{_fmt(g['share_red_orange'])} | {_fmt(g['false_positive_rate'])} |"
        )
    return "\n".join(lines)


def _by_group(rows: list[dict], per_level: int = 3) -> str:
    seen: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        names = seen.setdefault((r["group"], r["level"]), [])
        if len(names) < per_level:
            names.append(f"`{r['feature']}`")
    if not seen:
        return "(no group columns)"
    return "\n".join(f"- {g} = {lvl}: {', '.join(n)}" for (g, lvl), n in seen.items())


def model_card(
    *,
    config: TrainConfig,
    metadata: dict,
    importance: list[dict],
    params: dict,
    dataset: str,
    digest: str,
    thresholds: dict[str, float],
) -> str:
    """Markdown model card from a training run's results."""
    from riskwarn.training._pyfunc import requirement_note

    w = metadata["windows"]
    cal = metadata["calibration"]
    base = metadata["base_rate"]
    horizon = pd.Timedelta(days=config.horizon_days)
    window_rows = "\n".join(
        f"| {part} | {w[part]['start'][:10]} | {w[part]['end'][:10]} "
        f"| {(pd.Timestamp(w[part]['end']) + horizon):%Y-%m-%d} | {w[part]['rows']} "
        f"| {w[part].get('events', '?')} |"
        for part in ("train", "validation", "test")
    )
    until = metadata.get("train_until")
    cut = (
        f"data dated on or before {until} (`--train-until`), and only snapshots whose "
        "horizon ends by then"
        if until
        else "all labelled snapshots in the dataset (no `--train-until`)"
    )
    labels_end = metadata.get("labels_end", "?")
    registry = metadata.get("registry_version", "?")
    curve = "\n".join(
        f"| {p['predicted']:.4f} | {p['observed']:.4f} | {p['n']} |" for p in cal["test_points"]
    )
    by_group = _by_group(metadata.get("importance_by_group", []))
    top = ", ".join(f"`{i['feature']}`" for i in importance[:8])
    imbalance = (
        'Positives were **not** re-weighted (`imbalance = "none"`): plain log loss keeps the '
        "booster's probabilities honest, early stopping guards against over-fitting the rare "
        "class, and calibration only fine-tunes."
        if config.imbalance == "none"
        else 'Positives were up-weighted (`imbalance = "balanced"`); this inflates raw '
        "probabilities, and the calibrator fitted on the untouched validation window maps "
        "them back to observed rates."
    )
    tiers = config.tiers
    tier_rule = (
        f"by capacity: red = top {tiers.red:.0%}, orange = next to {tiers.orange:.0%}, "
        f"yellow = next to {tiers.yellow:.0%} of open cases on the validation window; "
        "blue = the rest"
        if tiers.mode == "capacity"
        else f"by probability: red ≥ {tiers.red}, orange ≥ {tiers.orange}, yellow ≥ {tiers.yellow}"
    )
    intervals = (
        " (95% bootstrap intervals over disputes)"
        if config.bootstrap
        else " (no intervals: `bootstrap = 0` in the config)"
    )
    return f"""# Model card: riskwarn `{config.name}`

## Intended use
Ranks open disputes by the calibrated probability that an extreme incident (homicide,
attempted homicide, serious injury, self-harm, arson, other extreme) involving the dispute
or its parties follows within {config.horizon_days} days, so that grid workers and
supervisors look first at the cases most likely to escalate. It is **decision support**:
a person reviews every case, may raise a tier, and records why.

## Must not be used for
- deciding anything about a person without human review (PIPL art. 24 gives the right to
  an explanation and to refuse decisions made solely by automation);
- predicting crime or victimhood from a person's profile alone, policing, sanctions,
  benefits, or any purpose other than prioritising follow-up of registered disputes;
- populations or regions it was not validated on without local re-validation
  (calibration and AUC drop when tools move between populations).

## Data and windows
Dataset: `{dataset}` (digest `{digest}`); feature registry `{registry}`;
{params["n_features"]} features. Trained on {cut}. Horizon: {config.horizon_days} days
(a snapshot's label is whether an incident follows within that time). Windows by snapshot
date, one horizon apart so no label window straddles two parts; a window's labels reach
one horizon past its last snapshot:

| window | first as_of | last as_of | labels end | rows | events |
|---|---|---|---|---|---|
{window_rows}

Every label the model was fitted, early-stopped, calibrated and tiered on ends by
**{labels_end}**; `riskwarn promote` compares it with a challenger only on snapshots dated
from then on.

Event rate: train {base["train"]:.4f}, test {base["test"]:.4f}.

## Model
LightGBM, deterministic (seed {params["seed"]}, {params["num_threads"]} threads,
`deterministic=true`, row-wise histograms), {params["best_iteration"]} trees after early
stopping on validation log loss ({params["validation_logloss"]:.4f}). {imbalance}

Calibration: **{cal["method"]}**, chosen by 5-fold cross-validated Brier score on the
validation window, all snapshots of one case in the same fold
({", ".join(f"{k} {v:.5f}" for k, v in cal["cv_brier"].items())}).

Tiers {tier_rule}. Thresholds (minimum calibrated risk): red {thresholds["red"]:.4f},
orange {thresholds["orange"]:.4f}, yellow {thresholds["yellow"]:.4f}. Share of cases in
each tier (cases with tied risk share a tier, so capacity shares hold only as closely as
the ties allow):

{shares_markdown(metadata.get("tier_shares", {}))}
{"".join(f"{chr(10)}**Warning:** {w}" for w in metadata.get("tier_warnings", []))}

## Test metrics{intervals}
{metrics_markdown(metadata["metrics"])}

Top shares are taken within each snapshot date (the nightly list of open cases).
`logistic` is a logistic regression on the same features; `checklist` counts threat,
violence and weapon at registration (when those columns exist).

## Calibration on test (deciles)
| mean predicted | observed | n |
|---|---|---|
{curve}

## Groups (test window)
{groups_markdown(metadata["groups"])}

Group columns are reported on and never used as features. Look for gaps in AUC, in mean
risk against observed rate (calibration by group), and in the false positive rate.

## Most influential features
{top} (mean absolute SHAP on the test window).

By group (top three per level, mean absolute SHAP):
{by_group}

## Using the model
The MLflow model (`riskwarn` pyfunc) takes the feature frame and returns `risk` and `tier`;
its MLmodel file names the feature registry, horizon, thresholds and where the training
labels end. Loading it needs {requirement_note()}

## Limits
- Extreme incidents are rare: the test window holds {w["test"].get("events", "?")} events, so
  intervals are wide and small groups say little.
- Labels count only incidents the platform recorded and linked to the dispute or its
  parties; unrecorded or unlinked incidents look like "no event".
- The model learns from past handling: cases that got more attention may look safer.
- Scores describe a dispute at a date, not a person's character; re-validate and watch
  for drift (tier shares over time) before and during use.
"""
