"""The simulator's Chinese text: place names, dispute summaries and event notes.

All templated and short, and never a person's name: summaries describe the matter
("因借款到期未还发生纠纷") the way a grid worker's entry would.
"""

from __future__ import annotations

import numpy as np

from riskwarn._contract import CATEGORIES, EVENT_KINDS

_COUNTIES = ("青岭县", "安远县", "河西县", "永宁县", "清源县", "石泉县", "长丰县", "平川县")
_PLACES = (
    "城关", "东关", "西关", "南关", "北关", "新华", "和平", "安宁", "永丰", "青石", "柳林",
    "石桥", "大河", "红旗", "金山", "黄土", "清水", "马营", "李家", "王家", "杨柳", "白杨",
    "三岔", "双河", "平安", "兴隆", "太平", "五里", "高台", "龙泉", "古城", "新店",
)  # fmt: skip

_SUMMARIES = {
    "marriage_family": (
        "夫妻因家庭琐事发生争吵",
        "因离婚财产分割产生矛盾",
        "因赡养老人问题发生纠纷",
        "因子女抚养问题发生争执",
        "因彩礼返还问题产生纠纷",
        "因家庭暴力求助",
    ),
    "neighbor": (
        "因噪音扰民引发邻里矛盾",
        "因排水问题产生纠纷",
        "因房屋漏水发生争执",
        "因公共通道堆放杂物发生矛盾",
        "因饲养家禽影响邻居产生纠纷",
    ),
    "debt": (
        "因借款到期未还发生纠纷",
        "因民间借贷利息产生争议",
        "因担保债务发生纠纷",
        "因货款拖欠产生纠纷",
    ),
    "land_property": (
        "因土地承包经营权发生争议",
        "因征地补偿款分配产生矛盾",
        "因宅基地界线发生争执",
        "因房屋继承问题发生纠纷",
        "因林地权属产生争议",
    ),
    "labor_wage": (
        "工人讨要拖欠工资",
        "因工伤赔偿发生争议",
        "因解除劳动关系发生纠纷",
        "农民工讨薪",
    ),
    "medical": ("因治疗效果不满发生医疗纠纷", "因医疗费用产生争议", "患者家属对诊疗过程有异议"),
    "property_management": (
        "业主与物业因收费发生纠纷",
        "因小区停车问题产生矛盾",
        "因电梯维修问题发生争议",
    ),
    "contract": (
        "因房屋租赁合同发生纠纷",
        "因买卖合同履行产生争议",
        "因装修工程款产生纠纷",
        "因承包合同发生争议",
    ),
    "other": (
        "因交通事故赔偿发生纠纷",
        "因琐事发生口角",
        "因网络购物产生纠纷",
        "因损坏财物发生争执",
    ),
}

_NOTES = {
    "visit": ("网格员入户走访", "电话回访当事人", "走访了解情况"),
    "mediation_attempt": ("组织双方调解", "村（社区）调委会调解", "综治中心组织调解"),
    "mediation_success": ("达成调解协议", "双方同意和解"),
    "mediation_failure": ("调解未成功，双方分歧较大", "一方拒绝调解"),
    "escalation": ("上报乡镇综治中心", "上报县级综治中心", "列为重点关注"),
    "threat": ("一方扬言报复", "当事人情绪激动，有过激言语"),
    "police_call": ("110出警处置", "派出所民警到场"),
    "referral": ("引导至法院诉讼", "移交司法所", "移交劳动监察", "转信访部门"),
    "closed": ("案件办结", "已化解，办结"),
    "reopened": ("矛盾反复，重新受理",),
}  # fmt: skip


def county_name(rng: np.random.Generator) -> str:
    return str(_COUNTIES[rng.integers(len(_COUNTIES))])


def township_names(rng: np.random.Generator, n: int, n_urban: int) -> list[str]:
    """Distinct township names; the first ``n_urban`` are urban sub-districts (街道)."""
    pool = list(_PLACES)
    order = rng.permutation(len(pool))
    names = []
    for i in range(n):
        base = pool[order[i % len(pool)]] + ("" if i < len(pool) else str(i // len(pool) + 1))
        names.append(base + ("街道" if i < n_urban else ("镇" if i % 3 else "乡")))
    return names


def summaries(
    rng: np.random.Generator,
    category: np.ndarray,
    threat: np.ndarray,
    violence: np.ndarray,
    weapon: np.ndarray,
    n_claimants: np.ndarray,
    amount: np.ndarray,
) -> np.ndarray:
    """One templated summary per dispute (about 10% left empty, as workers leave them)."""
    n = category.size
    out = np.empty(n, dtype=object)
    for c, name in enumerate(CATEGORIES):
        m = np.flatnonzero(category == c)
        choices = np.asarray(_SUMMARIES[name], dtype=object)
        out[m] = choices[rng.integers(0, choices.size, m.size)]
    text = out.astype(str).astype(object)
    many = n_claimants >= 5
    text[many] = text[many] + "，涉及群众" + n_claimants[many].astype(str).astype(object) + "人"
    has_amount = ~np.isnan(amount)
    wan = np.round(amount[has_amount] / 10000.0, 1).astype(str).astype(object)
    text[has_amount] = text[has_amount] + "，涉及金额约" + wan + "万元"
    text[violence] = text[violence] + "，已发生肢体冲突"
    text[threat] = text[threat] + "，一方扬言报复"
    text[weapon] = text[weapon] + "，提及持刀等器械"
    text = text + "。"
    text[rng.random(n) < 0.1] = None
    return text


def notes(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    """A short note per event (about a quarter left empty)."""
    out = np.empty(kind.size, dtype=object)
    for k, name in enumerate(EVENT_KINDS):
        m = np.flatnonzero(kind == k)
        choices = np.asarray(_NOTES[name], dtype=object)
        out[m] = choices[rng.integers(0, choices.size, m.size)]
    out[rng.random(kind.size) < 0.25] = None
    return out
