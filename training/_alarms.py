"""The four alarm rules of a monitor run, and the advice that follows from them.

1. ``observed_expected``: the observed/expected interval excludes 1 in two matured months
   in a row (the risks no longer add up to the events);
2. ``calibration_slope``: the calibration slope's interval excludes 1 in two matured
   months in a row (risks too extreme or too timid);
3. ``auc_below_training``: a matured month's realised ROC-AUC falls below the training
   evaluation's lower bound, with 95% confidence: its whole interval lies below that
   bound. (A month's point estimate alone falls below it by chance in about one month in
   five when a month holds a few dozen events, so the rule asks what the other two ask:
   an interval that excludes the acceptable.)

The slope and the ROC-AUC are bootstrapped; a month with fewer than 10 events (the
number below which ``riskwarn promote`` decides nothing) leaves them undecided: it raises
neither alarm and ends a run. The observed/expected interval is exact at any count.
4. ``feature_psi``: one of the 10 most important features has a PSI above 0.25 in a month
   (a large shift by the usual rule of thumb; needs no labels). The monitor passes the 10
   most important features of the dispute and its people: area rates (one number per
   area and date) are ranked but not alarmed on (``riskwarn.training._monitor.area_context``).

Pure functions of the months and drift records, so a test can plant each case.
"""

from __future__ import annotations

from collections.abc import Sequence

from riskwarn.training._metadata import Interval
from riskwarn.training._monitor_result import Alarm, FeatureDrift, Month
from riskwarn.training._promote import MIN_COMPARE_EVENTS

PSI_ALARM = 0.25
TOP_FEATURES = 10
IN_A_ROW = 2


def excludes(iv: Interval | None, value: float = 1.0) -> bool:
    """True when the interval is known and ``value`` lies outside it."""
    if iv is None or iv.lo is None or iv.hi is None:
        return False
    return value < iv.lo or value > iv.hi


def decided(m: Month) -> bool:
    """Whether a matured month holds events enough for its bootstrapped figures to count."""
    return m.events is not None and m.events >= MIN_COMPARE_EVENTS


def _runs(
    months: Sequence[Month], key: str, kind: str, what: str, *, exact: bool = False
) -> list[Alarm]:
    out: list[Alarm] = []
    run = 0
    for m in months:
        iv = m.realised.get(key)
        run = run + 1 if excludes(iv) and (exact or decided(m)) else 0
        if run >= IN_A_ROW and iv is not None:
            out.append(
                Alarm(
                    kind=kind,  # type: ignore[arg-type]
                    as_of=m.as_of,
                    value=iv.value,
                    message=f"{m.as_of:%Y-%m-%d}: {what} {iv.value:.2f} "
                    f"[{iv.lo:.2f}, {iv.hi:.2f}] excludes 1 for {run} matured months in a row",
                )
            )
    return out


def find_alarms(
    months: Sequence[Month],
    drift: Sequence[FeatureDrift],
    *,
    training_auc_lo: float | None,
    top_features: Sequence[str],
) -> list[Alarm]:
    """Every alarm the months and drift raise, in date order."""
    matured = [m for m in months if m.matured]
    out = _runs(matured, "observed_expected", "observed_expected", "observed/expected", exact=True)
    out += _runs(matured, "calibration_slope", "calibration_slope", "calibration slope")
    if training_auc_lo is not None:
        for m in matured:
            auc = m.realised.get("roc_auc")
            if decided(m) and auc is not None and auc.hi is not None and auc.hi < training_auc_lo:
                out.append(
                    Alarm(
                        kind="auc_below_training",
                        as_of=m.as_of,
                        value=auc.value,
                        bound=training_auc_lo,
                        message=f"{m.as_of:%Y-%m-%d}: realised ROC-AUC {auc.value:.3f} "
                        f"[{auc.lo:.3f}, {auc.hi:.3f}] lies below the training evaluation's "
                        f"lower bound {training_auc_lo:.3f}",
                    )
                )
    top = set(top_features[:TOP_FEATURES])
    for d in drift:
        if d.feature in top and d.psi is not None and d.psi > PSI_ALARM:
            out.append(
                Alarm(
                    kind="feature_psi",
                    as_of=d.as_of,
                    value=d.psi,
                    bound=PSI_ALARM,
                    feature=d.feature,
                    message=f"{d.as_of:%Y-%m-%d}: {d.feature} (a top-{TOP_FEATURES} feature) "
                    f"has PSI {d.psi:.2f} > {PSI_ALARM}",
                )
            )
    return sorted(out, key=lambda a: (a.as_of, a.kind))


def advice(found: Sequence[Alarm], matured: int) -> list[str]:
    """What to do next: retrain when ranking broke, recalibrate when only calibration did,
    watch the next matured months when only the inputs moved."""
    kinds = {a.kind for a in found}
    out = []
    if "auc_below_training" in kinds:
        out.append(
            "The model ranks worse than it did in training: a full retrain (`riskwarn "
            "train`) is the next step; recalibration changes risks, not their order."
        )
    if kinds & {"observed_expected", "calibration_slope"}:
        out.append(
            "The risks no longer match what happens: run `riskwarn recalibrate` and let "
            "`riskwarn promote` judge the challenger; if no recalibration earns registration "
            "or the alarms persist after it, retrain."
        )
    if "feature_psi" in kinds and not kinds & {"observed_expected", "calibration_slope"}:
        out.append(
            "Important inputs have shifted: the pre-label estimate shows what that implies "
            "if the model still holds; watch the next matured months, and retrain if they "
            "confirm a change."
        )
    if not found:
        out.append(
            "No alarm."
            if matured
            else "No alarm; no month has matured yet, so only drift and the pre-label "
            "estimate speak."
        )
    return out
