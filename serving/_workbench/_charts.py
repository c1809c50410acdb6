"""Small SVG charts drawn on the server: no chart library, no script, readable without JS.

Each function takes plain numbers and words and returns SVG markup (``markupsafe.Markup``)
with every attribute and piece of text escaped. Colours follow the tiers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from riskwarn.vocab import TIER_ORDER

TIER_COLOURS = {"red": "#c62828", "orange": "#ef6c00", "yellow": "#f9a825", "blue": "#1565c0"}
TIER_TINTS = {"red": "#fdecea", "orange": "#fff3e0", "yellow": "#fffde7", "blue": "#e3f2fd"}
UP, DOWN, NEUTRAL = "#c62828", "#1e6fb8", "#607d8b"
TIE_COLOURS = {
    "spouse": "#8e24aa",
    "former_spouse": "#d81b60",
    "partner": "#8e24aa",
    "parent_child": "#6d4c41",
    "sibling": "#6d4c41",
    "relative": "#8d6e63",
    "neighbor": "#2e7d32",
    "colleague": "#00838f",
    "creditor_debtor": "#ef6c00",
    "landlord_tenant": "#5d4037",
    "other": "#90a4ae",
}


def el(tag: str, *children: str, **attrs: Any) -> str:
    """One SVG element; ``class_`` is ``class``, other ``_`` become ``-``; floats get 1 decimal."""
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = "class" if key == "class_" else key.replace("_", "-")
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        parts.append(f' {name}="{escape(shown)}"')
    inner = "".join(children)
    return f"<{tag}{''.join(parts)}>{inner}</{tag}>" if inner else f"<{tag}{''.join(parts)}/>"


def text(x: float, y: float, words: object, **attrs: Any) -> str:
    return el("text", str(escape(str(words))), x=float(x), y=float(y), **attrs)


def title(words: object) -> str:
    return el("title", str(escape(str(words))))


def _svg(width: float, height: float, body: list[str], label: str, cls: str) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{cls}" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" role="img" aria-label="{escape(label)}">'
    )
    return Markup(head + title(label) + "".join(body) + "</svg>")


def pct(x: float) -> str:
    """A probability as a percentage, with one decimal below 10%."""
    return f"{x * 100:.1f}%" if x < 0.1 else f"{x * 100:.0f}%"


def sparkline(
    points: Sequence[tuple[str, float, str]],
    thresholds: dict[str, float],
    label: str,
    width: float = 360,
    height: float = 110,
) -> Markup:
    """Risk over past snapshots: ``(date label, risk, tier)`` oldest first, on tier bands."""
    left, right, top_pad, bottom = 40, 12, 8, 20
    risks = [r for _, r, _ in points] or [0.0]
    top = min(1.0, max(0.01, max(risks) * 1.4))  # the risks fill the box; bands where they reach
    w, h = width - left - right, height - top_pad - bottom

    def y(v: float) -> float:
        return top_pad + h - (min(v, top) / top) * h

    body: list[str] = []
    lowest, *higher = TIER_ORDER
    bands = sorted((float(thresholds[t]), t) for t in higher if t in thresholds)
    lower, tier = 0.0, lowest
    for cut, next_tier in [*bands, (top, TIER_ORDER[-1])]:
        cut = min(cut, top)
        if cut > lower:
            body.append(
                el(
                    "rect",
                    x=float(left),
                    y=y(cut),
                    width=w,
                    height=y(lower) - y(cut),
                    fill=TIER_TINTS[tier],
                )
            )
            lower = cut
        tier = next_tier
    for v in (0.0, top):
        body.append(text(left - 4, y(v) + 4, pct(v), text_anchor="end", class_="axis"))
    n = len(points)
    xs = [left + (w / 2 if n == 1 else i * w / (n - 1)) for i in range(n)]
    if n > 1:
        path = " ".join(f"{x:.1f},{y(r):.1f}" for x, (_, r, _) in zip(xs, points, strict=True))
        body.append(el("polyline", points=path, fill="none", stroke="#37474f", stroke_width=1.6))
    for x, (day, r, tier_) in zip(xs, points, strict=True):
        body.append(
            el(
                "circle",
                title(f"{day}: {pct(r)}"),
                cx=x,
                cy=y(r),
                r=3.4,
                fill=TIER_COLOURS.get(tier_, "#555"),
                class_="point",
            )
        )
    if points:
        body.append(text(left, height - 5, points[0][0], class_="axis"))
        if n > 1:
            body.append(
                text(width - right, height - 5, points[-1][0], text_anchor="end", class_="axis")
            )
    return _svg(width, height, body, label, "chart sparkline")


def waterfall(
    base: float, items: Sequence[tuple[str, float]], words: dict[str, str], label: str
) -> Markup:
    """SHAP waterfall: the base value, each contribution as a step, then the model score.

    ``items`` are ``(label, contribution)`` in the order drawn (the caller folds the small
    ones into one "other" item); ``words`` holds the ``base`` and ``score`` labels. Values
    are log-odds of the raw model, as TreeSHAP gives them.
    """
    width, row, top_pad, label_w, value_w = 780.0, 26, 10, 330, 60
    steps: list[tuple[str, str, float, float]] = [("base", words["base"], 0.0, base)]
    total = base
    for name, value in items:
        steps.append(("step", name, total, total + value))
        total += value
    steps.append(("score", words["score"], 0.0, total))
    ends = [v for kind, _, a, b in steps for v in ((b,) if kind != "step" else (a, b))]
    lo, hi = min(ends), max(ends)
    span = (hi - lo) or 1.0
    lo, hi = lo - span * 0.04, hi + span * 0.04
    bar_w = width - label_w - value_w - 16

    def x(v: float) -> float:
        return label_w + 8 + (v - lo) / (hi - lo) * bar_w

    height = top_pad + row * len(steps) + 22
    body: list[str] = []
    for i, (kind, name, start, end) in enumerate(steps):
        y0 = top_pad + i * row
        if kind == "step":
            up = end >= start
            a, b = sorted((start, end))
            colour, shown, cls = (
                (UP, f"+{end - start:.2f}", "up") if up else (DOWN, f"−{start - end:.2f}", "down")
            )
        else:  # the base value and the model score are marks on the scale, not bars
            a, b = end - (hi - lo) * 0.004, end + (hi - lo) * 0.004
            colour, shown, cls = NEUTRAL, f"{end:.2f}", kind
            body.append(
                el(
                    "line",
                    x1=x(end),
                    y1=float(top_pad),
                    x2=x(end),
                    y2=float(top_pad + row * len(steps)),
                    class_="zero",
                )
            )
        bar = el(
            "rect",
            title(f"{name}: {shown}"),
            x=x(a),
            y=float(y0 + 5),
            width=max(1.5, x(b) - x(a)),
            height=float(row - 10),
            fill=colour,
            rx=2,
        )
        body.append(
            el(
                "g",
                text(label_w, y0 + 17, name, text_anchor="end", class_="wf-label"),
                bar,
                text(width - 4, y0 + 17, shown, text_anchor="end", class_="wf-value"),
                class_=f"wf-row wf-{cls}",
            )
        )
        if kind != "score":
            body.append(
                el(
                    "line",
                    x1=x(end),
                    y1=float(y0 + row - 5),
                    x2=x(end),
                    y2=float(y0 + row + 5),
                    class_="wf-link",
                )
            )
    body.append(text(x(lo), height - 6, f"{lo:.1f}", class_="axis"))
    body.append(text(x(hi), height - 6, f"{hi:.1f}", text_anchor="end", class_="axis"))
    return _svg(width, height, body, label, "chart waterfall")


def circle_layout(
    nodes: Sequence[dict[str, Any]], cx: float, cy: float, radius: float
) -> dict[str, tuple[float, float]]:
    """Parties on a small inner circle (one party in the middle), the rest on an outer one."""
    parties = [n["person_id"] for n in nodes if n["party"]]
    others = [n["person_id"] for n in nodes if not n["party"]]
    pos: dict[str, tuple[float, float]] = {}
    inner = 0.0 if len(parties) == 1 else min(radius * 0.4, 30.0 * len(parties))
    for i, p in enumerate(parties):
        a = math.pi + 2 * math.pi * i / max(1, len(parties))
        pos[p] = (cx + inner * math.cos(a), cy + inner * math.sin(a))
    for i, p in enumerate(others):
        a = -math.pi / 2 + 2 * math.pi * i / max(1, len(others))
        pos[p] = (cx + radius * math.cos(a), cy + radius * math.sin(a))
    return pos


def network(
    nodes: Sequence[dict[str, Any]],
    edges: Sequence[dict[str, Any]],
    tie_words: dict[str, str],
    marks: dict[str, str],
    label: str,
    size: float | None = None,
) -> Markup:
    """The ego network: ties coloured by kind, parties dark, recent incidents ringed red,
    people under special-population management marked with an orange square.

    The drawing grows with the number of people (300 to 460 units across).
    """
    size = size or min(460.0, 300.0 + 10.0 * len(nodes))
    kinds = sorted({k for e in edges for k in e["kinds"]})
    legend_h = 26 * (1 + math.ceil(len(kinds) / 3))
    cx = cy = size / 2
    pos = circle_layout(nodes, cx, cy, size / 2 - 48)
    body: list[str] = []
    for e in edges:
        (x1, y1), (x2, y2) = pos[e["a"]], pos[e["b"]]
        kind = e["kinds"][0]
        words = " / ".join(tie_words.get(k, k) for k in e["kinds"])
        body.append(
            el(
                "line",
                title(f"{e['a']} — {e['b']}: {words}"),
                x1=x1,
                y1=y1,
                x2=x2,
                y2=y2,
                stroke=TIE_COLOURS.get(kind, "#90a4ae"),
                stroke_width=2.6 if len(e["kinds"]) > 1 else 1.7,
                stroke_dasharray="6 3" if kind == "former_spouse" else None,
                class_="tie",
                data_kind=kind,
            )
        )
    for n in nodes:
        x, y = pos[n["person_id"]]
        r = 12.0 if n["party"] else 7.5
        notes = [marks[k] for k in ("party", "incident", "flagged") if n[k]]
        hover = n["person_id"] + (f" ({', '.join(notes)})" if notes else "")
        ring = (
            {"stroke": "#c62828", "stroke_width": 4}
            if n["incident"]
            else {"stroke": "#ffffff", "stroke_width": 1.5}
        )
        parts = [
            el(
                "circle",
                title(hover),
                cx=x,
                cy=y,
                r=r,
                fill="#263238" if n["party"] else "#b0bec5",
                **ring,
            )
        ]
        if n["flagged"]:
            parts.append(
                el(
                    "rect",
                    x=x + r - 2,
                    y=y - r - 4,
                    width=7.0,
                    height=7.0,
                    fill="#ef6c00",
                    class_="flag-mark",
                )
            )
        dy = r + 13 if y >= cy - 1 else -(r + 6)
        parts.append(
            text(
                x,
                y + dy,
                n["person_id"],
                text_anchor="middle",
                class_="node-label party-label" if n["party"] else "node-label",
            )
        )
        cls = "node" + "".join(f" {k}" for k in ("party", "incident", "flagged") if n[k])
        body.append(el("g", *parts, class_=cls, data_person=n["person_id"]))
    for i, k in enumerate(kinds):
        lx, ly = 8 + (i % 3) * (size / 3), size + 18 + (i // 3) * 24
        body.append(
            el(
                "line",
                x1=lx,
                y1=ly - 4,
                x2=lx + 22,
                y2=ly - 4,
                stroke=TIE_COLOURS.get(k, "#90a4ae"),
                stroke_width=2.6,
            )
        )
        body.append(text(lx + 28, ly, tie_words.get(k, k), class_="axis"))
    return _svg(size, size + legend_h, body, label, "chart network")


def calibration(
    points: Sequence[dict[str, float]], words: dict[str, str], label: str, size: float = 340
) -> Markup:
    """Mean predicted risk against observed rate per bin, and the diagonal where they agree."""
    pad = 48
    values = [p["predicted"] for p in points] + [p["observed"] for p in points]
    top = min(1.0, max([0.01, *values]) * 1.1)
    w = size - pad - 12

    def sx(v: float) -> float:
        return pad + v / top * w

    def sy(v: float) -> float:
        return 12 + w - v / top * w

    body = [
        el("rect", x=float(pad), y=12.0, width=w, height=w, fill="#fafafa", stroke="#cfd8dc"),
        el("line", x1=sx(0), y1=sy(0), x2=sx(top), y2=sy(top), class_="diagonal"),
    ]
    for v in (0.0, top / 2, top):
        body.append(text(sx(v), 12 + w + 14, pct(v), text_anchor="middle", class_="axis"))
        body.append(text(pad - 4, sy(v) + 4, pct(v), text_anchor="end", class_="axis"))
    body.append(text(pad + w / 2, size + 4, words["x"], text_anchor="middle", class_="axis"))
    mid = 12 + w / 2
    body.append(
        text(
            12,
            mid,
            words["y"],
            text_anchor="middle",
            class_="axis",
            transform=f"rotate(-90 12 {mid:.1f})",
        )
    )
    if len(points) > 1:
        path = " ".join(f"{sx(p['predicted']):.1f},{sy(p['observed']):.1f}" for p in points)
        body.append(el("polyline", points=path, fill="none", stroke="#1565c0", stroke_width=1.6))
    for p in points:
        hover = f"{pct(p['predicted'])} → {pct(p['observed'])} (n={int(p.get('n', 0))})"
        body.append(
            el(
                "circle",
                title(hover),
                cx=sx(p["predicted"]),
                cy=sy(p["observed"]),
                r=3.6,
                fill="#1565c0",
                class_="point",
            )
        )
    return _svg(size, size + 10, body, label, "chart calibration")
