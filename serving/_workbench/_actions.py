"""Supervisors' actions on a case, checked before they are stored.

A tier may only be raised, and only with a reason: a person may add caution to the model,
never remove it (as in VioGén, where officers may raise a level but not lower it), and the
case platform reads who raised it and why (the answer's ``override``). The effective tier
of a case is the higher of the model's tier and every raise recorded for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from riskwarn.errors import RequestError
from riskwarn.serving._records import ACTION_KINDS as KINDS
from riskwarn.vocab import TIER_ORDER, label, tier_rank

MAX_NAME = 64
MAX_NOTE = 2000
SHOWN = 40  # how much of an unexpected value a message quotes


def _quoted(value: str) -> str:
    return repr(value if len(value) <= SHOWN else value[: SHOWN - 1] + "…")


class ActionRefused(RequestError):
    """An action the workbench will not store; carries its message in both languages."""

    status_code = 409

    def __init__(self, zh: str, en: str, status: int = 409) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en
        self.status_code = status

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


def effective_tier(model_tier: str | None, recorded: Iterable[Mapping[str, Any]]) -> str | None:
    """The higher of the model's tier and every ``raise_tier`` action in ``recorded``."""
    best = model_tier
    for a in recorded:
        if a.get("kind") == "raise_tier" and tier_rank(a.get("tier")) > tier_rank(best):
            best = a["tier"]
    return best


def check_action(kind: str, form: Mapping[str, Any], current_tier: str | None) -> dict[str, Any]:
    """The action to store for ``kind`` and the submitted ``form``; ActionRefused otherwise."""
    if kind not in KINDS:
        raise ActionRefused(
            f"未知的操作 {_quoted(kind)}；可用的操作：{'、'.join(KINDS)}。",
            f"unknown action {_quoted(kind)}; expected one of {', '.join(KINDS)}",
            status=404,
        )
    if kind == "acknowledge":
        return {"kind": kind}
    if kind == "assign":
        name = str(form.get("assignee") or "").strip()
        if not name or len(name) > MAX_NAME:
            raise ActionRefused(
                f"请填写调解员姓名（1 至 {MAX_NAME} 个字）。",
                f"expected the mediator's name (1 to {MAX_NAME} characters), got "
                f"{len(name)} characters",
                status=400,
            )
        return {"kind": kind, "assignee": name}
    if kind == "note":
        note = str(form.get("note") or "").strip()
        if not note or len(note) > MAX_NOTE:
            raise ActionRefused(
                f"请填写备注（1 至 {MAX_NOTE} 个字）。",
                f"expected a note of 1 to {MAX_NOTE} characters, got {len(note)}",
                status=400,
            )
        return {"kind": kind, "note": note}
    tier = check_raise(str(form.get("tier") or ""), current_tier)
    reason = str(form.get("reason") or "").strip()
    if not reason or len(reason) > MAX_NOTE:
        raise ActionRefused(
            f"请写明调高等级的理由（1 至 {MAX_NOTE} 个字）：它会随评分结果告知案件平台。",
            f"expected why the tier is raised (1 to {MAX_NOTE} characters; the case platform "
            f"reads it with the score), got {len(reason)} characters",
            status=400,
        )
    return {"kind": kind, "tier": tier, "reason": reason}


def check_listed(name: str, listed: list[str]) -> str:
    """``name`` when it is on the roster serving the case's place; refused otherwise."""
    name = name.strip()
    if not listed:
        raise ActionRefused(
            "还没有服务本案所在地的人员，请管理员先在“人员名单”页添加。",
            "nobody on the list of people serves this case's place yet; an admin adds them "
            "on the People page first",
            status=400,
        )
    if name not in listed:
        raise ActionRefused(
            f"请从服务本案所在地的人员名单中选择（收到的是 {_quoted(name)}）。",
            f"expected someone on the list serving this case's place ({', '.join(listed)}), "
            f"got {_quoted(name)}",
            status=400,
        )
    return name


def check_raise(wanted: str, current: str | None) -> str:
    """``wanted`` when it is above ``current``; a lower or equal tier is refused."""
    if wanted not in TIER_ORDER:
        raise ActionRefused(
            f"预警等级须为红、橙、黄、蓝之一，收到的是 {_quoted(wanted)}。",
            f"expected a tier (one of {', '.join(reversed(TIER_ORDER))}), got {_quoted(wanted)}",
            status=400,
        )
    if tier_rank(wanted) <= tier_rank(current):
        now_zh, now_en = label("tier", current, "zh"), label("tier", current, "en")
        to_zh, to_en = label("tier", wanted, "zh"), label("tier", wanted, "en")
        same = wanted == current
        raise ActionRefused(
            f"预警等级只能调高，不能调低：本案当前为{now_zh}，"
            + (f"已经是{to_zh}。" if same else f"不能改为{to_zh}。")
            + "如认为风险被高估，请在备注中说明理由，由模型在下次评分时重新评估。",
            f"a tier can only be raised, never lowered: this case is {now_en.lower()} now, "
            + (f"so it is {to_en.lower()} already. " if same else f"not {to_en.lower()}. ")
            + "If you think the risk is overstated, say why in a note; the model scores the "
            "case again at the next snapshot.",
        )
    return wanted
