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
    "bar_note": ("条长：风险相对本页最高风险", "Bar: risk against the highest on the page"),
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
    "waterfall": ("各因素贡献（数据分析用：SHAP值，对数几率）", "Contributions (SHAP, log-odds)"),
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
    # overview
    "overview": ("全县概览", "County overview"),
    "overview_note": (
        "最新一次快照的在办纠纷，按最终等级（含人工调高）统计；1至4件显示为“<5”，不显示其发生率。",
        "Open cases of the latest snapshot by final tier (raises included); counts of 1 to 4 "
        "read “<5” and their rate is not shown.",
    ),
    "by_township": ("各乡镇/街道", "By township"),
    "by_grid": ("各网格", "By grid"),
    "hot_grids": ("重点网格", "Hot grids"),
    "grids_shown": (
        "显示红橙最多的 {n} 个网格（共 {total} 个）",
        "The {n} grids with most red and orange ({total} in all)",
    ),
    "total": ("合计", "Total"),
    "residents": ("常住人口", "Residents"),
    "rate": ("每千人在办纠纷", "Open cases per 1,000 residents"),
    "trend": ("近12次快照各等级数量", "Tiers over the last 12 snapshots"),
    "cases": ("件", "cases"),
    "overdue": ("超时未签收的红橙预警", "Red and orange warnings not acknowledged in time"),
    "overdue_note": (
        "从首次推送为红色或橙色起计时，至今无人标记已阅。",
        "Counted from the first time the case was pushed as red or orange; nobody has "
        "acknowledged it since.",
    ),
    "not_acked_within": ("超过{h}小时未签收", "not acknowledged within {h} h"),
    "categories": ("主要纠纷类别", "Top categories"),
    "red_orange": ("红橙预警", "Red and orange"),
    "open_queue": ("在队列中查看", "Open in the queue"),
    "heat_by": ("颜色深浅按", "Colour by"),
    "heat_count": ("件数", "count"),
    "heat_rate": ("每千人比率", "rate per 1,000"),
    "export_xlsx": ("导出 Excel", "Export to Excel"),
    "briefing": ("研判报告", "Monthly briefing"),
    # exports
    "risk_pct": ("风险（%）", "Risk (%)"),
    "change_pp": ("较上次（百分点）", "Change (percentage points)"),
    "acknowledged_by": ("签收人", "Acknowledged by"),
    "acknowledged_at": ("签收时间", "Acknowledged at"),
    "export_about": ("导出说明", "About this export"),
    "export_what": ("内容", "Content"),
    "export_at": ("导出时间", "Exported at"),
    "export_by": ("导出人", "Exported by"),
    "export_filter": ("筛选条件", "Filter"),
    "export_note": (
        "含个案信息，仅限工作使用；导出已记入审计日志。",
        "Holds case information for work use only; the export is written to the audit log.",
    ),
    "field": ("项目", "Field"),
    # briefing
    "county": ("全县", "the county"),
    "briefing_title": (
        "{where}矛盾纠纷风险研判报告（{month}）",
        "Dispute risk briefing: {where}, {month}",
    ),
    "briefing_sub": (
        "统计月份：{month}；数据截至：{as_of}。风险分值为辅助研判的参考，处置由人决定。",
        "Month: {month}; data as of {as_of}. Risks inform people's judgement; people decide.",
    ),
    "briefing_warnings": (
        "一、本月新增红橙预警及处置",
        "1. New red and orange warnings and how they were handled",
    ),
    "briefing_warnings_text": (
        "本月新增红色预警{red}件、橙色预警{orange}件；其中已签收{acked}件，已指派调解员{assigned}件，已结案{closed}件；从推送到签收的中位时间为{wait}小时。",
        "{red} new red and {orange} new orange warnings this month; {acked} acknowledged, "
        "{assigned} assigned to a mediator, {closed} closed; median time from warning to "
        "acknowledgement {wait} hours.",
    ),
    "briefing_now": ("二、当前在办情况", "2. Open cases now"),
    "briefing_now_text": (
        "当前在办纠纷{total}件，其中红色{red}件、橙色{orange}件；超过24小时未签收的红色预警{red24}件，超过72小时未签收的橙色预警{orange72}件。",
        "{total} open cases, {red} red and {orange} orange; {red24} red warnings not "
        "acknowledged within 24 hours, {orange72} orange ones not within 72 hours.",
    ),
    "briefing_incidents": ("三、本月发生的极端事件", "3. Extreme incidents this month"),
    "briefing_incidents_text": (
        "本月发生极端事件{n}起，其中{warned}起所涉纠纷在事发前最近一次快照中已为红色或橙色预警。",
        "{n} extreme incidents this month; for {warned} of them the dispute was red or orange "
        "at the last snapshot before.",
    ),
    "new_warnings": (
        "本月新增红橙预警（按等级与风险排序，至多30件）",
        "New red and orange warnings (up to 30)",
    ),
    "incidents_month": ("本月极端事件及事前预警等级", "Incidents this month and the tier before"),
    "tier_before": ("事发前等级", "Tier before"),
    "not_scored": ("未评分", "not scored"),
    "date": ("日期", "Date"),
    "recent_calibration": (
        "模型近期校准（预测风险与实际发生率）",
        "Recent calibration (predicted against observed)",
    ),
    "no_followup": (
        "近期快照尚未满90天观察期，暂无实际发生率；以下为模型检验期的校准。",
        "No recent snapshot has completed its 90-day horizon yet; the model's test-period "
        "calibration is shown instead.",
    ),
    "none_in_month": ("无。", "None."),
    "briefing_foot": (
        "本报告由 riskwarn 生成。件数1至4显示为“<5”。"
        "页面只显示化名编号；生成与下载均记入审计日志。",
        "Made by riskwarn. Counts of 1 to 4 read “<5”. Pseudonymous ids only; making and "
        "downloading it are written to the audit log.",
    ),
    "download_pdf": ("下载PDF", "Download PDF"),
    "print": ("打印", "Print"),
    "month": ("月份", "Month"),
    # queue
    "sort": ("排序", "Sort"),
    "sort_tier": ("按最终等级", "By final tier"),
    "sort_risk": ("按风险", "By risk"),
    "unacked": ("未签收", "Not acknowledged"),
    "unassigned": ("未指派", "Not assigned"),
    "pp": ("个百分点", " pp"),
    # mediators
    "mediators": ("人员名单", "People"),
    "records": ("记录更正", "Records"),
    "mediators_note": (
        "调解员、干部和包案领导的名单由管理员维护（也可用 riskwarn roster load 导入）："
        "预警按等级推送给其中的人，指派案件时只能从服务该网格、乡镇或全县的人员中选择。",
        "Admins keep the list of mediators, officers and county leads (or load it with "
        "riskwarn roster load): warnings are routed to them by tier, and a case is assigned "
        "to someone serving its grid, township or the county.",
    ),
    "add_mediator": ("添加人员", "Add a person"),
    "remove": ("移除", "Remove"),
    "mediator_name": ("姓名", "Name"),
    "no_mediators": (
        "还没有服务本案所在地的人员，请管理员先在“人员名单”页添加。",
        "Nobody on the list serves this case's place yet; an admin adds people on the People page.",
    ),
    "done_mediator_add": ("已添加。", "Added."),
    "done_mediator_remove": ("已移除。", "Removed."),
    "admins_only": ("只有管理员可以维护人员名单。", "Only admins keep the list of people."),
    # the closed loop: a case's warning, the overview's open warnings, the evaluation
    "warning": ("预警闭环", "Warning"),
    "warning_state": ("状态", "State"),
    "owner_level": ("负责层级", "Owning level"),
    "owner": ("负责人", "Owner"),
    "unowned": ("无人负责", "No owner"),
    "issued_at": ("预警时间", "Issued"),
    "deadlines": ("处置时限", "Deadlines"),
    "step": ("环节", "Step"),
    "due": ("期限", "Due"),
    "done_at": ("完成时间", "Done"),
    "step_acknowledge": ("签收", "Acknowledge"),
    "step_first_action": ("首次处置", "First action"),
    "step_revisit": ("回访", "Return visit"),
    "due_on_time": ("按时完成", "on time"),
    "due_late": ("逾期完成", "done late"),
    "due_overdue": ("已超时", "overdue"),
    "due_pending": ("待办", "pending"),
    "warning_events": ("预警经过", "What happened to the warning"),
    "warning_events_note": (
        "与案件平台接口 GET /v1/warnings/{id} 所示的记录相同；评分明显变化时才记一次重新评分。",
        "The same history the API's GET /v1/warnings/{id} gives; a re-score is recorded only "
        "when the score changed materially.",
    ),
    "escalated_times": ("已升级 {n} 次", "escalated {n} times"),
    "reopened_times": ("重新打开 {n} 次", "reopened {n} times"),
    "earlier_warnings": ("此前的预警", "Earlier warnings"),
    "wev_issue": ("发布预警", "Issued"),
    "wev_rescore": ("重新评分", "Re-scored"),
    "wev_acknowledge": ("签收", "Acknowledged"),
    "wev_assign": ("指派", "Assigned"),
    "wev_act": ("处置", "Action"),
    "wev_resolve": ("化解", "Resolved"),
    "wev_revisit": ("回访", "Return visit"),
    "wev_close": ("结案", "Closed"),
    "wev_reopen": ("重新打开", "Reopened"),
    "wev_escalate": ("升级", "Escalated"),
    "wev_raise": ("人工调高等级", "Tier raised by hand"),
    "wev_note": ("备注", "Note"),
    "loop_overview": ("预警闭环：在办与超时", "Warnings: open and overdue"),
    "loop_overview_note": (
        "按预警表统计：在办预警及按路由政策时限超时未签收、未首次处置、未回访的件数（县级以下超时即自动上升一级）。",
        "From the warnings themselves: open warnings, and those past the routing policy's "
        "deadline to acknowledge, to act first, to revisit (overdue ones escalate one level up).",
    ),
    "open_warnings": ("在办预警", "Open"),
    "overdue_acknowledge": ("超时未签收", "Not acknowledged in time"),
    "overdue_first_action": ("超时未处置", "No first action in time"),
    "overdue_revisit": ("超时未回访", "No return visit in time"),
    "no_open_warnings": ("目前没有在办预警。", "No open warnings now."),
    "evaluation": ("闭环评估", "Loop evaluation"),
    "evaluation_note": (
        "按预警发布的月份或季度与等级统计处置过程；极端事件结果在预测期（{days}天）结束后才可知。"
        "更公平的比较（阈值上下的断点回归、分批推行）请用命令 riskwarn evaluate-warnings。",
        "Handling by tier and the month or quarter of issue; outcomes are known once the "
        "{days}-day horizon has passed. For the fairer comparisons (just above and below a "
        "threshold, stepped rollout) run riskwarn evaluate-warnings.",
    ),
    "period": ("统计周期", "Period"),
    "period_month": ("按月", "By month"),
    "period_quarter": ("按季度", "By quarter"),
    "issued": ("发布预警", "Issued"),
    "acknowledged_on_time": ("按时签收", "Acknowledged in time"),
    "acted_on_time": ("按时首次处置", "First action in time"),
    "revisit_rate": ("化解后已回访", "Revisited after resolution"),
    "closed_share": ("已结案", "Closed"),
    "hours_to_acknowledge": ("签收用时中位数（小时）", "Median hours to acknowledge"),
    "hours_to_first_action": ("首次处置用时中位数（小时）", "Median hours to first action"),
    "outcome_known": ("结果已知", "Outcome known"),
    "outcome_events": ("发生极端事件", "Extreme incidents"),
    "outcome_rate": ("发生率（95%区间）", "Rate (95% interval)"),
    "outcomes_by_handling": ("按是否处置的结果", "Outcomes by what was done"),
    "handled": ("有处置记录", "Something done"),
    "not_handled": ("无处置记录", "Nothing recorded"),
    "no_warnings_yet": ("还没有预警。", "No warnings yet."),
    "pending_note": (
        "时限未到、尚在办理中的环节不计入按时比例。",
        "Steps still inside their window are left out of the shares in time.",
    ),
    "open_warning_list": ("在办预警清单", "Open warnings"),
    "due_step": ("待办环节", "Due step"),
    # the one list of people (roster)
    "member_role": ("身份", "Role"),
    "member_role_mediator": ("调解员", "Mediator"),
    "member_role_officer": ("干部/民警", "Officer"),
    "member_role_lead": ("包案领导", "County lead"),
    "grid_optional": ("网格（网格级必填）", "Grid (grid level only)"),
    "county_name": ("县（区）", "County"),
    "reasons_up": ("推高风险的主要因素", "What raises the risk"),
    "reasons_down": ("降低风险的因素", "What lowers the risk"),
    "raises": ("推高风险", "raises the risk"),
    "lowers": ("降低风险", "lowers the risk"),
    "factors_note": (
        "条越长，对风险的影响越大。综合各因素并经校准，本案风险为{risk}。",
        "The longer the bar, the larger the effect. All factors together, calibrated, give "
        "a risk of {risk}.",
    ),
    "explain_view": ("数据分析视图（逐项贡献）", "Data scientist's view (contributions)"),
    "status_open": ("在办（自{since}）", "Open since {since}"),
    "status_closed": ("已结案（{since}）", "Closed on {since}"),
    "closed_no_raise": (
        "本案已结案，不能调高等级；如需重新关注，请先重新受理。",
        "The case is closed; reopen it before raising its tier.",
    ),
    "colon": ("：", ": "),
    "paren_open": ("（", " ("),
    "paren_close": ("）", ")"),
    "older_entries": ("更早的 {n} 条记录", "{n} earlier entries"),
    "danger_level": ("危险等级{n}（最高5级）", "danger level {n} (highest 5)"),
    "drift": ("预测与实际发生率（按月）", "Predicted against observed, by month"),
    "gap": ("差值", "Gap"),
    "no_drift_yet": (
        "已存快照都还没满观察期（评分后须过完整的预测期才能知道是否发生事件），暂无按月对比。",
        "No stored snapshot has completed its horizon yet, so there is no monthly comparison.",
    ),
    "mark_few": ("样本不足", "too few events"),
    "mark_auc": ("区分能力明显偏离整体", "AUC far from the whole"),
    "mark_calibration": ("校准明显偏离", "calibration far off"),
    "groups_note": (
        "事件少于{few}起的分组标为“样本不足”，其数字说明不了多少；"
        "AUC与整体相差超过0.1、或平均预测风险与实际发生率相差一倍以上的分组另行标出。",
        "Levels with fewer than {few} events are marked “too few events”; levels whose AUC is "
        "more than 0.1 from the whole, or whose mean risk and observed rate differ more than "
        "twofold, are marked too.",
    ),
    "card_full": (
        "训练记录中的完整模型说明（英文，供数据分析人员）",
        "The full model card logged with the run",
    ),
    "already_acknowledged": ("已由 {by} 于 {at} 签收", "Acknowledged by {by} at {at}"),
    "done_acknowledge_again": (
        "此前已签收，未重复记录。",
        "Already acknowledged; nothing new recorded.",
    ),
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
