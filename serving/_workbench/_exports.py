"""Excel exports of the queue and the overview, with the filters that were applied.

openpyxl workbooks built from the same values the pages show (small counts suppressed as
on the overview); each workbook's last sheet says what was exported, when, by whom and
with which filters. The routes write an audit entry for every export.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from riskwarn import vocab
from riskwarn.clock import get_clock

from ._charts import TIER_TINTS
from ._i18n import label
from ._overview import OVERDUE_HOURS, WARNED

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOLD = Font(bold=True)


def _sheet(wb: Workbook, title: str, head: Sequence[str], rows: Iterable[Sequence[Any]]) -> Any:
    ws = wb.create_sheet(title.replace("/", "、"))  # a sheet's name may not hold "/"
    ws.append(list(head))
    for cell in ws[1]:
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        ws.append(list(row))
    ws.freeze_panes = "A2"
    for i, name in enumerate(head, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, 2 * len(str(name)) + 4))
    return ws


def _about(
    wb: Workbook, lang: str, what: str, by: str, filters: dict[str, str], as_of: Any
) -> None:
    now = get_clock().local_now()
    rows = [
        (label("export_what", lang), what),
        (label("as_of", lang), "" if as_of is None else f"{as_of:%Y-%m-%d %H:%M}"),
        (label("export_at", lang), f"{now:%Y-%m-%d %H:%M}"),
        (label("export_by", lang), by),
        *((label("export_filter", lang) + f" · {k}", v) for k, v in filters.items()),
        ("", label("export_note", lang)),
    ]
    _sheet(wb, label("export_about", lang), [label("field", lang), label("value", lang)], rows)


def _tint(ws: Any, column: int, tiers: Sequence[str]) -> None:
    for i, tier in enumerate(tiers, start=2):
        colour = TIER_TINTS.get(tier, "#ffffff").lstrip("#")
        ws.cell(row=i, column=column).fill = PatternFill("solid", fgColor=colour)


def _bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def queue_xlsx(
    rows: Sequence[dict[str, Any]],
    filters: dict[str, str],
    as_of: dt.datetime | None,
    lang: str,
    by: str,
) -> bytes:
    """The queue (every row the filters keep, in the page's order) as a workbook."""
    wb = Workbook()
    wb.remove(wb.active)
    head = [
        label(k, lang)
        for k in (
            "rank",
            "dispute",
            "tier",
            "model_tier",
            "risk_pct",
            "change_pp",
            "township",
            "grid",
            "category",
            "days_open",
            "assignee",
            "acknowledged_by",
            "acknowledged_at",
            "notes",
        )
    ]
    clock = get_clock()

    def line(r: dict[str, Any]) -> list[Any]:
        ack = r.get("ack")
        return [
            r["position"],
            r["dispute_id"],
            vocab.label("tier", r["tier"], lang),
            vocab.label("tier", r["model_tier"], lang),
            round(100 * float(r["risk"]), 1),
            None if r["change"] is None else round(100 * float(r["change"]), 1),
            r.get("township") or "",
            r.get("grid_id") or "",
            vocab.label("category", r["category"], lang) if r.get("category") else "",
            r.get("days_open"),
            r.get("assignee") or "",
            ack["by"] if ack else "",
            f"{clock.to_local(ack['at']):%Y-%m-%d %H:%M}" if ack else "",
            r.get("notes") or 0,
        ]

    ws = _sheet(wb, label("queue", lang), head, (line(r) for r in rows))
    _tint(ws, 3, [r["tier"] for r in rows])
    _about(wb, lang, label("queue", lang), by, filters, as_of)
    return _bytes(wb)


WARNING_COUNTS = (
    ("open", "open_warnings"),
    ("overdue_acknowledge", "overdue_acknowledge"),
    ("overdue_first_action", "overdue_first_action"),
    ("overdue_revisit", "overdue_revisit"),
    ("unowned", "unowned"),
)


def _warning_sheets(wb: Workbook, ov: dict[str, Any], lang: str) -> None:
    """The loop's two sheets: open and overdue warnings per township and tier (as the
    overview shows them), and every open warning with its owner and what is due by when."""
    counts = ov.get("warnings")
    if counts is None:
        return
    ws = _sheet(
        wb,
        label("loop_overview", lang),
        [
            label("township", lang),
            label("tier", lang),
            *(label(k, lang) for _, k in WARNING_COUNTS),
        ],
        (
            [
                r["township"],
                vocab.label("tier", r["tier"], lang),
                *(r[c] for c, _ in WARNING_COUNTS),
            ]
            for r in counts["rows"]
        ),
    )
    _tint(ws, 2, [r["tier"] for r in counts["rows"]])
    clock = get_clock()
    now = clock.utc_now()

    def when(t: dt.datetime | None) -> str:
        return "" if t is None else f"{clock.to_local(t):%Y-%m-%d %H:%M}"

    held = ov.get("open_warnings") or []
    ws = _sheet(
        wb,
        label("open_warning_list", lang),
        [
            label(k, lang)
            for k in (
                "warning", "dispute", "township", "grid", "tier", "warning_state", "owner_level",
                "owner", "issued_at", "due_step", "due", "due_overdue",
            )
        ],
        (
            [
                w.warning_id,
                w.dispute_id,
                w.township or "",
                w.grid or "",
                vocab.label("tier", w.tier, lang),
                vocab.label("warning_state", w.state, lang),
                vocab.label("owner_level", w.owner_level, lang),
                w.owner or label("unowned", lang),
                when(w.issued_at),
                label(f"step_{w.due_step}", lang) if w.due_step else "",
                when(w.due_at),
                label("yes", lang) if w.overdue(now) else "",
            ]
            for w in held
        ),
    )  # fmt: skip
    _tint(ws, 5, [w.tier for w in held])


def overview_xlsx(ov: dict[str, Any], lang: str, by: str) -> bytes:
    """The overview: townships, grids, the tier trend, overdue warnings, the loop's open and
    overdue warnings (counts and each one) and categories."""
    wb = Workbook()
    wb.remove(wb.active)
    tiers = [vocab.label("tier", t, lang) for t in vocab.TIERS]
    area_head = [*tiers, label("total", lang), label("residents", lang), label("rate", lang)]

    def area(rows: Sequence[Any], with_grid: bool) -> Iterable[list[Any]]:
        for r in rows:
            cells = r.cells()
            rate = r.rate
            place = [r.township, r.grid] if with_grid else [r.township]
            yield [
                *place,
                *(cells[t] for t in vocab.TIERS),
                cells["total"],
                r.residents,
                "–" if rate is None else round(rate, 2),
            ]

    _sheet(
        wb,
        label("by_township", lang),
        [label("township", lang), *area_head],
        area(ov["by_township"], False),
    )
    _sheet(
        wb,
        label("by_grid", lang),
        [label("township", lang), label("grid", lang), *area_head],
        area(ov["by_grid"], True),
    )
    _sheet(
        wb,
        label("trend", lang),
        [label("as_of", lang), *tiers],
        ([f"{at:%Y-%m-%d}", *(c[t] for t in vocab.TIERS)] for at, c in ov["trend"]),
    )
    _sheet(
        wb,
        label("overdue", lang),
        [label("tier", lang), *(label("not_acked_within", lang, h=h) for h in OVERDUE_HOURS)],
        (
            [vocab.label("tier", t, lang), *(ov["overdue"][t][h] for h in OVERDUE_HOURS)]
            for t in WARNED
        ),
    )
    _warning_sheets(wb, ov, lang)
    _sheet(
        wb,
        label("categories", lang),
        [label("category", lang), label("total", lang), label("red_orange", lang)],
        (
            [vocab.label("category", c["category"], lang), c["shown"], c["warned_shown"]]
            for c in ov["categories"]
        ),
    )
    filters = {label("township", lang): ov["township"]} if ov["township"] else {}
    _about(wb, lang, label("overview", lang), by, filters, ov["as_of"])
    return _bytes(wb)
