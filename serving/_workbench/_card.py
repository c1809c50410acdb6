"""The model card as supervisors read it: rendered from the structured
:class:`~riskwarn.training.ModelMetadata` with Chinese and English templates (not the
English Markdown logged with the run), groups with few events or far from the whole marked,
and the monthly drift of predicted against observed rates from the stored snapshots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from riskwarn.training import ModelMetadata

from ._charts import pct

FEW_EVENTS = 10
"""A group level with fewer incidents than this is marked "样本不足" (too few events)."""
AUC_GAP = 0.10
"""A group whose AUC is this far from the whole model's is marked."""
CALIBRATION_GAP = 2.0
"""A group whose mean risk and observed rate differ by more than this factor is marked."""

MODEL_WORDS = {
    "lightgbm": ("梯度提升树（LightGBM）", "Gradient-boosted trees (LightGBM)"),
    "logistic": ("逻辑回归", "Logistic regression"),
    "checklist": ("核查清单（登记时威胁、暴力、凶器）", "Checklist (threat, violence, weapon)"),
}
LEVEL_WORDS = {
    "unknown": ("未知", "unknown"),
    "(missing)": ("未知", "unknown"),
    "<18": ("18岁以下", "under 18"),
    "70+": ("70岁及以上", "70 and over"),
}


def model_name(kind: str, lang: str) -> str:
    words = MODEL_WORDS.get(kind)
    return kind if words is None else words[0 if lang == "zh" else 1]


def level_name(level: str, lang: str) -> str:
    words = LEVEL_WORDS.get(level)
    return level if words is None else words[0 if lang == "zh" else 1]


def _value(metrics: Mapping[str, Any], kind: str, name: str) -> float | None:
    found = (metrics.get(kind) or {}).get(name)
    return None if found is None else found.value


def group_marks(meta: ModelMetadata) -> list[dict[str, Any]]:
    """Each group row with ``marks``: "few" (too few events to judge), "auc" (AUC far from
    the whole model's), "calibration" (mean risk far from the observed rate)."""
    whole_auc = _value(meta.metrics, meta.kind, "roc_auc")
    out = []
    for g in meta.groups:
        marks = []
        if g.positives < FEW_EVENTS:
            marks.append("few")
        else:
            if g.auc is not None and whole_auc is not None and abs(g.auc - whole_auc) > AUC_GAP:
                marks.append("auc")
            low, high = sorted((g.mean_risk, g.observed_rate))
            if low <= 0 or high / low > CALIBRATION_GAP:
                marks.append("calibration")
        out.append({**g.model_dump(), "marks": marks})
    return out


def card(meta: ModelMetadata, lang: str) -> list[dict[str, Any]]:
    """The card's sections: ``{"title", "paragraphs", "items"}`` in ``lang``."""
    zh = lang == "zh"
    w = meta.windows
    test = w.get("test")
    horizon = meta.horizon_days or 90
    base = meta.base_rate
    kind = model_name(meta.kind, lang)
    auc = _value(meta.metrics, meta.kind, "roc_auc")
    events = test.events if test and test.events is not None else "?"
    rows = test.rows if test else "?"
    method_zh = "保序回归" if meta.calibration.method == "isotonic" else "S形函数拟合"

    def day(x: dt.datetime | None) -> str:
        return "?" if x is None else f"{x:%Y-%m-%d}"

    if zh:
        return [
            {
                "title": "用途",
                "paragraphs": [
                    f"按事发前{horizon}天内发生极端事件（命案、伤害、自伤、纵火等）的校准概率，"
                    "为在办纠纷排序，帮助网格员和督导先关注最可能激化的案件。"
                    "它是辅助研判的工具：每件案件都由人复核，可以调高等级并写明理由。"
                ],
                "items": [],
            },
            {
                "title": "不得用于",
                "paragraphs": [],
                "items": [
                    "未经人工复核对任何人作出决定（个人信息保护法第二十四条：个人有权要求说明，"
                    "并有权拒绝仅通过自动化决策作出的决定）；",
                    "仅凭个人特征预测犯罪或受害、执法、处罚、福利，或排序跟进已登记纠纷以外的用途；",
                    "未经本地重新验证用于其他地区或人群。",
                ],
            },
            {
                "title": "数据与时段",
                "paragraphs": [
                    f"训练 {day(w['train'].start) if 'train' in w else '?'} 至 "
                    f"{day(w['train'].end) if 'train' in w else '?'}，检验 "
                    f"{day(test.start if test else None)} 至 {day(test.end if test else None)}"
                    f"（检验期{rows}个快照，其中{events}个随后发生事件）。"
                    f"训练期事件发生率{pct(base.get('train', 0.0))}，"
                    f"检验期{pct(base.get('test', 0.0))}。",
                ],
                "items": [],
            },
            {
                "title": "模型",
                "paragraphs": [
                    f"当前使用：{kind}。检验期区分能力（AUC）"
                    f"{'未知' if auc is None else f'{auc:.2f}'}。"
                    f"校准方法：{method_zh}。"
                    "分组（性别、年龄段、乡镇、类别）只用于检查结果，从不作为特征；不使用民族与宗教。",
                ],
                "items": [],
            },
            {
                "title": "局限",
                "paragraphs": [],
                "items": [
                    f"极端事件罕见：检验期仅{events}起，区间较宽，"
                    "小组的结果说明不了多少（表中标为“样本不足”）。",
                    "只计入平台记录并关联到纠纷或当事人的事件；未记录的事件看起来像“未发生”。",
                    "模型从过去的处置中学习：得到更多关注的案件可能显得更安全。",
                    "分值描述的是某一天的纠纷，不是一个人的品格；使用前后都要重新验证并关注漂移。",
                ],
            },
        ]
    return [
        {
            "title": "Intended use",
            "paragraphs": [
                "Ranks open disputes by the calibrated probability that an extreme incident "
                f"follows within {horizon} days, so that grid workers and supervisors look first "
                "at the cases most likely to escalate. Decision support: a person reviews "
                "every case, may raise a tier, and records why."
            ],
            "items": [],
        },
        {
            "title": "Must not be used for",
            "paragraphs": [],
            "items": [
                "deciding anything about a person without human review (PIPL art. 24);",
                "predicting crime or victimhood from a profile, policing, sanctions, benefits, "
                "or anything but prioritising follow-up of registered disputes;",
                "other regions or populations without local re-validation.",
            ],
        },
        {
            "title": "Data and windows",
            "paragraphs": [
                f"Trained {day(w['train'].start) if 'train' in w else '?'} to "
                f"{day(w['train'].end) if 'train' in w else '?'}; tested "
                f"{day(test.start if test else None)} to {day(test.end if test else None)} "
                f"({rows} snapshots, "
                f"{events} followed by an incident). Event "
                f"rate: train {pct(base.get('train', 0.0))}, test {pct(base.get('test', 0.0))}.",
            ],
            "items": [],
        },
        {
            "title": "Model",
            "paragraphs": [
                f"Serving: {kind}. Test AUC {'unknown' if auc is None else f'{auc:.2f}'}. "
                f"Calibration: {meta.calibration.method}. Groups (gender, age, township, "
                "category) are reported on, never used as features; no ethnicity or religion.",
            ],
            "items": [],
        },
        {
            "title": "Limits",
            "paragraphs": [],
            "items": [
                f"Extreme incidents are rare: {events} in the "
                "test window, so intervals are wide and small groups say little (marked "
                "“too few events”).",
                "Only incidents recorded and linked to the dispute or its parties count.",
                "The model learns from past handling: cases that got attention may look safer.",
                "Scores describe a dispute at a date, not a person; re-validate and watch drift.",
            ],
        },
    ]


def incidents_by_dispute(ds: Any) -> dict[str, list[Any]]:
    """When each dispute's linked incidents happened."""
    inc = ds.incidents
    out: dict[str, list[Any]] = {}
    for d, at in zip(inc["dispute_id"], inc["occurred_at"], strict=True):
        if d == d and d is not None:  # not NaN
            out.setdefault(str(d), []).append(at)
    return out


def monthly_drift(
    history: Sequence[Mapping[str, Any]],
    incidents_by_dispute: Mapping[str, Sequence[Any]],
    data_end: Any,
    horizon_days: int,
) -> list[dict[str, Any]]:
    """Per month of snapshot runs whose horizon has passed by ``data_end``: cases, mean
    predicted risk and the observed share followed by an incident within the horizon."""
    import pandas as pd

    end = pd.Timestamp(data_end)
    months: dict[str, list[float]] = {}
    for h in history:
        start = pd.Timestamp(h["as_of"])
        stop = start + pd.Timedelta(days=horizon_days)
        if stop > end:
            continue
        times = incidents_by_dispute.get(h["dispute_id"], ())
        hit = any(start < pd.Timestamp(t) <= stop for t in times)
        row = months.setdefault(f"{start:%Y-%m}", [0, 0.0, 0])
        row[0] += 1
        row[1] += float(h["risk"])
        row[2] += hit
    return [
        {"month": m, "n": n, "predicted": p / n, "observed": o / n}
        for m, (n, p, o) in sorted(months.items())
    ]
