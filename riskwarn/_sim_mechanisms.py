"""The simulator's mechanism strengths as one strict, typed configuration.

Every number the simulated world turns on (how much a threat, a weapon, a failed mediation
or exposure to a recent incident raises the hazard of an extreme incident; how often
disputes of each kind arise; how diligently grids record) is a field here, documented
where it is declared. The defaults are the simulator's own world (docs/simulator.md); a
TOML file overrides any of them, so models can be checked on a world nobody tuned them on::

    [hazard]
    threat_at_registration = 0.45
    exposure = 0.8

    [disputes.category_share]
    debt = 0.2
    neighbor = 0.14

Unknown keys are refused with a suggestion, as in every riskwarn configuration.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from riskwarn._contract import CATEGORIES, FLAGS
from riskwarn.errors import ConfigError

_STRICT = ConfigDict(extra="forbid", frozen=True)

# a category of the contract's ``disputes.category`` (a tuple subscript is Literal's list)
Category = Literal[CATEGORIES]  # type: ignore[valid-type]


class PerCategory(BaseModel):
    """One number per dispute category (the contract's ``disputes.category`` values)."""

    model_config = _STRICT

    marriage_family: float = Field(description="Marriage and family (婚姻家庭).")
    neighbor: float = Field(description="Neighbours (邻里).")
    debt: float = Field(description="Debt (债务).")
    land_property: float = Field(description="Land and property (土地房产).")
    labor_wage: float = Field(description="Labour and wages (劳资).")
    medical: float = Field(description="Medical (医疗).")
    property_management: float = Field(description="Property management (物业).")
    contract: float = Field(description="Contract (合同).")
    other: float = Field(description="Other (其他).")

    def values(self) -> list[float]:
        """The numbers in the contract's order of categories."""
        return [getattr(self, c) for c in CATEGORIES]


class PerTieKind(BaseModel):
    """Log-hazard term of the tie a dispute arose from (0 for kinds not listed)."""

    model_config = _STRICT

    spouse: float = Field(0.2, description="A dispute between spouses.")
    former_spouse: float = Field(0.6, description="Former spouses: a high-risk tie (domain.md).")
    partner: float = Field(0.4, description="Unmarried partners.")
    parent_child: float = Field(0.0, description="Parent and child.")
    sibling: float = Field(0.0, description="Siblings.")
    relative: float = Field(0.0, description="Other relatives.")
    neighbor: float = Field(0.0, description="Neighbours.")
    colleague: float = Field(0.0, description="Colleagues.")
    creditor_debtor: float = Field(0.2, description="Creditor and debtor.")
    landlord_tenant: float = Field(0.0, description="Landlord and tenant.")
    other: float = Field(0.0, description="Employer and worker, acquaintances.")


class FlagScores(BaseModel):
    """A person's flag score: the sum over their active special-population flags."""

    model_config = _STRICT

    severe_mental_disorder: tuple[float, float, float, float, float, float] = Field(
        (0.2, 0.35, 0.6, 1.0, 1.4, 1.8),
        description="Severe mental disorder, by its 0-5 danger level.",
    )
    community_correction: float = Field(0.4, description="Under community correction.")
    released_prisoner: float = Field(0.6, description="Released from prison, still managed.")
    drug_user: float = Field(0.7, description="Drug user in community rehabilitation.")
    key_youth: float = Field(0.35, description="Key youth (重点青少年).")
    other: float = Field(0.2, description="Other special population.")
    cap: float = Field(2.5, gt=0, description="A person's flag score is at most this.")

    def by_flag(self) -> list[float]:
        """Score of each flag without a level, in the contract's order (severe: level 0)."""
        return [
            self.severe_mental_disorder[0] if f == "severe_mental_disorder" else getattr(self, f)
            for f in FLAGS
        ]


def _category(**values: float) -> PerCategory:
    return PerCategory(**values)


class Hazard(BaseModel):
    """The weekly hazard of an extreme incident in a dispute, ``1 - exp(-exp(eta))``.

    ``eta`` adds each term below (times its state) to ``base``; see docs/simulator.md for
    the formula. Positive numbers raise the hazard. The hidden terms are never recorded.
    """

    model_config = _STRICT

    base: float = Field(-9.85, description="Intercept: sets the overall rate of incidents.")
    category: PerCategory = Field(
        default_factory=lambda: _category(
            marriage_family=0.5,
            neighbor=0.2,
            debt=0.2,
            land_property=0.1,
            labor_wage=-0.3,
            medical=-0.2,
            property_management=-0.9,
            contract=-0.5,
            other=0.0,
        ),
        description="Term of the dispute's category.",
    )
    tie: PerTieKind = Field(default_factory=PerTieKind, description="Term of the tie kind.")
    threat_at_registration: float = Field(0.9, description="A true threat at registration.")
    violence_at_registration: float = Field(0.8, description="Violence before registration.")
    weapon_at_registration: float = Field(0.6, description="A weapon at registration.")
    prior_disputes_of_pair: float = Field(
        0.35, description="Per log1p(earlier disputes between the same two people)."
    )
    failed_mediations: float = Field(0.3, description="Per failed mediation (up to 5).")
    threat_events: float = Field(
        0.5, description="Per threat event since, decaying x0.89 a week (up to 2)."
    )
    police_calls: float = Field(
        0.25, description="Per police call since, decaying x0.89 a week (up to 2)."
    )
    escalated: float = Field(0.35, description="The dispute was escalated.")
    petition_level: float = Field(
        0.15, description="Per petition level reached (1 township .. 5 national)."
    )
    flag_score: float = Field(0.6, description="Per point of the larger flag score of two sides.")
    flags: FlagScores = Field(default_factory=FlagScores, description="Flag scores.")
    creditors: float = Field(
        0.35, description="Per log1p(creditors beyond the first) of the more indebted side."
    )
    separation: float = Field(
        0.6, description="Either side separated (divorce, break-up) within 365 days."
    )
    exposure: float = Field(
        0.45, description="Per unit of exposure of the two sides to recent incidents (up to 3)."
    )
    exposure_decay_days: float = Field(
        90.0, gt=0, description="Exposure decays as exp(-days / this): half-life ~2 months."
    )
    earlier_perpetrator: float = Field(
        0.8, description="Either side perpetrated an earlier extreme incident."
    )
    weeks_open: float = Field(-0.25, description="Per log1p(weeks since registration / 4).")
    after_incident: float = Field(-1.0, description="An incident already happened in this dispute.")
    closed: float = Field(-1.2, description="Closed, in its 26 weeks of watch.")
    hidden_severity: float = Field(0.55, description="Hidden severity of the dispute (sd 1).")
    pair_weight: float = Field(
        0.35, description="Log of the pair's hidden conflict weight (clipped to +-1.5)."
    )
    hidden_person_risk: float = Field(1.0, description="Hidden risk of the riskier side (sd 0.55).")
    mood: float = Field(1.0, description="Hidden weekly mood of the dispute (AR(1)).")
    outside_disputes_per_100k_year: float = Field(
        20.0, ge=0, description="Incidents that grow out of no registered dispute."
    )


class Disputes(BaseModel):
    """How many disputes arise, of which kind, and what is true at registration."""

    model_config = _STRICT

    per_100_persons_per_year: float = Field(
        4.0, gt=0, description="Disputes registered per 100 residents a year."
    )
    category_share: PerCategory = Field(
        default_factory=lambda: _category(
            marriage_family=0.25,
            neighbor=0.22,
            debt=0.12,
            land_property=0.10,
            labor_wage=0.06,
            medical=0.025,
            property_management=0.04,
            contract=0.07,
            other=0.115,
        ),
        description="Share of each category; the shares sum to 1.",
    )
    threat_logit: float = Field(
        -2.9, description="Intercept of a true threat at registration (logit scale)."
    )
    violence_logit: float = Field(
        -3.7, description="Intercept of violence before registration (logit scale)."
    )
    weapon_logit: float = Field(
        -4.8, description="Intercept of a weapon at registration (logit scale)."
    )

    @field_validator("category_share")
    @classmethod
    def _shares_sum_to_one(cls, v: PerCategory) -> PerCategory:
        values = v.values()
        if min(values) < 0 or abs(sum(values) - 1.0) > 1e-6:
            raise ValueError(
                f"category shares must be non-negative and sum to 1, got {sum(values):.6f}; "
                "the total rate is per_100_persons_per_year"
            )
        return v


class Course(BaseModel):
    """What happens to an open dispute week by week (before its hazard)."""

    model_config = _STRICT

    threat_events_per_week: float = Field(
        0.02, ge=0, description="Base weekly rate of threat events (times the hidden temper)."
    )
    police_calls_per_week: float = Field(
        0.012, ge=0, description="Base weekly rate of police calls (times the hidden temper)."
    )
    mediation_success: float = Field(
        1.1, description="Intercept of a mediation's success (logit scale)."
    )
    admin_close_per_week: float = Field(
        0.04, ge=0, le=1, description="Weekly closure of disputes open past 8 weeks."
    )


class LastYear(BaseModel):
    """Recording habits of the last year of the period (the built-in change of habits)."""

    model_config = _STRICT

    threat_at_registration: float = Field(
        0.92, ge=0, le=1, description="A true threat at registration recorded."
    )
    false_threat_at_registration: float = Field(
        0.025, ge=0, le=1, description="A threat recorded that was not there."
    )
    hotline_factor: float = Field(
        2.0, ge=0, description="Weight of the hotline among intake sources, times this."
    )
    visit_factor: float = Field(0.55, ge=0, description="Visits recorded this much as often.")
    threat_event_factor: float = Field(
        1.3, ge=0, description="Threat events recorded this much as often (at most 0.98)."
    )
    online_petition_factor: float = Field(
        1.6, ge=0, description="Weight of online petitions, times this."
    )


class Recording(BaseModel):
    """What the grid records of what happened (the true course never depends on it)."""

    model_config = _STRICT

    diligence_alpha: float = Field(2.0, gt=0, description="Grid diligence ~ Beta(alpha, beta).")
    diligence_beta: float = Field(1.2, gt=0, description="Grid diligence ~ Beta(alpha, beta).")
    threat_at_registration: float = Field(
        0.72, ge=0, le=1, description="A true threat at registration recorded."
    )
    false_threat_at_registration: float = Field(
        0.008, ge=0, le=1, description="A threat recorded that was not there."
    )
    violence_at_registration: float = Field(
        0.9, ge=0, le=1, description="True violence at registration recorded."
    )
    false_violence_at_registration: float = Field(
        0.004, ge=0, le=1, description="Violence recorded that was not there."
    )
    weapon_at_registration: float = Field(
        0.8, ge=0, le=1, description="A true weapon at registration recorded."
    )
    false_weapon_at_registration: float = Field(
        0.002, ge=0, le=1, description="A weapon recorded that was not there."
    )
    last_year: LastYear = Field(default_factory=LastYear, description="The last year's habits.")


def _default_concept() -> dict[str, float]:
    return {"threat_at_registration": 0.3, "threat_events": 0.15, "exposure": 0.9}


class CovariateDrift(BaseModel):
    """``covariate``: from the drift start, more disputes come in, and from older people."""

    model_config = _STRICT

    extra_debt: float = Field(
        1.0, ge=0, description="Extra debt disputes, as a multiple of the debt rate."
    )
    surge_category: Category = Field(
        "land_property", description="A category that surges (a requisition wave, say)."
    )
    surge: float = Field(1.0, ge=0, description="Its extra disputes, as a multiple of its rate.")
    older: float = Field(
        0.8,
        ge=0,
        description="The extra disputes weight their parties by exp(older x (age - 45) / 10).",
    )


class ConceptDrift(BaseModel):
    """``concept``: from the drift start, some hazard terms take new values."""

    model_config = _STRICT

    hazard: dict[str, float] = Field(
        default_factory=_default_concept,
        description="Hazard term -> its value from the drift start (numbers of [hazard]).",
    )

    @field_validator("hazard")
    @classmethod
    def _known_terms(cls, v: dict[str, float]) -> dict[str, float]:
        known = [k for k, f in Hazard.model_fields.items() if f.annotation is float]
        for key in v:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
                raise ValueError(f"{key!r} is not a number of [hazard]{hint}")
        return v


class RecordingDrift(BaseModel):
    """``recording``: from the drift start, some grids stop recording visits."""

    model_config = _STRICT

    grid_share: float = Field(0.3, gt=0, le=1, description="Share of grids that change.")
    visits: float = Field(0.0, ge=0, le=1, description="Their visits recorded this much as often.")
    mediation: float = Field(
        0.5, ge=0, le=1, description="Their mediation attempts recorded this much as often."
    )


class DriftStrengths(BaseModel):
    """How strong each named drift scenario is (the scenario is chosen per run)."""

    model_config = _STRICT

    covariate: CovariateDrift = Field(default_factory=CovariateDrift, description="covariate.")
    concept: ConceptDrift = Field(default_factory=ConceptDrift, description="concept.")
    recording: RecordingDrift = Field(default_factory=RecordingDrift, description="recording.")


class Mechanisms(BaseModel):
    """Every mechanism strength of the simulated world; the defaults are docs/simulator.md's.

    >>> m = Mechanisms()
    >>> m.hazard.threat_at_registration
    0.9
    >>> Mechanisms.with_overrides({"hazard": {"exposure": 0.8}}).hazard.exposure
    0.8
    """

    model_config = _STRICT

    hazard: Hazard = Field(default_factory=Hazard, description="The incident hazard.")
    disputes: Disputes = Field(default_factory=Disputes, description="Disputes and their facts.")
    course: Course = Field(default_factory=Course, description="The weekly course of a dispute.")
    recording: Recording = Field(default_factory=Recording, description="Recording habits.")
    drift: DriftStrengths = Field(
        default_factory=DriftStrengths, description="Strengths of the named drift scenarios."
    )

    @classmethod
    def with_overrides(cls, overrides: dict[str, Any], source: str = "mechanisms") -> Mechanisms:
        """The defaults with ``overrides`` (nested like the TOML file) laid over them.

        A mistake becomes one :class:`~riskwarn.errors.ConfigError` naming the key, with a
        suggestion for a misspelt one.
        """
        merged = _merge(cls, cls().model_dump(), overrides)
        try:
            return cls.model_validate(merged)
        except ValidationError as exc:
            raise ConfigError(_explain(exc, source)) from exc


def _merge(model: type[BaseModel], base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on it: a table of ``model`` is merged key by key, any
    other value (a number, a list, a free mapping such as the concept's terms) replaces."""
    out = dict(base)
    for key, value in over.items():
        field = model.model_fields.get(str(key))
        sub = field.annotation if field is not None else None
        nested = isinstance(sub, type) and issubclass(sub, BaseModel)
        if nested and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(sub, out[key], value)
        else:
            out[key] = value
    return out


def _explain(exc: ValidationError, source: str) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    hint = ""
    if first["type"] == "extra_forbidden":
        known = _known_keys(first["loc"])
        close = difflib.get_close_matches(str(first["loc"][-1]), known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else f" Known keys: {', '.join(known)}."
    msg = str(first["msg"]).rstrip(".")
    end = "" if msg.endswith("?") else "."
    return f"{source}: key {where!r}: {msg}{end}{hint} Fix the file and run again."


def _known_keys(loc: tuple) -> list[str]:
    """The keys allowed beside the last part of ``loc`` (the table it sits in)."""
    model: type[BaseModel] = Mechanisms
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        sub = getattr(field, "annotation", None)
        if not (isinstance(sub, type) and issubclass(sub, BaseModel)):
            break
        model = sub
    return sorted(model.model_fields)


def load_mechanisms(path: str | Path) -> Mechanisms:
    """Read mechanism overrides from a TOML file (see experiments/sim/*.toml)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"expected a TOML file of mechanism strengths, got {str(p)!r} which does not "
            "exist; see experiments/sim/other_mechanisms.toml for an example."
        )
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc}); fix the syntax and run again.") from exc
    return Mechanisms.with_overrides(data, source=str(p))
