"""Key facts: what a supervisor must see beside a score, whatever the model says.

A fact is declared once in :data:`FACTS` (code, what it means, and zh/en templates that
carry the actual values), and computed point-in-time from the same :class:`Index` and
:class:`Case` the features use: only rows dated at or before ``as_of`` count, so rows
added later change nothing. :func:`case_facts` is the one implementation; the builder's
three paths (snapshots, a held case, a case given as rows) call it.

    >>> [f.code for f in case_facts(index, case, t)]          # doctest: +SKIP
    ['pair_incident', 'threat_7d']
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import pandas as pd

from riskwarn import vocab
from riskwarn._contract import EVENT_KINDS, FLAGS, INCIDENT_KINDS

from ._features import Case
from ._index import NS_DAY, Index

_THREAT = EVENT_KINDS.index("threat")
_PERPETRATOR, _VICTIM = 0, 1
_KILLING = frozenset(INCIDENT_KINDS.index(k) for k in ("homicide", "attempted_homicide"))
_CORRECTION = FLAGS.index("community_correction")
_RELEASED = FLAGS.index("released_prisoner")

RECENT_INCIDENT_DAYS = 180
THREAT_DAYS = 7
DANGER_LEVEL = 3
RELEASE_DAYS = 365


@dataclass(frozen=True)
class FactSpec:
    """One key fact: its code, what it means, and how it reads with its values.

    ``text_en``/``text_zh`` are ``str.format`` templates over the values the fact's
    function finds (e.g. ``n``, ``date``, ``kinds``).
    """

    code: str
    description_en: str
    description_zh: str
    text_en: str
    text_zh: str


@dataclass(frozen=True)
class KeyFact:
    """A fact found for one case at one moment: its code, the sentence in Chinese and
    English with the actual values, and when the fact happened (the latest record)."""

    code: str
    text_zh: str
    text_en: str
    at: pd.Timestamp

    def to_dict(self) -> dict[str, str]:
        """Plain JSON: ``{code, text_zh, text_en, at}`` with ``at`` as ``YYYY-MM-DDTHH:MM:SS``."""
        return {
            "code": self.code,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
            "at": self.at.isoformat(timespec="seconds"),
        }


FACTS: tuple[FactSpec, ...] = (
    FactSpec(
        "pair_homicide",
        "An earlier homicide or attempted homicide involved two of the parties",
        "当事人之间曾发生命案或杀人未遂",
        "{n} homicide{s} or attempted homicide{s} between the parties, the latest on {date}",
        "双方之间已发生命案或杀人未遂{n}起，最近一次在{date}",
    ),
    FactSpec(
        "pair_incident",
        "An earlier extreme incident involved two of the parties",
        "当事人之间曾发生极端事件",
        "{n} extreme incident{s} between the parties ({kinds_en}), the latest on {date}",
        "双方之间已发生极端事件{n}起（{kinds_zh}），最近一次在{date}",
    ),
    FactSpec(
        "party_incident_180d",
        f"A party was perpetrator or victim of an extreme incident in the last "
        f"{RECENT_INCIDENT_DAYS} days",
        f"近{RECENT_INCIDENT_DAYS}天有当事人作为行为人或受害人涉及极端事件",
        f"a party was {{roles_en}} of {{n}} extreme incident{{s}} in the last "
        f"{RECENT_INCIDENT_DAYS} days ({{kinds_en}}), the latest on {{date}}",
        f"近{RECENT_INCIDENT_DAYS}天有当事人作为{{roles_zh}}涉及极端事件{{n}}起（{{kinds_zh}}），"
        "最近一次在{date}",
    ),
    FactSpec(
        "weapon_mentioned",
        "A weapon was mentioned at registration",
        "登记时提及凶器",
        "a weapon was mentioned when the dispute was registered on {date}",
        "{date}登记时提及凶器",
    ),
    FactSpec(
        "threat_7d",
        f"A threat in the last {THREAT_DAYS} days (recorded at registration or as an event)",
        f"近{THREAT_DAYS}天有威胁（登记时记录或事件记录）",
        f"{{n}} threat{{s}} in the last {THREAT_DAYS} days ({{where_en}}), the latest on {{date}}",
        f"近{THREAT_DAYS}天有威胁{{n}}次（{{where_zh}}），最近一次在{{date}}",
    ),
    FactSpec(
        "danger_level_3",
        f"A party is under management at danger level {DANGER_LEVEL} or more",
        f"有当事人在管且危险等级{DANGER_LEVEL}级及以上",
        "a party is under management for {flag_en} at danger level {level} since {date}",
        "有当事人为在管{flag_zh}，危险等级{level}级，自{date}起",
    ),
    FactSpec(
        "released_or_correction_1y",
        "A party was released from prison or was in community correction within the last year",
        "有当事人一年内刑满释放或处于社区矫正",
        "a party {what_en}",
        "有当事人{what_zh}",
    ),
)
"""Every key fact, in the order they are shown (most serious first)."""

FACT_CODES: tuple[str, ...] = tuple(f.code for f in FACTS)
_BY_CODE = {f.code: f for f in FACTS}


def fact_spec(code: str) -> FactSpec:
    """The declaration of fact ``code``; an unknown code suggests the close ones."""
    try:
        return _BY_CODE[code]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(code, FACT_CODES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else f" Known: {', '.join(FACT_CODES)}."
        raise KeyError(f"no key fact called {code!r}.{hint}") from None


def _fact(code: str, at: int, **values: object) -> KeyFact:
    spec = _BY_CODE[code]
    stamp = pd.Timestamp(at)
    values = {"date": f"{stamp:%Y-%m-%d}", "s": "" if values.get("n", 1) == 1 else "s", **values}
    return KeyFact(code, spec.text_zh.format(**values), spec.text_en.format(**values), stamp)


def _kinds(kinds: list[int], lang: str) -> str:
    seen = sorted(set(kinds))
    words = [vocab.label("incident_kind", INCIDENT_KINDS[k], lang) for k in seen]
    return ("、" if lang == "zh" else ", ").join(
        words if lang == "zh" else [w.lower() for w in words]
    )


def _incidents(index: Index, case: Case, t: int) -> dict[int, tuple[int, set[int], set[int]]]:
    """Incidents at or before ``t`` that involved a party: ``{incident: (time, parties,
    roles of the parties)}``."""
    out: dict[int, tuple[int, set[int], set[int]]] = {}
    pi = index.person_incidents
    times, roles, incidents = pi.lists["time"], pi.lists["role"], pi.lists["incident"]
    for p in case.parties:
        if p.node < 0:
            continue
        a, b = pi.rows(p.node)
        for i in range(a, bisect.bisect_right(times, t, a, b)):
            _, people, rs = out.setdefault(incidents[i], (times[i], set(), set()))
            people.add(p.node)
            rs.add(roles[i])
    return out


def _incident_facts(index: Index, case: Case, t: int) -> list[KeyFact]:
    found = _incidents(index, case, t)
    out: list[KeyFact] = []
    pair = {i: time for i, (time, people, _) in found.items() if len(people) >= 2}
    killing = {i: tm for i, tm in pair.items() if index.incident_kind[i] in _KILLING}
    if killing:
        out.append(_fact("pair_homicide", max(killing.values()), n=len(killing)))
    if pair:
        kinds = [int(index.incident_kind[i]) for i in pair]
        out.append(
            _fact(
                "pair_incident",
                max(pair.values()),
                n=len(pair),
                kinds_en=_kinds(kinds, "en"),
                kinds_zh=_kinds(kinds, "zh"),
            )
        )
    lo = t - RECENT_INCIDENT_DAYS * NS_DAY
    recent = {
        i: (tm, rs & {_PERPETRATOR, _VICTIM})
        for i, (tm, _, rs) in found.items()
        if tm > lo and rs & {_PERPETRATOR, _VICTIM}
    }
    if recent:
        roles = sorted(set().union(*(rs for _, rs in recent.values())))
        kinds = [int(index.incident_kind[i]) for i in recent]
        out.append(
            _fact(
                "party_incident_180d",
                max(tm for tm, _ in recent.values()),
                n=len(recent),
                roles_en=" or ".join(("perpetrator", "victim")[r] for r in roles),
                roles_zh="或".join(("行为人", "受害人")[r] for r in roles),
                kinds_en=_kinds(kinds, "en"),
                kinds_zh=_kinds(kinds, "zh"),
            )
        )
    return out


def _case_facts(case: Case, t: int) -> list[KeyFact]:
    out: list[KeyFact] = []
    if case.weapon:
        out.append(_fact("weapon_mentioned", case.reported))
    lo = t - THREAT_DAYS * NS_DAY
    k = bisect.bisect_right(case.event_time, t)
    events = [
        tm
        for tm, kind in zip(case.event_time[:k], case.event_kind[:k], strict=True)
        if kind == _THREAT
    ]
    recent = [tm for tm in events if tm > lo]
    at_registration = case.threat and lo < case.reported <= t
    n = len(recent) + at_registration
    if n:
        where = [("at registration", "登记时")] if at_registration else []
        where += [("recorded as an event", "事件记录")] if recent else []
        out.append(
            _fact(
                "threat_7d",
                max([*recent, case.reported if at_registration else lo]),
                n=n,
                where_en=" and ".join(w[0] for w in where),
                where_zh="、".join(w[1] for w in where),
            )
        )
    return out


def _flag_facts(index: Index, case: Case, t: int) -> list[KeyFact]:
    """Danger level from flags active at ``t`` (as the features read them: started by
    ``t``, ``end_date`` not before its day); release or correction within the last year."""
    day = t - t % NS_DAY
    year_ago = day - RELEASE_DAYS * NS_DAY
    cols = index.flags.lists
    starts, ends, flags, levels = cols["start"], cols["end"], cols["flag"], cols["level"]
    danger: tuple[float, int, int] | None = None  # (level, start, flag): highest, latest
    release: tuple[int, int] | None = None  # (time, what): the latest
    for p in case.parties:
        if p.node < 0:
            continue
        a, b = index.flags.rows(p.node)
        for i in range(a, b):
            if starts[i] > t:
                continue
            lv, flag = levels[i], flags[i]
            if ends[i] >= day and lv == lv and lv >= DANGER_LEVEL:
                key = (float(lv), starts[i], flag)
                danger = key if danger is None or key > danger else danger
            if flag == _RELEASED and starts[i] > year_ago:
                seen = (starts[i], 0)
            elif flag == _CORRECTION and ends[i] >= year_ago:
                seen = (ends[i], 1) if ends[i] < day else (starts[i], 2)
            else:
                continue
            release = seen if release is None or seen > release else release
    out: list[KeyFact] = []
    if danger is not None:
        level, start, flag = danger
        out.append(
            _fact(
                "danger_level_3",
                start,
                level=f"{level:g}",
                flag_en=vocab.label("flag", FLAGS[flag], "en").lower(),
                flag_zh=vocab.label("flag", FLAGS[flag], "zh"),
            )
        )
    if release is not None:
        at, what = release
        en, zh = _RELEASE_WORDS[what]
        date = f"{pd.Timestamp(at):%Y-%m-%d}"
        out.append(
            _fact(
                "released_or_correction_1y",
                at,
                what_en=en.format(date=date),
                what_zh=zh.format(date=date),
            )
        )
    return out


_RELEASE_WORDS = (
    ("was released from prison on {date}", "于{date}刑满释放"),
    ("ended community correction on {date}", "于{date}结束社区矫正"),
    ("has been in community correction since {date}", "自{date}起处于社区矫正"),
)


def case_facts(index: Index, case: Case, t: int) -> list[KeyFact]:
    """Every key fact of ``case`` at ``t`` (ns), in the order of :data:`FACTS`."""
    found = [*_incident_facts(index, case, t), *_case_facts(case, t), *_flag_facts(index, case, t)]
    order = {c: i for i, c in enumerate(FACT_CODES)}
    return sorted(found, key=lambda f: order[f.code])
