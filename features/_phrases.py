"""Values in the units a person uses: hours and days, 元, shares, network position in words.

A feature declares its ``unit`` in the registry (``_specs.py``); :func:`phrase` turns a
value of that unit into ``(number, label)``, the two words a reason template fills in
(``{value}`` and ``{label}``). Pure functions, Chinese and English.
"""

from __future__ import annotations

import math

UNITS = ("", "duration", "amount", "male_share", "centrality", "core", "trend", "whole")


def _clean(x: float, digits: int = 1) -> str:
    text = f"{x:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def duration(days: float, zh: bool) -> str:
    """ "18小时" under two days, "3天" under two months, else "约5个月"."""
    hours = days * 24
    if hours < 1:
        return "不到1小时" if zh else "under an hour"
    if days < 2:
        n = round(hours)
        return f"{n}小时" if zh else f"{n} hour{'' if n == 1 else 's'}"
    if days < 60:
        n = round(days)
        return f"{n}天" if zh else f"{n} days"
    n = round(days / 30.4)
    if n < 24:
        return f"约{n}个月" if zh else f"about {n} months"
    return f"约{_clean(days / 365.25)}年" if zh else f"about {_clean(days / 365.25)} years"


def amount(log1p_yuan: float, zh: bool) -> str:
    """A money amount kept as log(1 + 元), said rounded: "约1.6万元", "about CNY 16,000"."""
    yuan = math.expm1(log1p_yuan)
    if yuan < 1:
        return "不足1元" if zh else "under CNY 1"
    digits = max(0, math.floor(math.log10(yuan)) - 1)  # two significant digits
    rounded = round(yuan, -digits) if digits else round(yuan)
    if not zh:
        return f"about CNY {rounded:,.0f}"
    if rounded >= 1e8:
        return f"约{_clean(rounded / 1e8)}亿元"
    if rounded >= 1e4:
        return f"约{_clean(rounded / 1e4)}万元"
    return f"约{rounded:.0f}元"


def male_share(share: float, zh: bool) -> str:
    if share >= 1:
        return "当事人均为男性" if zh else "all parties are men"
    if share <= 0:
        return "当事人均为女性" if zh else "all parties are women"
    pct = round(share * 100)
    return f"当事人中男性约占{pct}%" if zh else f"men are about {pct}% of the parties"


def centrality(times_average: float, zh: bool) -> str:
    """PageRank against the average linked person (1), in words."""
    if times_average >= 3:
        return "处于中心位置，联系远多于常人" if zh else "is central, linked far more than most"
    if times_average >= 1.5:
        return "联系较广" if zh else "is widely linked"
    if times_average > 0:
        return "联系一般" if zh else "is linked like most people"
    return "没有联系人" if zh else "has no links"


def core(k: float, zh: bool) -> str:
    """A k-core number in words: how tightly knit the group around a party is."""
    if k >= 4:
        return "处于关系密集的人群中" if zh else "sits in a tightly knit group"
    if k >= 2:
        return "处于相互联系的小圈子中" if zh else "sits in a small circle of linked people"
    if k >= 1:
        return "只有零散的联系" if zh else "has only scattered links"
    return "没有联系人" if zh else "has no links"


def trend(change: float, zh: bool) -> str:
    if change > 0:
        return "增加" if zh else "more"
    return "减少" if zh else "fewer"


_LABELS = {"male_share": male_share, "centrality": centrality, "core": core, "trend": trend}


def phrase(unit: str, value: float, zh: bool) -> tuple[str, str]:
    """``(number, label)`` of ``value`` in ``unit`` for a reason template."""
    if unit == "duration":
        return duration(value, zh), ""
    if unit == "amount":
        return amount(value, zh), ""
    if unit == "whole":
        return str(round(value)), ""
    if unit in _LABELS:
        number = _clean(abs(value)) if unit == "trend" else _clean(value)
        return number, _LABELS[unit](value, zh)
    raise ValueError(f"unit: expected one of {UNITS}, got {unit!r}")
