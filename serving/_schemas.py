"""Requests and responses of the service, as strict pydantic models.

Every field is documented (with an example) where it is declared; these models are the
OpenAPI document's schemas, under their own names (``ScoreRequest``, ``ScoreResponse``...).
Unknown fields are refused (``extra="forbid"``) so a misspelt field is an error that names
it, not a silently ignored value. The value ranges of case records come from the data
contract's columns (docs/contract.md, "Value ranges"), the same rules ``riskwarn validate``
and ingest apply.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    create_model,
    model_validator,
)

from riskwarn._contract import (
    CATEGORIES,
    EVENT_KINDS,
    GENDERS,
    ID_MAX_LENGTH,
    PARTY_ROLES,
    SOURCES,
    TABLES,
    TABLES_BY_NAME,
)
from riskwarn._validate import FIRST_YEAR, LAST_YEAR
from riskwarn.features import FACT_CODES
from riskwarn.loop import EVENT_KINDS as WARNING_EVENT_KINDS
from riskwarn.vocab import (
    ACTION_RESULTS,
    INTERVENTION_CHANNELS,
    INTERVENTION_KINDS,
    OWNER_LEVELS,
    TIERS,
    WARNING_STATES,
)

MAX_BATCH = 1000
MAX_INGEST_ROWS = 100_000

_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2})?$")
_STAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2})?$"


def parse_stamp(value: object) -> dt.datetime:
    """A contract date or datetime string as a naive local datetime (datetimes pass)."""
    if isinstance(value, dt.datetime):
        value = value.isoformat(sep="T", timespec="seconds")
    if not isinstance(value, str) or not _STAMP.match(value):
        raise ValueError(
            "expected a date YYYY-MM-DD or a datetime YYYY-MM-DDTHH:MM:SS (local time, "
            f"no zone), got {value!r}"
        )
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"expected a real calendar date and time, got {value!r}") from exc
    if not FIRST_YEAR <= stamp.year <= LAST_YEAR:
        raise ValueError(
            f"expected a moment in the years {FIRST_YEAR} to {LAST_YEAR}, got {value!r}"
        )
    return stamp


def parse_as_of(value: object) -> dt.datetime:
    """The moment to score at: a bare date means the end of that day (23:59:59).

    The same rule as ``riskwarn score --as-of`` and ``riskwarn train --train-until``: rows
    dated during the day count as known, so the service and the nightly list agree.
    """
    stamp = parse_stamp(value)
    bare = isinstance(value, str) and len(value) == len("YYYY-MM-DD")
    return stamp + dt.timedelta(hours=23, minutes=59, seconds=59) if bare else stamp


def iso(moment: Any) -> str:
    """A local moment as the answers show it: ``YYYY-MM-DDTHH:MM:SS``."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}"


Stamp = Annotated[
    dt.datetime,
    BeforeValidator(parse_stamp),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _STAMP_PATTERN,
            "examples": ["2025-03-01T09:30:00"],
            "description": "YYYY-MM-DD (midnight) or YYYY-MM-DDTHH:MM:SS, local time, no zone.",
        }
    ),
]
AsOf = Annotated[
    dt.datetime,
    BeforeValidator(parse_as_of),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _STAMP_PATTERN,
            "examples": ["2025-03-01"],
            "description": "YYYY-MM-DD (the end of that day, 23:59:59) or "
            "YYYY-MM-DDTHH:MM:SS, local time, no zone.",
        }
    ),
]
# An id as the contract has it (docs/contract.md): 1 to ID_MAX_LENGTH characters, no
# control characters, spaces at either end dropped.
ID_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]+$"
ID_RULE = f"an id: 1 to {ID_MAX_LENGTH} characters, no control characters"
Id = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN
    ),
]
# Free text: anything but NUL, which PostgreSQL cannot store.
TEXT_PATTERN = r"^[^\x00]*$"
Tier = enum.Enum("Tier", [(t, t) for t in TIERS], type=str)  # type: ignore[misc]
Tier.__doc__ = "The four colour tiers (四色预警), most urgent first (riskwarn.vocab.TIERS)."
FactCode = enum.Enum("FactCode", [(c, c) for c in FACT_CODES], type=str)  # type: ignore[misc]
FactCode.__doc__ = "The key facts' codes (riskwarn.features.FACT_CODES)."


def _column(table: str, name: str, **field: Any) -> Any:
    """A ``Field`` with the contract's range for ``table.name`` (and its description)."""
    col = TABLES_BY_NAME[table].column(name)
    limits: dict[str, Any] = {}
    if col.minimum is not None:
        limits["ge"] = col.minimum
    if col.maximum is not None:
        limits["le"] = col.maximum
    if col.max_length is not None:
        limits["max_length"] = col.max_length
    if col.type == "string":
        limits["pattern"] = TEXT_PATTERN
    if col.type == "float":
        limits["allow_inf_nan"] = False
    if col.nullable:
        limits["default"] = None
    return Field(**limits, **field)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DisputeIn(_Strict):
    """A dispute as the contract's ``disputes`` table has it."""

    dispute_id: Id = Field(description="Pseudonymous dispute id.", examples=["D2025-000123"])
    reported_at: Stamp = Field(description="When the platform registered it.")
    grid_id: Id = Field(
        description="Grid (网格) where it is handled; a grid the store knows.", examples=["G017"]
    )
    category: Literal[CATEGORIES] = Field(  # type: ignore[valid-type]
        description="Dispute category.", examples=["debt"]
    )
    source: Literal[SOURCES] = Field(  # type: ignore[valid-type]
        description="How it came in.", examples=["hotline"]
    )
    threat_reported: bool = Field(
        description="A threat of harm was recorded at registration.", examples=[True]
    )
    violence_reported: bool = Field(
        description="Violence had happened at registration.", examples=[False]
    )
    weapon_mentioned: bool = Field(
        description="A weapon was mentioned at registration.", examples=[False]
    )
    amount_involved: float | None = _column(
        "disputes", "amount_involved", description="Money at stake, CNY.", examples=[30000.0]
    )
    summary: str | None = _column(
        "disputes", "summary", description="Free text.", examples=["欠款三万元未还，多次催要"]
    )


class PartyIn(_Strict):
    """A party: a person the store holds (their history counts), or a new person, for whom
    ``gender``, ``birth_year``, ``grid_id`` and ``household_id`` may be given (a new
    resident counts in the population of a grid whose population the store does not give)."""

    person_id: Id = Field(description="Pseudonymous person id.", examples=["P0042817"])
    role: Literal[PARTY_ROLES] = Field(  # type: ignore[valid-type]
        description="Role in the dispute.", examples=["claimant"]
    )
    gender: Literal[GENDERS] | None = Field(  # type: ignore[valid-type]
        default=None, description="For a new person only.", examples=["female"]
    )
    birth_year: int | None = _column(
        "persons", "birth_year", description="For a new person only.", examples=[1978]
    )
    grid_id: Id | None = Field(
        default=None,
        description="For a new person only: the grid they live in, one the store holds.",
        examples=["G017"],
    )
    household_id: Id | None = Field(
        default=None, description="For a new person only.", examples=["H0019321"]
    )


class EventIn(_Strict):
    """Something that happened to the case after registration."""

    at: Stamp = Field(description="When it happened.")
    kind: Literal[EVENT_KINDS] = Field(  # type: ignore[valid-type]
        description="What happened.", examples=["mediation_failure"]
    )
    note: str | None = _column(
        "dispute_events", "note", description="Free text.", examples=["双方情绪激动"]
    )


class CaseIn(_Strict):
    """A dispute that is not stored yet: the dispute row, its parties and its events."""

    dispute: DisputeIn = Field(description="The dispute as registered.")
    parties: list[PartyIn] = Field(
        min_length=1, max_length=100, description="Its parties, 1 to 100."
    )
    events: list[EventIn] = Field(
        default_factory=list, max_length=1000, description="What happened since, oldest first."
    )


# Exactly one of dispute_id and case: said in words, not as a JSON Schema ``oneOf`` of
# ``required`` lists, which client generators (openapi-python-client) turn into an untyped
# body; the service answers 400 naming both when a request has neither or both.
_ONE_CASE = {"examples": [{"dispute_id": "D2025-000123", "as_of": "2025-03-01"}]}


class ScoreRequest(_Strict):
    """One case to score: a stored ``dispute_id``, or a full ``case`` not stored yet
    (exactly one of the two)."""

    model_config = ConfigDict(json_schema_extra=_ONE_CASE)

    dispute_id: Id = Field(
        default=None, description="A dispute the store holds.", examples=["D2025-000123"]
    )
    case: CaseIn = Field(default=None, description="A case that is not stored.")
    as_of: AsOf | None = Field(default=None, description="Score as of this moment; now if empty.")
    top_k: int = Field(
        default=5, ge=0, le=50, description="How many reasons to return.", examples=[5]
    )

    @model_validator(mode="after")
    def _one_of(self) -> ScoreRequest:
        if (self.dispute_id is None) == (self.case is None):
            raise ValueError(
                "expected exactly one of 'dispute_id' (a stored dispute) or 'case' (a "
                "dispute with its parties and events), got "
                + ("both" if self.dispute_id is not None else "neither")
            )
        return self

    @property
    def named(self) -> str:
        """The dispute id this request names (stored, or the new case's)."""
        return self.dispute_id if self.case is None else self.case.dispute.dispute_id  # type: ignore[return-value]


class BatchRequest(_Strict):
    """Many cases in one call; each is answered on its own."""

    cases: list[ScoreRequest] = Field(
        min_length=1, max_length=MAX_BATCH, description=f"1 to {MAX_BATCH} cases."
    )


class ExplainRequest(_Strict):
    """One case to explain: a stored ``dispute_id``, or a full ``case`` not stored yet
    (exactly one of the two)."""

    model_config = ConfigDict(json_schema_extra=_ONE_CASE)

    dispute_id: Id = Field(
        default=None, description="A dispute the store holds.", examples=["D2025-000123"]
    )
    case: CaseIn = Field(default=None, description="A case that is not stored.")
    as_of: AsOf | None = Field(default=None, description="Explain as of this moment; now if empty.")

    @model_validator(mode="after")
    def _one_of(self) -> ExplainRequest:
        if (self.dispute_id is None) == (self.case is None):
            raise ValueError(
                "expected exactly one of 'dispute_id' or 'case', got "
                + ("both" if self.dispute_id is not None else "neither")
            )
        return self


class Reason(BaseModel):
    """One feature's part in a score."""

    feature: str = Field(
        description="Feature name from the registry.", examples=["party_disputes_365d_max"]
    )
    value: float | str | None = Field(
        description="The feature's value for this case (a number, a category, or null).",
        examples=[3.0],
    )
    contribution: float = Field(
        description="SHAP contribution, log-odds of the model margin.", examples=[0.42]
    )
    text_zh: str = Field(
        description="A readable sentence in Chinese.", examples=["当事人一年内涉及 3 起纠纷"]
    )
    text_en: str = Field(
        description="A readable sentence in English.",
        examples=["A party was in 3 disputes in the past year"],
    )


class KeyFactOut(BaseModel):
    """A hard fact about the case, shown whatever the model says (features.FACTS)."""

    code: FactCode = Field(description="Which fact.", examples=["pair_incident"])
    text_zh: str = Field(
        description="The fact with its values, in Chinese.",
        examples=["双方之间已发生极端事件2起，最近一次在2024-12-19"],
    )
    text_en: str = Field(
        description="The fact with its values, in English.",
        examples=["2 extreme incidents between the parties already, the latest on 2024-12-19"],
    )
    at: str = Field(
        description="When the fact happened (its latest record), local time.",
        examples=["2024-12-19T21:40:00"],
    )


class CaseStatus(BaseModel):
    """Whether the case is open at ``as_of``, and since when."""

    state: Literal["open", "closed"] = Field(description="Open or closed.", examples=["open"])
    since: str = Field(
        description="Since when, local time: its registration or last reopening when open, "
        "its closing when closed.",
        examples=["2025-01-12T10:20:00"],
    )


class Override(BaseModel):
    """A supervisor's raise of the tier above the model's."""

    tier: Tier = Field(description="The tier raised to.", examples=["red"])
    by: str = Field(description="The key name of who raised it.", examples=["county-centre"])
    at: str = Field(description="When, UTC.", examples=["2025-02-27T06:15:00Z"])
    reason: str | None = Field(
        description="Why, as the supervisor wrote it.", examples=["当事人扬言报复"]
    )


class ScoreWarning(BaseModel):
    """Something the caller should know about an answer that is not an error."""

    code: Literal["stale_data", "case_closed", "event_before_registration"] = Field(
        description="What kind of warning.", examples=["stale_data"]
    )
    message: str = Field(
        description="What it means and what to do.",
        examples=[
            "as_of 2025-03-01T23:59:59 is 59 days after the newest record the store holds "
            "(2025-01-01T08:00:00): records since then are not in this score; ingest them"
        ],
    )


class _Assessment(BaseModel):
    dispute_id: str = Field(description="The dispute.", examples=["D2025-000123"])
    as_of: str = Field(
        description="The moment scored, YYYY-MM-DDTHH:MM:SS, local time; now if none was sent.",
        examples=["2025-03-01T23:59:59"],
    )
    risk: float = Field(
        description="Calibrated probability of an extreme incident in the horizon.",
        examples=[0.083],
    )
    tier_model: Tier = Field(
        description="The model's tier (red, orange, yellow, blue).", examples=["orange"]
    )
    tier: Tier = Field(
        description="The tier to act on: the model's, or higher when a key fact's floor "
        "(tier_floor_reason) or a supervisor (override) raised it; never lower.",
        examples=["red"],
    )
    tier_floor_reason: FactCode | None = Field(
        description="The key fact whose floor in the tier policy raised the model's tier, or "
        "null when none did.",
        examples=["pair_homicide"],
    )
    key_facts: list[KeyFactOut] = Field(
        description="Hard facts about the case at as_of (earlier incidents between the parties, "
        "a weapon, a recent threat, ...), to be read before the reasons."
    )
    override: Override | None = Field(
        description="The supervisor's raise that set ``tier``, when it is above the model's."
    )
    model_version: str = Field(description="The model that scored.", examples=["7"])
    status: CaseStatus = Field(description="The case's state at as_of.")
    data_as_of: str | None = Field(
        description="The newest record the store holds, local time (null when it holds none).",
        examples=["2025-02-28T17:45:00"],
    )
    warnings: list[ScoreWarning] = Field(
        description="Stale data, a closed case, events dated before registration."
    )


class ScoreResult(_Assessment):
    """A case's risk, tiers and top reasons."""

    reasons: list[Reason] = Field(description="Top reasons, the strongest push up first.")


class ScoreResponse(ScoreResult):
    """The answer to one case."""

    request_id: str = Field(description="Also in X-Request-ID.", examples=["4f9c2d0e8b1a"])


class ItemError(BaseModel):
    """Why one case of a batch got no score."""

    status: int = Field(description="The HTTP status it would have had alone.", examples=[404])
    error: str = Field(
        description="What was wrong.",
        examples=["cases[3].dispute_id: expected a dispute the store holds, got 'D9'"],
    )


class BatchItem(BaseModel):
    """One case of a batch: its score, or the error that kept it from one."""

    index: int = Field(description="Position in the request's cases.", examples=[0])
    dispute_id: str = Field(description="The dispute the case names.", examples=["D2025-000123"])
    result: ScoreResult | None = Field(description="The score, when the case could be scored.")
    error: ItemError | None = Field(description="Why not, when it could not.")


class BatchResponse(BaseModel):
    """The answers to a batch, in the order of its cases."""

    request_id: str = Field(description="Also in X-Request-ID.", examples=["4f9c2d0e8b1a"])
    model_version: str = Field(description="The model that scored.", examples=["7"])
    scored: int = Field(description="Cases scored.", examples=[999])
    failed: int = Field(description="Cases answered with an error.", examples=[1])
    results: list[BatchItem] = Field(description="One item per case, in order.")


class ExplainResponse(_Assessment):
    """Every feature's contribution to one case's score."""

    request_id: str = Field(description="Also in X-Request-ID.", examples=["4f9c2d0e8b1a"])
    base_value: float = Field(
        description="The model margin before any feature (log-odds).", examples=[-3.4]
    )
    contributions: list[Reason] = Field(description="Every feature, largest |contribution| first.")


Rows = list[dict[str, Any]]

IngestRequest = create_model(  # one list of rows per contract table, whatever tables it has
    "IngestRequest",
    __config__=ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "disputes": [
                        {
                            "dispute_id": "D2025-000124",
                            "reported_at": "2025-03-01T09:30:00",
                            "grid_id": "G017",
                            "category": "debt",
                            "source": "hotline",
                            "threat_reported": True,
                            "violence_reported": False,
                            "weapon_mentioned": False,
                        }
                    ],
                    "dispute_parties": [
                        {"dispute_id": "D2025-000124", "person_id": "P0042817", "role": "claimant"}
                    ],
                }
            ]
        },
    ),
    __doc__="New records, one list of rows per contract table (docs/contract.md); all are "
    "added or none.",
    **{
        t.name: (
            Rows,
            Field(
                default_factory=list,
                max_length=MAX_INGEST_ROWS,
                description=f"Rows of the contract table {t.name!r}, at most {MAX_INGEST_ROWS:,}.",
            ),
        )
        for t in TABLES
    },
)


class RecordIssue(BaseModel):
    """One record of an ingest batch that breaks the data contract (or a warning)."""

    table: str = Field(description="The contract table.", examples=["disputes"])
    record: int | None = Field(description="1-based position in the table's list.", examples=[2])
    field: str | None = Field(description="The column.", examples=["category"])
    value: str | None = Field(description="The value found.", examples=["noise"])
    expected: str = Field(description="What the contract expects.", examples=["one of ..."])
    message: str = Field(description="What is wrong.", examples=["unknown value"])


class IngestResponse(BaseModel):
    """What an ingest added."""

    request_id: str = Field(description="Also in X-Request-ID.", examples=["4f9c2d0e8b1a"])
    added: dict[str, int] = Field(description="Rows added per table.", examples=[{"disputes": 1}])
    warnings: list[RecordIssue] = Field(
        description="Records kept but worth a look (an event dated before its dispute)."
    )


class ReloadRequest(_Strict):
    """Which model to load (the one served now if empty)."""

    model: str | None = Field(
        default=None,
        max_length=1000,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Model URI; the one served now if empty.",
        examples=["models:/riskwarn@champion"],
    )


class ReloadResponse(BaseModel):
    """The model and history now served."""

    request_id: str = Field(description="Also in X-Request-ID.", examples=["4f9c2d0e8b1a"])
    model_version: str = Field(description="The model now served.", examples=["8"])
    model_uri: str = Field(
        description="Where it came from.", examples=["models:/riskwarn@champion"]
    )
    disputes: int = Field(description="Disputes in the store after the reload.", examples=[5120])


class SnapshotRequest(_Strict):
    """When to score every open dispute."""

    as_of: AsOf | None = Field(default=None, description="Score open disputes as of; now if empty.")


class SnapshotResponse(BaseModel):
    """What a snapshot stored."""

    request_id: str = Field(description="Also in X-Request-ID.", examples=["4f9c2d0e8b1a"])
    as_of: str = Field(
        description="The moment scored, YYYY-MM-DDTHH:MM:SS, local time.",
        examples=["2025-03-01T23:59:59"],
    )
    stored: int = Field(description="Open disputes scored and stored.", examples=[468])
    warnings: dict[str, int] = Field(
        default_factory=dict,
        description="Warning events the snapshot caused, by kind (issue, rescore, escalate).",
        examples=[{"issue": 12, "rescore": 40, "escalate": 1}],
    )


class ModelInfo(BaseModel):
    """The model the service serves."""

    version: str = Field(description="Registry version.", examples=["7"])
    uri: str = Field(
        description="Where it was loaded from.", examples=["models:/riskwarn@champion"]
    )
    kind: Literal["lightgbm", "logistic"] = Field(
        description="What scores: LightGBM or the sign-constrained logistic regression (the "
        "experiment's model choice).",
        examples=["lightgbm"],
    )
    registry_version: str = Field(description="Feature registry version.", examples=["3"])
    feature_names: list[str] = Field(description="The model's features, in order.")
    thresholds: dict[str, Any] = Field(
        description="Risk thresholds of the tiers.", examples=[{"red": 0.2, "orange": 0.08}]
    )
    floors: dict[FactCode, Tier] = Field(
        description="The tier policy's floors: a case with this key fact is at least at this tier.",
        examples=[{"pair_homicide": "orange"}],
    )
    windows: dict[str, Any] = Field(description="Training, validation and test windows.")
    metrics: dict[str, Any] = Field(description="Evaluation metrics.")
    card: str = Field(description="The model card, Markdown.")
    metadata: dict[str, Any] = Field(description="Everything else the model was saved with.")


class FieldError(BaseModel):
    """One field of a malformed request."""

    field: str = Field(
        description="Where, as a path: 'cases[0].top_k', or 'body'.", examples=["cases[0].top_k"]
    )
    loc: list[str | int] = Field(
        description="The same path as a list of keys and indexes.", examples=[["cases", 0, "top_k"]]
    )
    msg: str = Field(
        description="'path: expected ..., got ...'.",
        examples=["cases[0].top_k: expected at most 50, got 99"],
    )
    type: str = Field(
        description="The kind of error (pydantic's type).", examples=["less_than_equal"]
    )


class ErrorResponse(BaseModel):
    """Every error the service answers, whatever its status."""

    error: str = Field(
        description="What was wrong, naming the field, and what to do.",
        examples=["cases[0].top_k: expected at most 50, got 99"],
    )
    detail: list[FieldError] = Field(
        description="For a malformed request (400): each field in error; else empty."
    )
    issues: list[RecordIssue] = Field(
        description="For records that break the contract (422): each issue; else empty."
    )
    request_id: str = Field(description="Also in X-Request-ID.", examples=["4f9c2d0e8b1a"])


# warnings: the closed loop (issue 14) ---------------------------------------------------
# Times of warnings are UTC, answered as YYYY-MM-DDTHH:MM:SSZ; a time a request sends may
# carry a zone (Z or +08:00) or not (then it is the county's local time, as everywhere).

UtcTime = Annotated[
    dt.datetime,
    PlainSerializer(lambda v: f"{v:%Y-%m-%dT%H:%M:%S}Z", return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2025-03-01T02:30:00Z"]}),
]
SentTime = Annotated[
    dt.datetime,
    Field(strict=False),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "examples": ["2025-03-01T10:30:00+08:00"],
            "description": "With a zone (Z, +08:00), or without: the county's local time.",
        }
    ),
]
Person = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=ID_PATTERN),
]
Note = Annotated[str, StringConstraints(max_length=500, pattern=TEXT_PATTERN)]
WarningState = Literal[WARNING_STATES]  # type: ignore[valid-type]
OwnerLevel = Literal[OWNER_LEVELS]  # type: ignore[valid-type]
ActionKind = Literal[INTERVENTION_KINDS]  # type: ignore[valid-type]
ActionResult = Literal[ACTION_RESULTS]  # type: ignore[valid-type]
Channel = Literal[INTERVENTION_CHANNELS]  # type: ignore[valid-type]
SUPERVISOR_EVENTS = ("acknowledge", "assign", "resolve", "revisit", "close", "reopen")
SupervisorEvent = Literal[SUPERVISOR_EVENTS]  # type: ignore[valid-type]


class WarningOut(BaseModel):
    """A warning as it stands: its case, tier, owner, state and what is due by when."""

    warning_id: str = Field(description="The warning's id.", examples=["W20250301-3f2a9c1b"])
    dispute_id: str = Field(description="The case warned of.", examples=["D2025-000123"])
    county: str | None = Field(description="The case's county.")
    township: str | None = Field(description="The case's township.", examples=["东关街道"])
    grid: str | None = Field(description="The case's grid.", examples=["G0012"])
    tier: Tier = Field(description="The warning's tier: the highest the case reached.")
    risk: float = Field(description="The latest risk scored.", examples=[0.12])
    model_version: str = Field(description="The model that scored it last.", examples=["8"])
    tier_policy_version: str | None = Field(description="How the tiers were cut.")
    routing_version: str = Field(description="The routing policy that routed it.")
    key_facts: list[str] = Field(description="Key facts' codes at the latest score.")
    state: WarningState = Field(description="Where it is in the loop.", examples=["assigned"])
    owner_level: OwnerLevel = Field(description="The level that owns it.", examples=["county"])
    owner: str | None = Field(description="Who owns it; empty while unowned.")
    issued_at: UtcTime = Field(description="When it was issued (UTC).")
    updated_at: UtcTime = Field(description="When it last changed (UTC).")
    due_step: Literal["acknowledge", "first_action", "revisit"] | None = Field(
        description="What is due next; empty when nothing is."
    )
    due_at: UtcTime | None = Field(description="By when (UTC).")
    overdue: bool = Field(description="Whether ``due_at`` has passed.")
    acknowledged_at: UtcTime | None = Field(description="When acknowledged (UTC).")
    assigned_at: UtcTime | None = Field(description="When last assigned (UTC).")
    first_action_at: UtcTime | None = Field(description="The first action reported (UTC).")
    last_action_at: UtcTime | None = Field(description="The last action reported (UTC).")
    actions: int = Field(description="Actions reported.", examples=[2])
    resolved_at: UtcTime | None = Field(description="When resolved (UTC).")
    revisit_at: UtcTime | None = Field(description="The return visit after it (UTC).")
    closed_at: UtcTime | None = Field(description="When closed (UTC).")
    reopened: int = Field(description="Times reopened.", examples=[0])
    escalations: int = Field(description="Times escalated.", examples=[0])
    escalated_at: UtcTime | None = Field(description="The last escalation (UTC).")

    @classmethod
    def of(cls, record: Any, now: dt.datetime) -> WarningOut:
        """From a :class:`riskwarn.loop.WarningRecord` at ``now`` (UTC)."""
        fields = record.model_dump(exclude={"escalated_due_at", "tier_raised_at"})
        return cls(**fields, overdue=record.overdue(now))


class WarningEventOut(BaseModel):
    """One thing that happened to a warning (its history's entry)."""

    kind: Literal[WARNING_EVENT_KINDS] = Field(  # type: ignore[valid-type]
        description="What happened.", examples=["assign"]
    )
    at: UtcTime = Field(description="When it happened (UTC).")
    by: str = Field(description="Who did it ('system' for issues, re-scores, escalations).")
    tier: Tier | None = Field(None, description="Tier scored (issue, rescore).")
    risk: float | None = Field(None, description="Risk scored (issue, rescore).")
    model_version: str | None = Field(None, description="The model (issue, rescore).")
    owner: str | None = Field(None, description="Owner named (issue, assign, escalate).")
    owner_level: OwnerLevel | None = Field(None, description="Level (issue, escalate).")
    action: ActionKind | None = Field(None, description="The action's kind (act).")
    channel: Channel | None = Field(None, description="The referral's channel (act).")
    result: ActionResult | None = Field(None, description="The action's result (act).")
    note: str | None = Field(None, description="The note sent with it.")


class WarningList(BaseModel):
    """One page of warnings, most urgent tier first, then the soonest deadline."""

    request_id: str = Field(description="Also in X-Request-ID.", examples=["4f9c2d0e8b1a"])
    total: int = Field(description="Warnings matching the filters.", examples=[37])
    limit: int = Field(description="Page size asked.", examples=[100])
    offset: int = Field(description="Warnings skipped.", examples=[0])
    items: list[WarningOut] = Field(description="This page's warnings.")


class WarningDetail(BaseModel):
    """A warning and its whole history, oldest event first."""

    request_id: str = Field(description="Also in X-Request-ID.", examples=["4f9c2d0e8b1a"])
    warning: WarningOut = Field(description="The warning as it stands.")
    events: list[WarningEventOut] = Field(description="Everything that happened to it.")


class ActionReport(_Strict):
    """What was done about a warning, as the case platform reports it."""

    kind: ActionKind = Field(description="The action (intervention_kind).", examples=["visit"])
    at: SentTime | None = Field(None, description="When it was done; now if empty.")
    note: Note | None = Field(None, description="A short note (at most 500 characters).")
    result: ActionResult = Field(
        "follow_up",
        description="Its structured result; 'follow_up' (more to do) if empty.",
        examples=["agreement"],
    )
    channel: Channel | None = Field(
        None, description="For a referral: the channel it went through (offered for the tier)."
    )
    by: Person | None = Field(None, description="Who did it; the key's name if empty.")


class WarningEventRequest(_Strict):
    """A supervisor's step on a warning: acknowledge, assign (or reassign), resolve, record
    the return visit, close (after it), reopen (with a note)."""

    kind: SupervisorEvent = Field(description="The step.", examples=["acknowledge"])
    at: SentTime | None = Field(None, description="When it happened; now if empty.")
    owner: Person | None = Field(None, description="For assign: who owns it now.")
    owner_level: OwnerLevel | None = Field(None, description="For assign: at which level.")
    note: Note | None = Field(None, description="A note; reopen needs one.")
    by: Person | None = Field(None, description="Who did it; the key's name if empty.")


class RoutingPolicyRequest(_Strict):
    """A routing policy as ``riskwarn/loop/policy.toml`` has it, as JSON."""

    version: str = Field(description="Its version, kept on every warning it routes.")
    tiers: dict[str, dict[str, Any]] = Field(
        description="For each tier: level, channels, acknowledge_hours, first_action_hours, "
        "revisit_hours and optionally unowned_within_hours.",
        examples=[
            {
                "red": {
                    "level": "county",
                    "channels": ["people_mediation", "police"],
                    "acknowledge_hours": 4,
                    "first_action_hours": 24,
                    "revisit_hours": 168,
                    "unowned_within_hours": 24,
                }
            }
        ],
    )


class RoutingPolicyResponse(BaseModel):
    """The routing policy now in force."""

    request_id: str = Field(description="Also in X-Request-ID.", examples=["4f9c2d0e8b1a"])
    version: str = Field(description="Its version.", examples=["2026-12-default"])
    tiers: dict[str, dict[str, Any]] = Field(description="Each tier's route.")
