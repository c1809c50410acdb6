"""What the loop achieved: outcomes of warnings once their horizon has passed, how fast
warnings were handled, and the fairer comparisons of handled and unhandled cases.

Inputs are tables, so the same evaluation reads the simulator's ``_truth/warnings.parquet``,
a model's scoring rounds or the store's warnings:

- ``rounds``: one row per case and scoring round: ``dispute_id``, ``as_of``, ``township``,
  ``tier`` (what the score said, None below blue or when unscored), and optionally
  ``score`` with ``threshold`` (for a discontinuity) and ``rollout_at`` (the township's
  start; otherwise the first intervention prompted by a warning there);
- the dataset: outcomes (the contract's label, :func:`riskwarn.features.label_cases`) and
  handling (its ``interventions`` table);
- optionally ``warnings``: the store's warning records, for the process measures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskwarn._dataset import Dataset
from riskwarn.vocab import TIERS, tier_rank

from ._estimate import Estimate, discontinuity, naive_comparison, stepped_rollout
from ._policy import RoutingPolicy, load_policy

CAUTION = (
    "Caution: handled and unhandled cases differ by more than the handling: warnings are "
    "handled because the cases looked riskier, so outcomes by handling are not the effect "
    "of handling. Read the fairer comparisons below, where the data allow them."
)
CAUTION_ZH = (
    "注意：已处置与未处置的案件不只差在处置上（因风险看起来更高才被处置），"
    "按处置情况分列的结果不等于处置的效果。"
)
HANDLED_WITHIN_DAYS = 7


@dataclass(frozen=True)
class Evaluation:
    """Everything ``riskwarn evaluate-warnings`` reports."""

    as_of: pd.Timestamp
    horizon_days: int
    warnings: pd.DataFrame
    outcomes_by_tier: pd.DataFrame
    outcomes_by_handling: pd.DataFrame
    process: pd.DataFrame | None
    naive: Estimate
    stepped: Estimate
    discontinuity: Estimate

    def to_dict(self) -> dict:
        """The figures as plain data (``--out``)."""
        from dataclasses import asdict

        def records(frame: pd.DataFrame | None) -> list[dict] | None:
            return (
                None
                if frame is None
                else frame.astype(object).where(frame.notna()).to_dict("records")
            )

        return {
            "as_of": self.as_of.isoformat(),
            "horizon_days": self.horizon_days,
            "warnings": len(self.warnings),
            "outcomes_by_tier": records(self.outcomes_by_tier),
            "outcomes_by_handling": records(self.outcomes_by_handling),
            "caution": CAUTION,
            "process": records(self.process),
            "effects": [asdict(e) for e in (self.stepped, self.discontinuity, self.naive)],
        }

    def text(self) -> str:
        """The report as a person reads it."""
        known = self.warnings["outcome"].notna()
        lines = [
            f"Warnings: {len(self.warnings):,}; outcome known (horizon {self.horizon_days} days "
            f"passed by {self.as_of:%Y-%m-%d}): {int(known.sum()):,}",
            "",
            "Outcomes by tier:",
            _table(self.outcomes_by_tier),
            "",
            "Outcomes by handling:",
            _table(self.outcomes_by_handling),
            CAUTION,
            CAUTION_ZH,
            "",
        ]
        if self.process is not None:
            lines += ["Process (hours; share on time):", _table(self.process), ""]
        lines += ["Effect of handling:"]
        lines += [f"  {e.line()}" for e in (self.stepped, self.discontinuity, self.naive)]
        return "\n".join(lines)


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "  (none)"
    return frame.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def _wilson(events: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = 1.959964
    n = np.maximum(n, 1)
    p = events / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def rates(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Warnings, known outcomes, events and the event rate with its 95% (Wilson) interval."""
    known = frame[frame["outcome"].notna()]
    out = (
        frame.groupby(by, dropna=False)
        .size()
        .rename("warnings")
        .to_frame()
        .join(known.groupby(by, dropna=False)["outcome"].agg(known="size", events="sum"))
        .fillna(0)
        .reset_index()
    )
    out[["known", "events"]] = out[["known", "events"]].astype(int)
    out["rate"] = out["events"] / out["known"].clip(lower=1)
    out["low"], out["high"] = _wilson(out["events"].to_numpy(), out["known"].to_numpy())
    return out


def first_interventions(dataset: Dataset) -> pd.DataFrame:
    """Each dispute's intervention times (``dispute_id``, ``at``, ``warning_tier``), sorted;
    empty when the dataset has no interventions table."""
    table = dataset.table("interventions")
    cols = ["dispute_id", "at", "warning_tier"]
    if table is None or table.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
    return table[cols].sort_values("at").reset_index(drop=True)


def _handled(
    keys: pd.DataFrame, acts: pd.DataFrame, within_days: int, when: str = "by"
) -> np.ndarray:
    """Whether each (dispute_id, as_of) had an intervention ``by`` as_of + within_days
    (handled by then, earlier ones included) or ``from`` as_of to then (handled for it)."""
    if acts.empty or keys.empty:
        return np.zeros(len(keys), bool)
    m = keys[["dispute_id", "as_of"]].reset_index(drop=True).reset_index()
    m = m.merge(acts[["dispute_id", "at"]], on="dispute_id")
    ok = m["at"] <= m["as_of"] + pd.Timedelta(days=within_days)
    if when == "from":
        ok &= m["at"] >= m["as_of"]
    out = np.zeros(len(keys), bool)
    out[m.loc[ok, "index"].to_numpy()] = True
    return out


def _rollout(rounds: pd.DataFrame, acts: pd.DataFrame, dataset: Dataset) -> pd.Series:
    """Each row's township start: ``rollout_at`` when given, else the first intervention a
    warning prompted in that township."""
    if "rollout_at" in rounds:
        return pd.to_datetime(rounds["rollout_at"])
    warned = acts[acts["warning_tier"].notna()]
    if warned.empty:
        return pd.Series(pd.NaT, index=rounds.index, dtype="datetime64[ns]")
    place = townships(dataset)
    first = warned.assign(township=warned["dispute_id"].map(place)).groupby("township")["at"].min()
    return rounds["township"].map(first).astype("datetime64[ns]")


def townships(dataset: Dataset) -> pd.Series:
    """dispute_id -> township (through its grid)."""
    disputes = dataset.table("disputes")
    grids = dataset.table("grids")
    if grids is None or grids.empty:
        return pd.Series(dtype="str")
    town = disputes["grid_id"].map(grids.set_index("grid_id")["township"])
    return pd.Series(town.to_numpy(), index=disputes["dispute_id"].astype(str))


def evaluate_rounds(
    dataset: Dataset,
    rounds: pd.DataFrame,
    *,
    min_tier: str = "orange",
    horizon_days: int = 90,
    as_of: pd.Timestamp | None = None,
    warnings: pd.DataFrame | None = None,
    handled_within_days: int = HANDLED_WITHIN_DAYS,
    bootstrap: int = 400,
    seed: int = 0,
) -> Evaluation:
    """Outcomes, process measures and the effect of handling, from scoring ``rounds``.

    A case gets a warning at the first round its tier is at or above ``min_tier`` where
    its township's loop runs (and again when its tier rises); it counts as handled when
    an intervention follows within ``handled_within_days``. Outcomes are known for
    warnings whose horizon ends by ``as_of`` (default: the data's end).
    """
    from riskwarn.features import label_cases

    end = dataset.end if as_of is None else min(pd.Timestamp(as_of), dataset.end)
    r = rounds.copy()
    r["as_of"] = pd.to_datetime(r["as_of"]).astype("datetime64[ns]")
    r["dispute_id"] = r["dispute_id"].astype(str)
    acts = first_interventions(dataset)
    r["rollout_at"] = _rollout(r, acts, dataset)
    r["started"] = (r["as_of"] >= r["rollout_at"]).fillna(False).astype(bool)
    rank = r["tier"].map(lambda t: tier_rank(t) if isinstance(t, str) else -1)
    r["eligible"] = rank >= tier_rank(min_tier)
    if not {"score", "threshold"} <= set(r.columns):
        r = r[r["eligible"]].reset_index(drop=True)  # no discontinuity: label warnings only
    labels = label_cases(dataset, r["dispute_id"], r["as_of"], horizon_days)
    known = (r["as_of"] + pd.Timedelta(days=horizon_days) <= end).to_numpy()
    r["outcome"] = labels["label"].astype("Float64").where(known)
    r["treated"] = _handled(r, acts, handled_within_days)
    r["treated_now"] = _handled(r, acts, handled_within_days, when="from")
    r["treated_before"] = r["treated"] & ~r["treated_now"]
    warned = _warnings_of(r[r["eligible"]], acts, handled_within_days)
    scored = r[r["outcome"].notna()]
    everything = scored.assign(y=scored["outcome"].astype(float))
    rows = everything[everything["eligible"]]
    stepped = stepped_rollout(rows, bootstrap=bootstrap, seed=seed)
    rd = _discontinuity(everything, min_tier, bootstrap=bootstrap, seed=seed)
    ran = rows[rows["started"]]
    return Evaluation(
        as_of=end,
        horizon_days=horizon_days,
        warnings=warned,
        outcomes_by_tier=rates(warned, ["tier"]).sort_values(
            "tier", key=lambda s: s.map(TIERS.index)
        ),
        outcomes_by_handling=rates(warned, ["tier", "handled"]).sort_values(
            ["tier", "handled"], key=lambda s: s.map(TIERS.index) if s.name == "tier" else s
        ),
        process=process_measures(warnings) if warnings is not None else _process_from(warned),
        naive=naive_comparison(ran, bootstrap=bootstrap, seed=seed),
        stepped=stepped,
        discontinuity=rd,
    )


def _warnings_of(r: pd.DataFrame, acts: pd.DataFrame, within: int) -> pd.DataFrame:
    """The warnings the rounds imply: a case's first eligible round where the loop runs,
    and each later round where its tier rose (an escalation, kept as a new row)."""
    ran = r[r["started"]].sort_values(["dispute_id", "as_of"])
    rank = ran["tier"].map(tier_rank)
    best = rank.groupby(ran["dispute_id"]).cummax()
    before = best.groupby(ran["dispute_id"]).shift(1).fillna(-1)
    new = ran[rank > before].copy()
    new["handled"] = _handled(new, acts, within, when="from")
    first = acts.groupby("dispute_id")["at"].min() if not acts.empty else pd.Series(dtype=object)
    after = new["dispute_id"].map(first)
    new["first_action_at"] = after.where(after >= new["as_of"])
    cols = ["dispute_id", "as_of", "township", "tier", "handled", "first_action_at", "outcome"]
    return new[cols].rename(columns={"as_of": "issued_at"}).reset_index(drop=True)


def _discontinuity(rows: pd.DataFrame, min_tier: str, **kw) -> Estimate:
    """Rounds where the loop runs, of cases not handled before and not above ``min_tier``
    (so no higher threshold lies inside the window), by score minus the threshold; handled
    means handled for this round."""
    if not {"score", "threshold"} <= set(rows.columns):
        return Estimate(
            "regression discontinuity", None, None, None, 0, 0,
            reason="the rounds carry no score and threshold",
        )  # fmt: skip
    rank = rows["tier"].map(lambda t: tier_rank(t) if isinstance(t, str) else -1)
    near = rows[rows["started"] & ~rows["treated_before"] & (rank <= tier_rank(min_tier))]
    running = near["score"] - near["threshold"]
    return discontinuity(near.assign(running=running, treated=near["treated_now"]), **kw)


def _process_from(warned: pd.DataFrame) -> pd.DataFrame | None:
    """Time to first action by township and tier, from the interventions table alone."""
    if warned["handled"].sum() == 0:
        return None
    hours = (warned["first_action_at"] - warned["issued_at"]).dt.total_seconds() / 3600
    frame = warned.assign(hours_to_first_action=hours)
    out = frame.groupby(["township", "tier"]).agg(
        warnings=("dispute_id", "size"),
        handled=("handled", "mean"),
        hours_to_first_action=("hours_to_first_action", "median"),
    )
    return out.reset_index()


def process_measures(
    warnings: pd.DataFrame,
    policy: RoutingPolicy | None = None,
    *,
    by: Sequence[str] = ("township", "tier"),
    now: pd.Timestamp | dt.datetime | None = None,
) -> pd.DataFrame:
    """From the store's warning records (``WarningRecord.model_dump()`` rows), by ``by``
    (default township and tier; any column of the rows, e.g. a ``period`` the caller adds):
    warnings, median hours to acknowledge and to first action, the share acknowledged and
    first acted on in time, the revisit rate (resolved warnings with a return visit) and
    the share closed; on time by ``policy``'s deadlines (default: the shipped one).

    With ``now`` (UTC), a warning whose step is still pending inside its window is left out
    of that step's share (it may yet be on time); without it, pending counts as late."""
    policy = policy or load_policy()
    w = warnings.copy()
    for col in (
        "issued_at", "acknowledged_at", "first_action_at", "resolved_at", "revisit_at", "closed_at"
    ):  # fmt: skip
        w[col] = pd.to_datetime(w[col]) if col in w else pd.Series(pd.NaT, index=w.index)
    ack_h = w["tier"].map(lambda t: policy.route(t).acknowledge_hours).astype(float)
    act_h = w["tier"].map(lambda t: policy.route(t).first_action_hours).astype(float)
    to_ack = (w["acknowledged_at"] - w["issued_at"]).dt.total_seconds() / 3600
    to_act = (w["first_action_at"] - w["issued_at"]).dt.total_seconds() / 3600
    waited = (
        pd.Series(np.inf, index=w.index)
        if now is None
        else (pd.Timestamp(now) - w["issued_at"]).dt.total_seconds() / 3600
    )
    w = w.assign(
        hours_to_acknowledge=to_ack,
        hours_to_first_action=to_act,
        acknowledged_on_time=_on_time(to_ack, ack_h, waited),
        acted_on_time=_on_time(to_act, act_h, waited),
        revisited=np.where(w["resolved_at"].notna(), w["revisit_at"].notna(), np.nan),
        closed=w["closed_at"].notna().astype(float),
    )
    return (
        w.groupby(list(by), dropna=False)
        .agg(
            warnings=("warning_id", "size"),
            hours_to_acknowledge=("hours_to_acknowledge", "median"),
            hours_to_first_action=("hours_to_first_action", "median"),
            acknowledged_on_time=("acknowledged_on_time", "mean"),
            acted_on_time=("acted_on_time", "mean"),
            revisit_rate=("revisited", "mean"),
            closed=("closed", "mean"),
        )
        .reset_index()
    )


def _on_time(took: pd.Series, allowed: pd.Series, waited: pd.Series) -> pd.Series:
    """1 done in time, 0 done late or not done when the window has passed, NaN pending."""
    done = took.notna()
    out = pd.Series(np.nan, index=took.index)
    out[done] = (took[done] <= allowed[done]).astype(float)
    out[~done & (waited > allowed)] = 0.0
    return out


def warning_outcomes(
    dataset: Dataset,
    warnings: pd.DataFrame,
    *,
    horizon_days: int = 90,
    to_local: Callable[[dt.datetime], dt.datetime] | None = None,
) -> pd.DataFrame:
    """The store's warning records with their ``outcome``: 1 when an extreme incident
    linked to the case fell within ``horizon_days`` after the issue, 0 when none did, NA
    while the horizon has not passed in the data (or the case is not in it).
    ``to_local`` turns the records' UTC times into the data's local time (the clock's)."""
    from riskwarn.features import label_cases

    w = warnings.reset_index(drop=True).copy()
    issued = pd.to_datetime(w["issued_at"])
    if to_local is not None:
        issued = issued.map(lambda t: pd.Timestamp(to_local(t.to_pydatetime())))
    known_ids = set(dataset.table("disputes")["dispute_id"].astype(str))
    held = w["dispute_id"].astype(str).isin(known_ids).to_numpy()
    outcome = pd.Series(pd.NA, index=w.index, dtype="Float64")
    if held.any():
        labels = label_cases(
            dataset, w.loc[held, "dispute_id"].astype(str), issued[held], horizon_days
        )
        outcome[held] = labels["label"].astype("Float64").to_numpy()
    return w.assign(outcome=outcome)
