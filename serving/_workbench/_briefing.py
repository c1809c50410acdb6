"""The monthly briefing (研判报告) for a township or the county: a printable page and a PDF.

What a centre reports upward each month: the month's new red and orange warnings and how
they were handled, the tier trend, hot grids, categories, the extreme incidents that
happened and whether each had been warned (its tier at the last snapshot before), and how
well the model's recent risks matched what happened.

The PDF is made here, in pure Python (fpdf2), with a Noto CJK font from the system
(Debian's fonts-noto-cjk) embedded as a subset: no browser at run time.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from riskwarn import Dataset
from riskwarn.errors import ConfigError
from riskwarn.vocab import TIERS, tier_rank
from riskwarn.vocab import label as vlabel

from ._card import incidents_by_dispute, monthly_drift
from ._charts import pct
from ._i18n import label
from ._overview import WARNED, overview, shown, townships_of

FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/noto-cjk"))
FONT_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf")
SC_FACE = 2
"""The Simplified Chinese face in Debian's NotoSansCJK-Regular.ttc (JP, KR, SC, TC, HK)."""


def month_bounds(month: str | None, default: dt.datetime | None) -> tuple[dt.datetime, dt.datetime]:
    """``YYYY-MM`` (else the month of ``default``, else this month) as [start, end)."""
    if month:
        try:
            start = dt.datetime.strptime(month, "%Y-%m")
        except ValueError:
            raise ConfigError(f"month: expected YYYY-MM such as 2024-05, got {month!r}") from None
    else:
        ref = default or dt.datetime.now()
        start = dt.datetime(ref.year, ref.month, 1)
    end = dt.datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, end


def _in_township(ds: Dataset, township: str | None) -> dict[str, str]:
    """Dispute id -> grid id, of the township's disputes (all when None)."""
    town_of = townships_of(ds)
    d = ds.disputes
    out = dict(zip(d["dispute_id"].astype(str), d["grid_id"].astype(str), strict=True))
    if township:
        out = {k: g for k, g in out.items() if town_of.get(g) == township}
    return out


def _last_tier_before(history: Sequence[Mapping[str, Any]], dispute_id: str, at: dt.datetime):
    best = None
    for h in history:
        if h["dispute_id"] == dispute_id and h["as_of"] <= at:
            best = h
    return best


def briefing(
    cases: list[dict[str, Any]],
    history: list[dict[str, Any]],
    actions: list[dict[str, Any]],
    ds: Dataset,
    township: str | None,
    month: str | None,
    now: dt.datetime,
    calibration_points: Sequence[Any] = (),
    horizon_days: int = 90,
) -> dict[str, Any]:
    """The briefing's values. ``history`` is every stored snapshot row (as_of, dispute_id,
    tier, risk, scored_at); ``actions`` every supervisor action."""
    latest = max((h["as_of"] for h in history), default=None)
    start, end = month_bounds(month, latest)
    mine = _in_township(ds, township)
    hist = [h for h in history if h["dispute_id"] in mine]
    ov = overview(cases, history, ds, township, now)

    # the month's new red and orange warnings: first reached in a run of this month
    first: dict[str, dict[str, Any]] = {}
    for h in hist:
        if str(h["tier"]) in WARNED and h["dispute_id"] not in first:
            first[h["dispute_id"]] = h
    new = [h for h in first.values() if start <= h["as_of"] < end]
    acks: dict[str, dt.datetime] = {}
    assigned: set[str] = set()
    for a in actions:
        if a["kind"] == "acknowledge":
            acks.setdefault(a["dispute_id"], a["at"])
        elif a["kind"] == "assign":
            assigned.add(a["dispute_id"])
    ev = ds.dispute_events
    closed = set(ev.loc[(ev["kind"] == "closed") & (ev["at"] < end), "dispute_id"].astype(str))
    waits = [
        (acks[h["dispute_id"]] - h["scored_at"]).total_seconds() / 3600
        for h in new
        if h["dispute_id"] in acks and h.get("scored_at") is not None
    ]
    handled = {
        "new": {t: sum(1 for h in new if h["tier"] == t) for t in WARNED},
        "acknowledged": sum(1 for h in new if h["dispute_id"] in acks),
        "assigned": sum(1 for h in new if h["dispute_id"] in assigned),
        "closed": sum(1 for h in new if h["dispute_id"] in closed),
        "median_hours": round(statistics.median(waits), 1) if waits else None,
        "total": len(new),
    }

    # incidents of the month, and whether their dispute had been warned beforehand
    inc = ds.incidents
    inc = inc.loc[(inc["occurred_at"] >= start) & (inc["occurred_at"] < end)]
    incidents = []
    for r in inc.sort_values("occurred_at").itertuples(index=False):
        dispute = None if pd.isna(r.dispute_id) else str(r.dispute_id)
        if township and (dispute is None or dispute not in mine):
            continue
        before = _last_tier_before(hist, dispute, r.occurred_at) if dispute else None
        incidents.append(
            {
                "at": pd.Timestamp(r.occurred_at),
                "kind": str(r.kind),
                "dispute_id": dispute,
                "tier_before": None if before is None else str(before["tier"]),
                "warned": before is not None and str(before["tier"]) in WARNED,
            }
        )

    # the model's recent calibration: runs old enough for their horizon to have passed
    followed = monthly_drift(hist, incidents_by_dispute(ds), ds.end, horizon_days)[-6:]
    return {
        "township": township or "",
        "month": f"{start:%Y-%m}",
        "start": start,
        "end": end,
        "as_of": latest,
        "overview": ov,
        "handled": handled,
        "new_cases": sorted(new, key=lambda h: (-tier_rank(h["tier"]), -h["risk"]))[:30],
        "incidents": incidents,
        "warned_incidents": sum(1 for i in incidents if i["warned"]),
        "followed": followed,
        "calibration_points": list(calibration_points),
        "hot_grids": [g for g in ov["by_grid"] if g.warned][:5],
    }


# the PDF ------------------------------------------------------------------------------------


def cjk_font() -> tuple[Path, int]:
    """The Noto CJK font file to embed and the face index of Simplified Chinese in it."""
    for folder in FONT_DIRS:
        for name in FONT_FILES:
            path = folder / name
            if path.exists():
                return path, SC_FACE if path.suffix == ".ttc" else 0
    raise ConfigError(
        "briefing PDF: expected a Noto CJK font (Debian package fonts-noto-cjk) in "
        f"{', '.join(str(d) for d in FONT_DIRS)}, found none; install it with "
        "`apt-get install fonts-noto-cjk`"
    )


def briefing_pdf(b: dict[str, Any], lang: str) -> bytes:
    """The briefing as an A4 PDF with the Chinese font embedded (subset)."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    font, face = cjk_font()
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("noto", fname=str(font), collection_font_number=face)
    pdf.set_title(briefing_title(b, lang))
    pdf.set_creator("riskwarn")
    pdf.add_page()
    pdf.set_font("noto", size=16)
    pdf.multi_cell(0, 9, briefing_title(b, lang), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("noto", size=9)
    pdf.multi_cell(
        0,
        5,
        label("briefing_sub", lang, month=b["month"], as_of=_day(b["as_of"])),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)

    def heading(key: str) -> None:
        pdf.ln(2)
        pdf.set_font("noto", size=12)
        pdf.multi_cell(0, 7, label(key, lang), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("noto", size=9)

    def table(head: list[str], rows: list[list[str]]) -> None:
        if not rows:
            pdf.multi_cell(0, 5, label("none_in_month", lang), new_x="LMARGIN", new_y="NEXT")
            return
        with pdf.table(
            headings_style=FontFace(fill_color=(236, 239, 241)), line_height=5, padding=1
        ) as t:
            for row in [head, *rows]:
                cells = t.row()
                for value in row:
                    cells.cell(str(value))

    for key, text in summary_lines(b, lang):
        heading(key)
        pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    heading("new_warnings")
    table(
        [label("dispute", lang), label("tier", lang), label("risk", lang), label("as_of", lang)],
        [
            [h["dispute_id"], vlabel("tier", h["tier"], lang), pct(h["risk"]), _day(h["as_of"])]
            for h in b["new_cases"]
        ],
    )
    heading("trend")
    table(
        [label("as_of", lang), *(vlabel("tier", t, lang) for t in TIERS)],
        [[_day(at), *(str(c[t]) for t in TIERS)] for at, c in b["overview"]["trend"]],
    )
    heading("hot_grids")
    table(
        [
            label("township", lang),
            label("grid", lang),
            label("red_orange", lang),
            label("total", lang),
        ],
        [[g.township, g.grid or "", shown(g.warned), shown(g.total)] for g in b["hot_grids"]],
    )
    heading("categories")
    table(
        [label("category", lang), label("total", lang), label("red_orange", lang)],
        [
            [vlabel("category", c["category"], lang), c["shown"], c["warned_shown"]]
            for c in b["overview"]["categories"]
        ],
    )
    heading("incidents_month")
    table(
        [
            label("date", lang),
            label("incident", lang),
            label("dispute", lang),
            label("tier_before", lang),
        ],
        [
            [
                _day(i["at"]),
                vlabel("incident_kind", i["kind"], lang),
                i["dispute_id"] or "—",
                vlabel("tier", i["tier_before"], lang)
                if i["tier_before"]
                else label("not_scored", lang),
            ]
            for i in b["incidents"]
        ],
    )
    heading("recent_calibration")
    table(
        [label("month", lang), label("n", lang), label("predicted", lang), label("observed", lang)],
        [[f["month"], str(f["n"]), pct(f["predicted"]), pct(f["observed"])] for f in b["followed"]],
    )
    pdf.ln(3)
    pdf.set_font("noto", size=8)
    pdf.multi_cell(0, 4, label("briefing_foot", lang), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _day(value: Any) -> str:
    return "" if value is None else f"{value:%Y-%m-%d}"


def briefing_title(b: dict[str, Any], lang: str) -> str:
    where = b["township"] or label("county", lang)
    return label("briefing_title", lang, where=where, month=b["month"])


def summary_lines(b: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """The briefing's sentences, shared by the page and the PDF."""
    h = b["handled"]
    ov = b["overview"]
    wait = "—" if h["median_hours"] is None else f"{h['median_hours']:g}"
    od = ov["overdue"]
    return [
        (
            "briefing_warnings",
            label(
                "briefing_warnings_text",
                lang,
                red=h["new"]["red"],
                orange=h["new"]["orange"],
                acked=h["acknowledged"],
                assigned=h["assigned"],
                closed=h["closed"],
                wait=wait,
            ),
        ),
        (
            "briefing_now",
            label(
                "briefing_now_text",
                lang,
                total=ov["total"],
                red=ov["counts"]["red"],
                orange=ov["counts"]["orange"],
                red24=od["red"][24],
                orange72=od["orange"][72],
            ),
        ),
        (
            "briefing_incidents",
            label(
                "briefing_incidents_text",
                lang,
                n=len(b["incidents"]),
                warned=b["warned_incidents"],
            ),
        ),
    ]
