"""The feature registry: every feature declared once, with its words in English and Chinese.

Explanations, docs (docs/features.md) and pages read from here; the builder emits columns
in registry order. The declarations themselves live in ``_specs.py``; this module looks
them up by name, phrases values as reasons and writes the docs.
"""

from __future__ import annotations

import difflib
import hashlib
import math
from collections.abc import Iterable, Iterator
from pathlib import Path

from riskwarn import vocab
from riskwarn._contract import CATEGORIES

from ._facts import FACTS
from ._phrases import phrase
from ._specs import DTYPES, GROUPS, FeatureSpec, all_specs

DEFINITIONS_VERSION = "features-2"
"""Bump when a feature keeps its name and type but changes what it computes."""

LANGS = ("en", "zh")


class FeatureRegistry:
    """An ordered, read-only collection of :class:`FeatureSpec`, looked up by name."""

    def __init__(self, specs: Iterable[FeatureSpec]) -> None:
        self._specs = tuple(specs)
        self._by_name = {s.name: s for s in self._specs}
        if len(self._by_name) != len(self._specs):
            raise ValueError("feature names must be unique")
        bad = [s.name for s in self._specs if s.group not in GROUPS or s.dtype not in DTYPES]
        if bad:
            raise ValueError(f"features with unknown group or dtype: {bad}")

    def __iter__(self) -> Iterator[FeatureSpec]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def groups(self) -> tuple[str, ...]:
        return GROUPS

    def names(self, groups: Iterable[str] | str | None = None) -> list[str]:
        """Feature names in registry order, optionally only those of ``groups``."""
        if groups is None:
            return [s.name for s in self._specs]
        wanted = {groups} if isinstance(groups, str) else set(groups)
        unknown = wanted - set(GROUPS)
        if unknown:
            raise KeyError(
                f"unknown feature groups {sorted(unknown)}; expected some of {list(GROUPS)}"
            )
        return [s.name for s in self._specs if s.group in wanted]

    def get(self, name: str) -> FeatureSpec:
        """The spec called ``name``; an unknown name suggests the close ones."""
        try:
            return self._by_name[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._by_name), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise KeyError(
                f"no feature called {name!r} in registry {REGISTRY_VERSION}.{hint}"
            ) from None

    def reason(self, name: str, value: object, lang: str = "zh") -> str:
        """``value`` of feature ``name`` phrased as a reason a supervisor reads aloud, e.g.
        "近30天调解失败3次", "18小时前有威胁", "涉及金额约1.6万元". A zero count or an absent
        flag reads as an absence ("尚无威胁记录"), never as a count of nothing."""
        if lang not in LANGS:
            raise ValueError(f"expected lang 'zh' or 'en', got {lang!r}")
        spec = self.get(name)
        zh = lang == "zh"
        if _missing(value):
            text = spec.reason_missing_zh if zh else spec.reason_missing_en
            if text:
                return text
            return f"{spec.description_zh}未知" if zh else f"{spec.description_en}: unknown"
        if spec.dtype == "bool":
            if bool(value):
                return spec.reason_zh if zh else spec.reason_en
            return _absence(spec, zh)
        label = ""
        if spec.dtype == "category":
            label = _category_label(spec, str(value), zh)
            number = str(value)
        elif self.absent(name, value) and (spec.reason_false_en or spec.dtype == "int"):
            return _absence(spec, zh)
        elif spec.labels_en:
            i = int(value)  # type: ignore[call-overload]
            labels = spec.labels_zh if zh else spec.labels_en
            label = labels[i] if 0 <= i < len(labels) else str(i)
            number = str(i)
        elif spec.unit:
            number, label = phrase(spec.unit, float(value), zh)  # type: ignore[arg-type]
        else:
            number = _format_number(value)
        plural = "" if number == "1" else "s"
        template = spec.reason_zh if zh else spec.reason_en
        return template.format(
            value=number, s=plural, label=label, parties="party" if number == "1" else "parties"
        )

    def absent(self, name: str, value: object) -> bool:
        """Whether ``value`` says that nothing of the kind is there (unknown, a zero count,
        a false flag, no incident within reach). Such a value may explain a lower risk but
        is never offered as a reason for a higher one."""
        spec = self.get(name)
        if _missing(value):
            return True
        if spec.dtype == "bool":
            return not bool(value)
        if spec.dtype == "category":
            return False
        if spec.absent_at is not None:
            return float(value) == spec.absent_at  # type: ignore[arg-type]
        return spec.dtype == "int" and float(value) == 0  # type: ignore[arg-type]

    def to_markdown(self) -> str:
        """The registry as the Markdown of docs/features.md."""
        lines = [
            "# Features",
            "",
            "Generated from `riskwarn.features.REGISTRY` by `write_feature_docs()`; do not edit.",
            f"Registry version `{REGISTRY_VERSION}` "
            f"(definitions `{DEFINITIONS_VERSION}`), {len(self)} features.",
            "",
            *_RULES,
        ]
        for group in GROUPS:
            specs = [s for s in self._specs if s.group == group]
            lines += [
                "",
                f"## {group} ({len(specs)})",
                "",
                "| name | type | window | direction | description | 说明 | reason (en) "
                "| 解释 (zh) |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for s in specs:
                dtype = f"category: {', '.join(s.categories)}" if s.categories else s.dtype
                window = f"{s.window}d" if s.window else ""
                lines.append(
                    f"| `{s.name}` | {dtype} | {window} | {_DIRECTION[s.direction]} | "
                    f"{s.description_en} | {s.description_zh} | {_example(self, s, 'en')} | "
                    f"{_example(self, s, 'zh')} |"
                )
        lines += ["", *_FACT_RULES, "", "| code | meaning | 说明 | text (en) | 文本 (zh) |"]
        lines.append("|---|---|---|---|---|")
        for f in FACTS:
            lines.append(
                f"| `{f.code}` | {f.description_en} | {f.description_zh} | {f.text_en} "
                f"| {f.text_zh} |"
            )
        return "\n".join(lines) + "\n"

    def directions(self, names: Iterable[str]) -> list[int]:
        """The declared direction (+1, -1, 0) of each of ``names``; 0 for a name the
        registry does not hold (e.g. another table's column)."""
        return [self._by_name[n].direction if n in self._by_name else 0 for n in names]


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pd.NA compare unequal / raise
    except (TypeError, ValueError):
        return True


def _absence(spec: FeatureSpec, zh: bool) -> str:
    text = spec.reason_false_zh if zh else spec.reason_false_en
    return text or (f"无{spec.description_zh}" if zh else f"no {spec.description_en.lower()}")


def _format_number(value: object) -> str:
    x = float(value)  # type: ignore[arg-type]
    if math.isfinite(x) and x == round(x):
        return str(round(x))
    return f"{x:.1f}" if abs(x) >= 1 else f"{x:.2f}"


def _category_label(spec: FeatureSpec, value: str, zh: bool) -> str:
    if not zh:
        return value.replace("_", " ")
    return vocab.label("category" if spec.categories == CATEGORIES else "source", value, "zh")


def _example(registry: FeatureRegistry, spec: FeatureSpec, lang: str) -> str:
    value: object
    if spec.dtype == "bool":
        value = True
    elif spec.dtype == "category":
        value = spec.categories[0]
    elif spec.labels_en:
        value = 3
    else:
        value = 3
    return registry.reason(spec.name, value, lang).replace("|", "/")


_DIRECTION = {1: "+1 ↑", -1: "−1 ↓", 0: "0"}

_FACT_RULES = [
    "## Key facts",
    "",
    "Facts a supervisor must see beside a score whatever the model says, declared once in"
    " `riskwarn.features.FACTS` and computed point-in-time by the same three paths as the"
    " features (`FeatureBuilder.facts`, `facts_for`, `facts_for_case`) from the same index:"
    " only records dated at or before `as_of` count. Each fact reads with its actual values"
    " (`{n}`: how many, `{date}`: the latest, as `YYYY-MM-DD`) and carries `at`, the moment"
    " of its latest record. An experiment config may set a tier floor per fact"
    " (`[tiers.floors]`); the model card states them.",
]

_RULES = [
    "## Rules every feature follows",
    "",
    "- **Point in time.** The features of `(dispute, as_of)` use only rows whose own"
    " timestamp is at or before `as_of`; ends (`until`, `end_date`) count only once passed."
    " Appending rows dated later changes nothing (tests/features prove it).",
    "- **Ends, by the day.** Both ends are dates and are judged by the calendar day of"
    " `as_of`, so its time of day never matters. A special-population flag is active from"
    " its `start_date` through its `end_date` (the contract: no longer under management"
    " *after* that day, so at 12:00 on `end_date` it still counts). A tie counts from its"
    " `since` day up to the day before its `until` (the day it ended: a divorce on day D"
    " ends `spouse` and starts `former_spouse` on D, with no overlap).",
    "- **Three graphs.** The *relationship graph* links two people while a tie between"
    " them is active; the *co-involvement graph* links two people once they have been"
    " parties of the same dispute (such links never end); the *people graph* is their"
    " union. Component size, core number and PageRank are computed in each"
    " (`graph_*` in the people graph, `graph_ties_*`, `graph_co_*`); neighbours are counted"
    " in each (`graph_neighbors`, `graph_ties_neighbors`, `graph_co_parties`); hops and"
    " exposure to incidents use the people graph.",
    "- **Graph day.** Every *graph* and *area* feature is computed on the world as it stood"
    " at `as_of` normalised to midnight (for the monthly grid that is `as_of` itself):"
    " relationship ties with `since` empty or at or before that midnight and `until` empty"
    " or after it, plus co-involvement links of disputes reported at or before that"
    " midnight.",
    "- **How the graphs are built.** Not from nothing for every date: the builder sweeps"
    " forward in time, adding the ties and co-involvement links each period brings and"
    " removing ties that ended (a count of active reasons per pair), and caches a few days;"
    " going back in time restarts the sweep. Each day's adjacency is a mask over every pair"
    " ever linked, laid out once. Components come from scipy's `connected_components` on"
    " small quotient graphs: the ties that hold on every day are joined once, a day's other"
    " ties merge their components, and co-involvement links merge those into the people"
    " graph's. Core numbers (by peeling) and PageRank are local to a component (PageRank"
    " with teleport over the linked people, scaled by their number, is the component's size"
    " times its own PageRank), so they are computed only for components that hold a party"
    " asked about, and carried over from the previous day for every component whose links"
    " did not change. PageRank is solved as the linear system it is (`y = 0.85 A D^-1 y +"
    " 0.15` per component): directly for components of up to 2,000 people, by conjugate"
    " gradients (degrees as preconditioner) for larger ones, to an error below"
    " `6.7e-9 x sqrt(degree)`, far inside the 4 decimals kept. Hops to recent incidents are"
    " a breadth-first search from the incidents' people, three hops deep; neighbour counts"
    " are gathers over the parties' rows, for all the cases of a day at once. On a machine"
    " with two or more cores the three graphs of a day are measured side by side on"
    " threads, and a batch (`riskwarn features`, `transform`) builds the graph days on a"
    " second thread while the case features are built: scipy's sparse products and numpy's"
    " large array operations let go of Python's lock, so the second core does real work;"
    " the values are the same. Scoring one case never starts a thread: its components are"
    " already measured. networkx is"
    " the reference: the values equal networkx's `connected_components`, `core_number` and"
    " `pagerank` (PageRank rounded the same way), which `tests/features/test_graph.py`"
    " checks person by person on random graphs and on a simulated county, over many dates"
    " of one sweep. At 1,000,000 people over 3 years snapshots and features take 60-70 s"
    " on 2 cores (90-100 s of CPU) and under 3.6 GiB (`benchmarks/features_bench.py`),"
    " where rebuilding the graphs per date with networkx would take hours.",
    "- **Own case excluded.** Counts of other disputes, pairs, open disputes nearby and"
    " neighbours exclude the dispute itself, and hops are measured from the set of its"
    " parties, so a case scores the same whether or not the dataset already holds it.",
    "- **Combining parties.** Person-level values are combined over the parties with"
    " max/min/sum as the name says, so a case with any number of parties fits.",
    "- **Debt ties.** `creditor_debtor` ties have no direction in the contract; they are"
    " counted as debt ties of either person.",
    "- **PageRank** is computed (alpha 0.85) in each graph on the people with at least one"
    " link in it that day, multiplied by their number (1 = average) and rounded to 4"
    " decimals; people with no link score 0. **Core number** is the k-core number in the"
    " same graph. A component size sums the distinct components of the parties; a party"
    " the graph does not hold yet (a new person) counts as a component of one.",
    "- **Area rates** are per 1,000 residents over the 365 days up to the graph day"
    " (population from `grids.population`, else residents in `persons`, counting the new"
    " people of a new case), shrunk toward the rate of their county (`grids.county`; a"
    " township's county is its grids') by Marshall's global empirical-Bayes estimator"
    " applied within each county; areas with no county given are shrunk toward the pooled"
    " rate of all areas. A township is known by its county and name. An incident belongs"
    " to the grid of its dispute when that dispute is known, else to the residence grid of"
    " its first perpetrator (by person id), else of its first person.",
    "- **Three paths, one implementation.** `build_features`, `FeatureBuilder.features_for`"
    " (a held case) and `FeatureBuilder.features_for_case` (a case given as rows, possibly"
    " with new people) run the same functions and give the same values. A new case reported"
    " before the graph day's midnight joins that day's graphs and area counts; one reported"
    " on the day itself is not in that day's graphs yet. Joining changes only the parties'"
    " components: links among the parties leave their neighbours, hops and exposure as they"
    " were; the merged component's core numbers are updated link by link (the exact"
    " insertion rule of Saríyüce et al., 2013) and its PageRank solved again from the day's"
    " values. So a new case costs milliseconds unless its links reach into a component of"
    " millions, whose PageRank is global by nature.",
    "- **Primary party** (for `snapshot_groups`, not a feature): the respondent with the"
    " smallest person id, else the party with the smallest person id.",
    "- Ethnicity and religion are never used (the contract holds neither).",
    "- **Direction.** Where the field knows which way a feature moves risk (threats,"
    " violence, weapons, failed mediations, escalations, police calls, earlier incidents"
    " between the parties or of a party, exposure to recent incidents, danger levels,"
    " petitions climbing, debt ties, separations), the feature declares it: +1 means risk"
    " may only rise with the feature, -1 only fall (days since the last threat, escalation"
    " or incident); 0 means either. Training passes the directions to LightGBM as monotone"
    " constraints and to the logistic regression as sign constraints, so a case with more"
    " threats never scores lower than the same case with fewer.",
]


def _version(specs: Iterable[FeatureSpec]) -> str:
    h = hashlib.sha256(DEFINITIONS_VERSION.encode())
    for s in specs:
        h.update(f"{s.name}|{s.dtype}|{','.join(s.categories)}\n".encode())
    return h.hexdigest()[:12]


REGISTRY = FeatureRegistry(all_specs())
REGISTRY_VERSION = _version(REGISTRY)


def write_feature_docs(path: str | Path = "docs/features.md") -> Path:
    """Write the registry as Markdown to ``path`` (docs/features.md) and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(REGISTRY.to_markdown(), encoding="utf-8")
    return out
