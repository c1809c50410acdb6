"""The model card: what the model is for, what it must not be used for, its data and
windows, metrics with intervals beside the baselines, group results, calibration, limits."""

from __future__ import annotations

import pandas as pd

from riskwarn.training._config import TrainConfig
from riskwarn.training._metadata import ModelMetadata
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
    for window in ("target", "validation", "test", "refit folds"):
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


FLOOR_REASONS = {
    "pair_homicide": "an earlier homicide or attempt between the same people is the "
    "strongest single sign that a dispute may turn deadly (earlier violence between the same "
    "people heads every structured instrument: ODARA, DA, DASH, SARA)",
    "pair_incident": "earlier violence between the same people, whatever its kind",
    "party_incident_180d": "a party hurt or hurting someone in the last months: linked "
    "incidents follow each other within about three months (Chicago co-arrest networks: "
    "a median of about 83 days)",
    "threat_7d": "a fresh threat to harm is a lethality marker in every instrument",
    "weapon_mentioned": "access to or mention of a weapon is a lethality marker",
    "danger_level_3": "a danger level set by those who manage the person",
    "released_or_correction_1y": "a party's recent criminal-justice history",
}
"""Why a floor on each fact is defensible (for the card)."""

STATUS_FACTS = ("danger_level_3", "released_or_correction_1y")
"""Facts about who a party is rather than what happened in the dispute."""


def floors_markdown(floors: dict[str, str]) -> str:
    """The floor policy as the card states it."""
    from riskwarn.features import FACTS

    lines = ["| key fact | at least | why |", "|---|---|---|"]
    for spec in FACTS:
        if spec.code in floors:
            lines.append(
                f"| `{spec.code}`: {spec.description_en} | {floors[spec.code]} | "
                f"{FLOOR_REASONS.get(spec.code, '')} |"
            )
    if len(lines) == 2:
        return (
            "No tier floors: every key fact is shown beside the score, but the tier is the "
            "model's alone."
        )
    unfloored = [f"`{c}`" for c in STATUS_FACTS if c not in floors]
    status = (
        f"\n\n{', '.join(unfloored)} (who a party is, not what happened in the dispute) are "
        "shown beside every score but set no floor: a tier raised by a person's status alone "
        "would be risk by profiling, which audits of screening tools criticised and the EU AI "
        "Act forbids as the sole basis of a prediction."
        if unfloored
        else ""
    )
    return (
        "A case with one of these key facts is put at least at the tier shown; a floor never "
        "lowers the model's tier, and every answer says which floor applied "
        "(`tier_model`, `tier`, `tier_floor_reason`). Capacity shares above count the "
        "model's tiers before floors.\n\n" + "\n".join(lines) + status
    )


def choice_markdown(meta: ModelMetadata) -> str:
    """Which model was registered, beside the other candidate, on validation log loss."""
    c = meta.choice
    losses = ", ".join(f"{k} {v:.5f}" for k, v in c.validation_logloss.items())
    rule = {"best": 'the lower validation log loss (`model = "best"`)'}.get(
        c.rule, f'the config (`model = "{c.rule}"`)'
    )
    plain = ""
    if c.lightgbm_worse_than_logistic:
        plain = (
            "\n\n**LightGBM is worse than the logistic regression on validation log loss.** "
            + (
                "The logistic regression is registered."
                if meta.kind == "logistic"
                else "LightGBM is registered anyway, because the config asks for it."
            )
        )
    settings = ", ".join(
        f"{k} {c.lightgbm[k]}"
        for k in (
            "num_leaves",
            "min_child_samples",
            "extra_trees",
            "feature_fraction",
            "reg_lambda",
        )
        if k in c.lightgbm
    )
    return (
        f"Registered: **{meta.kind}**, chosen by {rule}. Validation log loss (raw scores): "
        f"{losses}.{plain}\n\nLightGBM settings chosen on the validation window from "
        f"{max(len(c.trials), 1)} grid point(s), each fitted on the training window and "
        f"scored on the later validation window: {settings}, {c.lightgbm.get('rounds')} "
        f"rounds. The logistic regression's C ({c.logistic_C}) was chosen the same way."
    )


def monotone_markdown(meta: ModelMetadata) -> str:
    up = [n for n, d in meta.directions.items() if d > 0]
    down = [n for n, d in meta.directions.items() if d < 0]
    if not meta.choice.monotone:
        return "No direction constraints (`monotone = false`)."
    return (
        f"Constrained where the field knows the direction (docs/features.md): risk may only "
        f"rise with {len(up)} features (threats, violence, weapons, failed mediations, "
        f"escalations, police calls, earlier incidents, exposure, danger levels, debt ties, "
        f"separations) and only fall with {len(down)} (days since the last threat, escalation "
        "or incident); LightGBM as `monotone_constraints`, the logistic regression as signs "
        "of its coefficients."
    )


def refit_markdown(meta: ModelMetadata) -> str:
    r = meta.refit
    if not r.refit:
        return (
            "The deployed model **is** the evaluated model: fitted on the training window, "
            "early-stopped, calibrated and tiered on the validation window"
            + (f" ({r.note})." if r.note else " (`refit = false` / `--no-refit`).")
        )
    w = r.window
    assert w is not None
    folds = "\n".join(
        f"| {f['start'][:10]} | {f['end'][:10]} | {f['rows']} | {f['events']} | "
        f"{f['fit_rows']} | {(f.get('fit_before') or '–')[:10]} | "
        f"{(f.get('fit_after') or '–')[:10]} |"
        for f in r.folds
    )
    rounds = (
        f" with {r.rounds} rounds (the validated rounds scaled to the rows)" if r.rounds else ""
    )
    return (
        f"The test figures below are the **evaluated** model's (fitted on the training window "
        f"only). The **deployed** model was then refit with the same settings on every "
        f"labelled snapshot, {w.start:%Y-%m-%d} to {w.end:%Y-%m-%d} ({w.rows} snapshots, "
        f"{w.events} events){rounds}. Its calibrator ({meta.calibration.method}) and tier "
        f"thresholds come from out-of-time folds: the labelled snapshots cut by date into "
        f"{len(r.folds)} blocks of about equal size, each block scored by a model of the same "
        "settings fitted on the snapshots before and after it whose labels cannot overlap "
        "its own (one horizon apart), so no calibration row was seen by the model that "
        "scored it, nor any label of its time. Folds fitted on both sides learn the model's "
        "own over- or under-confidence; folds fitted only on the past would also learn the "
        "drift of the event rate, which the deployed model has already learned from recent "
        "data, and inflate it twice:\n\n"
        "| fold first as_of | last as_of | rows | events | fitted on rows | fitted rows up to "
        "| fitted rows from |\n"
        f"|---|---|---|---|---|---|---|\n{folds}\n\nThe deployed model has seen labels up "
        f"to **{meta.labels_end.isoformat() if meta.labels_end else '?'}**."
    )


def model_card(*, config: TrainConfig, metadata: ModelMetadata) -> str:
    """Markdown model card from a training run's typed metadata."""
    from riskwarn.training._pyfunc import requirement_note

    meta = metadata
    w = {k: v.model_dump(mode="json") for k, v in meta.windows.items()}
    cal = meta.calibration
    base = meta.base_rate
    params = meta.params
    dataset, digest = meta.dataset, meta.dataset_digest
    thresholds = meta.thresholds
    importance = [i.model_dump() for i in meta.importance]
    horizon = pd.Timedelta(days=config.horizon_days)
    window_rows = "\n".join(
        f"| {part} | {w[part]['start'][:10]} | {w[part]['end'][:10]} "
        f"| {(pd.Timestamp(w[part]['end']) + horizon):%Y-%m-%d} | {w[part]['rows']} "
        f"| {w[part].get('events', '?')} |"
        for part in ("train", "validation", "test")
    )
    until = meta.train_until.isoformat() if meta.train_until else None
    cut = (
        f"data dated on or before {until} (`--train-until`), and only snapshots whose "
        "horizon ends by then"
        if until
        else "all labelled snapshots in the dataset (no `--train-until`)"
    )
    labels_end = meta.evaluation_labels_end.isoformat() if meta.evaluation_labels_end else "?"
    registry = meta.registry_version
    deployed_end = meta.labels_end.isoformat() if meta.labels_end else "?"
    curve = "\n".join(
        f"| {p['predicted']:.4f} | {p['observed']:.4f} | {p['n']} |" for p in cal.test_points
    )
    by_group = _by_group([i.model_dump() for i in meta.importance_by_group])
    groups = [g.model_dump() for g in meta.groups]
    metrics = {
        m: {k: v.model_dump() for k, v in values.items()} for m, values in meta.metrics.items()
    }
    top = ", ".join(f"`{i['feature']}`" for i in importance[:8])
    imbalance = (
        'Positives were **not** re-weighted (`imbalance = "none"`): plain log loss keeps the '
        "model's probabilities honest, early stopping guards against over-fitting the rare "
        "class, and calibration only fine-tunes."
        if config.imbalance == "none"
        else 'Positives were up-weighted (`imbalance = "balanced"`); this inflates raw '
        "probabilities, and the calibrator fitted on untouched rows maps them back to "
        "observed rates."
    )
    tiers = config.tiers
    tier_rule = (
        f"by capacity: red = top {tiers.red:.0%}, orange = next to {tiers.orange:.0%}, "
        f"yellow = next to {tiers.yellow:.0%} of open cases on the calibration rows; "
        "blue = the rest"
        if tiers.mode == "capacity"
        else f"by probability: red ≥ {tiers.red}, orange ≥ {tiers.orange}, yellow ≥ {tiers.yellow}"
    )
    intervals = (
        " (95% bootstrap intervals over disputes)"
        if config.bootstrap
        else " (no intervals: `bootstrap = 0` in the config)"
    )
    estimator = (
        f"LightGBM, deterministic (seed {params['seed']}, {params['num_threads']} threads, "
        f"`deterministic=true`, row-wise histograms), {params['best_iteration']} trees after "
        f"early stopping on validation log loss ({params['lightgbm_validation_logloss']:.4f})."
        if meta.kind == "lightgbm"
        else "Logistic regression (sign-constrained, L2, C chosen on validation) on the "
        "standardised features; its reasons are exact linear SHAP values: coefficient × "
        "(standardised value − its training mean), in log-odds. Saved as plain JSON."
    )
    return f"""# Model card: riskwarn `{config.name}` ({meta.kind})

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

Every label the evaluated model was fitted, early-stopped, calibrated and tiered on ends by
**{labels_end}**; every label the deployed model learned from ends by
**{deployed_end}**, and `riskwarn promote` compares it with a challenger only on snapshots
dated from then on.

{interventions_markdown(meta.interventions)}

Event rate: train {base["train"]:.4f}, test {base["test"]:.4f}.

## Model
{estimator} {imbalance}

### Choice of model
{choice_markdown(meta)}

### Directions
{monotone_markdown(meta)}

### Evaluated and deployed
{refit_markdown(meta)}

Calibration of the deployed model: **{cal.method}**, chosen by 5-fold cross-validated
Brier score on {cal.fitted_on if cal.fitted_on != "validation" else "the validation window"},
all snapshots of one case in the same fold
({", ".join(f"{k} {v:.5f}" for k, v in cal.cv_brier.items())}).

### Tiers
Tiers {tier_rule}. Thresholds (minimum calibrated risk): red {thresholds["red"]:.4f},
orange {thresholds["orange"]:.4f}, yellow {thresholds["yellow"]:.4f}. Share of cases in
each tier (cases with tied risk share a tier, so capacity shares hold only as closely as
the ties allow):

{shares_markdown(meta.tier_shares)}
{"".join(f"{chr(10)}**Warning:** {w}" for w in meta.tier_warnings)}

### Tier floors from key facts
{floors_markdown(dict(meta.tier_policy.floors))}

## Test metrics{intervals}
Figures of the **evaluated** models on the test window, which none of them saw:

{metrics_markdown(metrics)}

Top shares are taken within each snapshot date (the nightly list of open cases).
`logistic` is a logistic regression on the same features; `checklist` counts threat,
violence and weapon at registration (when those columns exist).

## Calibration on test (deciles)
| mean predicted | observed | n |
|---|---|---|
{curve}

## Groups (test window)
{groups_markdown(groups)}

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


_INTERVENTIONS = {
    "exclude": "snapshots of disputes acted on (the interventions table) by the end of their "
    "horizon were left out, so every label is of a course nobody intervened in",
    "feature": "snapshots of disputes acted on were kept, with the interventions known at the "
    "snapshot as inputs (intervention_count, intervention_days_since)",
    "ignore": "snapshots of disputes acted on were kept as if nothing had been done: the model "
    "may under-rate cases like those that were handled",
}


def interventions_markdown(policy: str) -> str:
    """The card's sentence on the intervention policy (issue 14)."""
    return f'Interventions (`interventions = "{policy}"`): {_INTERVENTIONS[policy]}.'
