"""The workbench's words: one small table of page labels in Chinese (the default) and
English.

Feature phrases and reasons come from the feature registry (``riskwarn.features.REGISTRY``);
tiers, roles and the contract's enum values from :mod:`riskwarn.vocab`. This table holds
only what the pages themselves say.
"""

from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

# key: (zh, en)
LABELS: dict[str, tuple[str, str]] = {
    "app": ("矛盾纠纷风险预警 · 督导工作台", "Dispute risk early warning · supervisor workbench"),
    "queue": ("风险队列", "Risk queue"),
    "model": ("模型", "Model"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "key": ("访问密钥", "Access key"),
    "key_hint": (
        "请输入督导（supervisor）或管理员（admin）密钥。密钥只用于核对身份，不会保存在浏览器中。",
        "Enter a supervisor or admin key. The key is only checked; the browser never keeps it.",
    ),
    "signed_in_as": ("当前身份", "Signed in as"),
    "as_of": ("数据截至", "As of"),
    "no_snapshot": (
        "还没有风险快照。管理员可调用 POST /v1/snapshot 对在办纠纷评分后再来查看。",
        "No risk snapshot yet. An admin can score open disputes with POST /v1/snapshot.",
    ),
    "rank": ("序", "#"),
    "dispute": ("纠纷编号", "Dispute"),
    "risk": ("风险", "Risk"),
    "tier": ("等级", "Tier"),
    "township": ("乡镇/街道", "Township"),
    "grid": ("网格", "Grid"),
    "category": ("类别", "Category"),
    "days_open": ("在办天数", "Days open"),
    "change": ("较上次", "Change"),
    "bar_note": ("条长：风险相对红色阈值", "Bar: risk against the red threshold"),
    "change_note": (
        "与上一次快照相比的风险变化（百分点）；“新”表示上次快照时尚未在办",
        "Change in risk since the previous snapshot, in percentage points; "
        "“new” means it was not open then",
    ),
    "assignee": ("承办调解员", "Mediator"),
    "acknowledged": ("已阅", "Seen"),
    "notes": ("备注", "Notes"),
    "latest_note": ("最新备注", "Latest note"),
    "all": ("全部", "All"),
    "filter": ("筛选", "Filter"),
    "clear": ("清除", "Clear"),
    "search": ("按纠纷编号查找", "Find by dispute id"),
    "page": ("第 {page} / {pages} 页，共 {total} 件", "Page {page} of {pages}, {total} cases"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "none_match": ("没有符合条件的纠纷。", "No dispute matches these filters."),
    "new": ("新", "new"),
    "raised_by": ("人工调高", "raised by hand"),
    "model_tier": ("模型等级", "Model tier"),
    "model_version": ("模型版本", "Model version"),
    "risk_over_time": ("历次快照风险", "Risk over past snapshots"),
    "reasons": ("主要原因", "Main reasons"),
    "key_facts": ("关键事实（无论评分如何都须查看）", "Key facts (seen whatever the score)"),
    "floors": ("关键事实的最低等级", "Tier floors from key facts"),
    "model_kind": ("模型类型", "Model kind"),
    "floor_by": ("关键事实设定的最低等级", "raised to the floor a key fact sets"),
    "no_reasons": ("没有推高风险的因素。", "Nothing pushes this risk up."),
    "waterfall": ("各因素贡献（SHAP，对数几率）", "Contributions (SHAP, log-odds)"),
    "waterfall_note": (
        "从基准值出发，逐项加上各因素的贡献，得到模型原始得分；再经校准得到风险。",
        "From the base value, each factor's contribution is added to reach the raw model "
        "score; calibration turns that into the risk.",
    ),
    "base_value": ("基准值", "Base value"),
    "other_features": ("其余 {n} 项", "{n} other features"),
    "model_score": ("模型得分", "Model score"),
    "calibrated": ("校准后风险", "Calibrated risk"),
    "timeline": ("案件经过", "Case timeline"),
    "timeline_note": ("仅显示评分时点前已知的记录。", "Only records known at the scoring moment."),
    "people": ("当事人", "People involved"),
    "person": ("人员编号", "Person"),
    "role": ("角色", "Role"),
    "age_band": ("年龄段", "Age"),
    "gender": ("性别", "Gender"),
    "flags": ("重点人群", "Special populations"),
    "network": ("当事人关系网络", "Ties of the parties"),
    "network_note": (
        "实线为当事人之间或与其亲友的关系；红圈表示近180天内涉及极端事件的人员。只显示化名编号。",
        "Lines are known ties; a red ring marks a person in an extreme incident in the past "
        "180 days. Pseudonymous ids only.",
    ),
    "network_more": ("另有 {n} 人未画出", "{n} more people not drawn"),
    "party": ("当事人", "party"),
    "recent_incident": ("近期涉事", "recent incident"),
    "actions": ("处置", "Actions"),
    "acknowledge": ("标记已阅", "Acknowledge"),
    "assign": ("指派调解员", "Assign a mediator"),
    "assign_to": ("调解员姓名", "Mediator's name"),
    "note": ("备注", "Note"),
    "add_note": ("添加备注", "Add a note"),
    "raise_tier": ("调高预警等级", "Raise the tier"),
    "raise_only": (
        "只能调高，不能调低：人工判断可以增加谨慎，不能取消模型的提醒。",
        "Raise only: a person may add caution to the model, never remove it.",
    ),
    "already_top": ("已是最高等级（红色）。", "The case is at the top tier (red) already."),
    "history": ("处置记录", "Action history"),
    "no_actions": ("暂无处置记录。", "No actions yet."),
    "by": ("操作人", "by"),
    "submit": ("提交", "Submit"),
    "model_card": ("模型说明", "Model card"),
    "metrics": ("评估指标", "Metrics"),
    "metrics_intervals": ("评估指标（95% 区间）", "Metrics (95% intervals)"),
    "metric": ("指标", "Metric"),
    "value": ("数值", "Value"),
    "interval": ("95% 区间", "95% interval"),
    "no_intervals": (
        "本模型训练时未做自助抽样（bootstrap = 0），没有区间；请以更多抽样重新训练后再作比较。",
        "This model was trained without bootstrap resamples (bootstrap = 0), so there are no "
        "intervals; retrain with resamples before comparing models.",
    ),
    "calibration": ("校准曲线", "Calibration curve"),
    "calibration_note": (
        "横轴为预测风险，纵轴为实际发生率；越贴近对角线越可信。",
        "Predicted risk against the observed rate; the closer to the diagonal the better.",
    ),
    "predicted": ("预测风险", "Predicted"),
    "observed": ("实际发生率", "Observed"),
    "groups": ("分组结果", "Results by group"),
    "group": ("分组", "Group"),
    "level": ("取值", "Level"),
    "n": ("样本数", "n"),
    "positives": ("发生数", "Positives"),
    "auc": ("AUC", "AUC"),
    "mean_risk": ("平均预测风险", "Mean risk"),
    "observed_rate": ("实际发生率", "Observed rate"),
    "share_red_orange": ("红橙占比", "Share red/orange"),
    "false_positive_rate": ("红橙误报率", "False positive rate (red/orange)"),
    "thresholds": ("分级阈值", "Tier thresholds"),
    "windows": ("训练与检验时段", "Training and test windows"),
    "from": ("起", "From"),
    "to": ("止", "To"),
    "window_train": ("训练", "Training"),
    "window_validation": ("验证（校准与分级）", "Validation (calibration, tiers)"),
    "window_test": ("检验", "Test"),
    "group_gender": ("性别", "Gender"),
    "group_age_band": ("年龄段", "Age band"),
    "group_township": ("乡镇/街道", "Township"),
    "group_category": ("类别", "Category"),
    "registration": ("登记受理", "Registered"),
    "petition": ("信访", "Petition"),
    "repeat": ("重复信访", "repeat"),
    "collective": ("集体信访", "collective"),
    "this_case": ("涉本案", "about this case"),
    "incident": ("极端事件", "Extreme incident"),
    "threat": ("登记时有威胁", "threat at registration"),
    "violence": ("登记时已有暴力", "violence at registration"),
    "weapon": ("提及凶器", "weapon mentioned"),
    "source": ("来源", "Source"),
    "amount": ("涉及金额", "Amount"),
    "not_found": ("找不到该纠纷", "No such dispute"),
    "back": ("返回队列", "Back to the queue"),
    "unknown": ("未知", "unknown"),
    "none": ("无", "none"),
    "yes": ("是", "yes"),
    "signed_out": ("已退出。", "Signed out."),
    "wrong_key": (
        "密钥不正确或已停用，请核对后重新输入，或请管理员重新发放。",
        "This key is wrong or was revoked; check it, or ask an admin for a new one.",
    ),
    "wrong_role": (
        "“{name}”是{role}密钥，只能调用评分接口，不能登录工作台。"
        "请使用督导（supervisor）或管理员（admin）密钥：riskwarn keys create --role supervisor",
        "“{name}” is a {role} key: it may call the scoring API but not open the workbench. "
        "Use a supervisor or admin key (riskwarn keys create --role supervisor).",
    ),
    "done_acknowledge": ("已标记为已阅。", "Marked as seen."),
    "done_assign": ("已指派。", "Assigned."),
    "done_note": ("备注已保存。", "Note saved."),
    "done_raise_tier": ("预警等级已调高。", "Tier raised."),
    "did_acknowledge": ("标记已阅", "Acknowledged"),
    "did_assign": ("指派", "Assigned"),
    "did_note": ("备注", "Note"),
    "did_raise_tier": ("调高等级", "Tier raised"),
    "raise_reason": ("调高理由（必填）", "Why (required)"),
}


def pick_lang(query: str | None, cookie: str | None) -> str:
    """The page language: the query parameter, else the cookie, else Chinese."""
    for value in (query, cookie):
        if value in LANGS:
            return value  # type: ignore[return-value]
    return DEFAULT_LANG


def label(key: str, lang: str, **fields: object) -> str:
    """A page label in ``lang``; ``fields`` fill its ``{placeholders}``."""
    zh, en = LABELS[key]
    text = zh if lang == "zh" else en
    return text.format(**fields) if fields else text
