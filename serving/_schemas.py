"""Requests and responses of the service, as strict pydantic models.

Every field is documented where it is declared; these docs become the OpenAPI schema.
Unknown fields are refused (``extra="forbid"``) so a misspelt field is an error that
names it, not a silently ignored value.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from riskwarn._contract import CATEGORIES, EVENT_KINDS, GENDERS, PARTY_ROLES, SOURCES
from riskwarn.serving._store import ID_LENGTH

MAX_BATCH = 1000
MAX_INGEST_ROWS = 100_000
FIRST_YEAR, LAST_YEAR = 1900, 2200  # what pandas' nanosecond timestamps hold, with room

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


Stamp = Annotated[
    dt.datetime,
    BeforeValidator(parse_stamp),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _STAMP_PATTERN,
            "examples": ["2025-03-01", "2025-03-01T09:30:00"],
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
            "examples": ["2025-03-01", "2025-03-01T09:30:00"],
            "description": "YYYY-MM-DD (the end of that day, 23:59:59) or "
            "YYYY-MM-DDTHH:MM:SS, local time, no zone.",
        }
    ),
]
# An id: 1 to ID_LENGTH characters (the store's id columns), no control characters (NUL
# among them, which PostgreSQL cannot store), no white space at either end.
_EDGE = r"[^\s\x00-\x1f\x7f-\x9f]"
ID_PATTERN = rf"^{_EDGE}([^\x00-\x1f\x7f-\x9f]*{_EDGE})?$"
Id = Annotated[
    str,
    Field(
        min_length=1,
        max_length=ID_LENGTH,
        pattern=ID_PATTERN,
        examples=["D000123"],
        description=f"1 to {ID_LENGTH} characters, no control characters, no space at either end.",
    ),
]
# Free text: anything but NUL, which PostgreSQL cannot store.
TEXT_PATTERN = r"^[^\x00]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DisputeIn(_Strict):
    """A dispute as the contract's ``disputes`` table has it."""

    dispute_id: Id = Field(description="Pseudonymous dispute id.")
    reported_at: Stamp = Field(description="When the platform registered it.")
    grid_id: Id = Field(description="Grid (网格) where it is handled; a grid the store knows.")
    category: Literal[CATEGORIES] = Field(description="Dispute category.")  # type: ignore[valid-type]
    source: Literal[SOURCES] = Field(description="How it came in.")  # type: ignore[valid-type]
    threat_reported: bool = Field(description="A threat of harm was recorded at registration.")
    violence_reported: bool = Field(description="Violence had happened at registration.")
    weapon_mentioned: bool = Field(description="A weapon was mentioned at registration.")
    amount_involved: float | None = Field(
        default=None, ge=0, le=1e12, description="Money at stake, CNY."
    )
    summary: str | None = Field(
        default=None, max_length=10_000, pattern=TEXT_PATTERN, description="Free text."
    )


class PartyIn(_Strict):
    """A party: a person the store holds (their history counts), or a new person, for whom
    ``gender``, ``birth_year``, ``grid_id`` and ``household_id`` may be given (a new
    resident counts in the population of a grid whose population the store does not give)."""

    person_id: Id = Field(description="Pseudonymous person id.")
    role: Literal[PARTY_ROLES] = Field(description="Role in the dispute.")  # type: ignore[valid-type]
    gender: Literal[GENDERS] | None = Field(  # type: ignore[valid-type]
        default=None, description="For a new person only."
    )
    birth_year: int | None = Field(
        default=None, ge=1900, le=2100, description="For a new person only."
    )
    grid_id: Id | None = Field(
        default=None,
        description="For a new person only: the grid they live in, one the store holds.",
    )
    household_id: Id | None = Field(default=None, description="For a new person only.")


class EventIn(_Strict):
    at: Stamp = Field(description="When it happened.")
    kind: Literal[EVENT_KINDS] = Field(description="What happened.")  # type: ignore[valid-type]
    note: str | None = Field(default=None, max_length=10_000, pattern=TEXT_PATTERN)


class CaseIn(_Strict):
    """A dispute that is not stored yet: the dispute row, its parties and its events."""

    dispute: DisputeIn
    parties: list[PartyIn] = Field(min_length=1, max_length=100)
    events: list[EventIn] = Field(default_factory=list, max_length=1000)


class ScoreRequest(_Strict):
    """One case to score: a stored ``dispute_id``, or a full ``case`` not stored yet."""

    dispute_id: Id | None = Field(default=None, description="A dispute the store knows.")
    case: CaseIn | None = Field(default=None, description="A case that is not stored.")
    as_of: AsOf | None = Field(default=None, description="Score as of this moment; now if empty.")
    top_k: int = Field(default=5, ge=0, le=50, description="How many reasons to return.")

    @model_validator(mode="after")
    def _one_of(self) -> ScoreRequest:
        if (self.dispute_id is None) == (self.case is None):
            raise ValueError(
                "expected exactly one of 'dispute_id' (a stored dispute) or 'case' (a "
                "dispute with its parties and events), got "
                + ("both" if self.dispute_id is not None else "neither")
            )
        return self


class BatchRequest(_Strict):
    cases: list[ScoreRequest] = Field(
        min_length=1, max_length=MAX_BATCH, description=f"1 to {MAX_BATCH} cases."
    )


class ExplainRequest(_Strict):
    dispute_id: Id | None = Field(default=None, description="A dispute the store knows.")
    case: CaseIn | None = Field(default=None, description="A case that is not stored.")
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

    feature: str = Field(description="Feature name from the registry.")
    value: float | str | None = Field(
        description="The feature's value for this case (a number, a category, or null)."
    )
    contribution: float = Field(description="SHAP contribution, log-odds of the model margin.")
    text_zh: str = Field(description="A readable sentence in Chinese.")
    text_en: str = Field(description="A readable sentence in English.")


class ScoreResult(BaseModel):
    dispute_id: str
    as_of: str = Field(
        description="The moment scored, YYYY-MM-DDTHH:MM:SS, local time; now if none was sent."
    )
    risk: float = Field(description="Calibrated probability of an extreme incident in the horizon.")
    tier: str = Field(description="Tier from the model's thresholds (red, orange, yellow, blue).")
    model_version: str
    reasons: list[Reason] = Field(description="Top reasons, the strongest push up first.")


class ScoreResponse(ScoreResult):
    request_id: str


class BatchResponse(BaseModel):
    request_id: str
    model_version: str
    results: list[ScoreResult]


class ExplainResponse(BaseModel):
    request_id: str
    dispute_id: str
    as_of: str = Field(description="The moment explained, YYYY-MM-DDTHH:MM:SS, local time.")
    risk: float
    tier: str
    model_version: str
    base_value: float = Field(description="The model margin before any feature (log-odds).")
    contributions: list[Reason] = Field(description="Every feature, largest |contribution| first.")


Rows = list[dict[str, Any]]


def _rows(name: str) -> Any:
    return Field(
        default_factory=list,
        max_length=MAX_INGEST_ROWS,
        description=f"Rows of the contract table {name!r} (docs/contract.md).",
    )


class IngestRequest(_Strict):
    """New records, one list of rows per contract table; all are added or none."""

    persons: Rows = _rows("persons")
    grids: Rows = _rows("grids")
    person_flags: Rows = _rows("person_flags")
    relationships: Rows = _rows("relationships")
    disputes: Rows = _rows("disputes")
    dispute_parties: Rows = _rows("dispute_parties")
    dispute_events: Rows = _rows("dispute_events")
    petitions: Rows = _rows("petitions")
    incidents: Rows = _rows("incidents")
    incident_persons: Rows = _rows("incident_persons")


class IngestResponse(BaseModel):
    request_id: str
    added: dict[str, int] = Field(description="Rows added per table.")


class ReloadRequest(_Strict):
    model: str | None = Field(
        default=None,
        max_length=1000,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="Model URI; the one served now if empty.",
    )


class ReloadResponse(BaseModel):
    request_id: str
    model_version: str
    model_uri: str
    disputes: int = Field(description="Disputes in the store after the reload.")


class SnapshotRequest(_Strict):
    as_of: AsOf | None = Field(default=None, description="Score open disputes as of; now if empty.")


class SnapshotResponse(BaseModel):
    request_id: str
    as_of: str = Field(description="The moment scored, YYYY-MM-DDTHH:MM:SS, local time.")
    stored: int = Field(description="Open disputes scored and stored.")


class ModelInfo(BaseModel):
    version: str
    uri: str
    registry_version: str
    feature_names: list[str]
    thresholds: dict[str, Any]
    windows: dict[str, Any]
    metrics: dict[str, Any]
    card: str = Field(description="The model card, Markdown.")
    metadata: dict[str, Any] = Field(description="Everything else the model was saved with.")


class FieldError(BaseModel):
    """One field of a malformed request."""

    field: str = Field(description="Where, as a path: 'cases[0].top_k', or 'body'.")
    loc: list[str | int] = Field(description="The same path as a list of keys and indexes.")
    msg: str = Field(description="'path: expected ..., got ...'.")
    type: str = Field(description="The kind of error (pydantic's error type).")


class RecordIssue(BaseModel):
    """One record of an ingest batch that breaks the data contract."""

    table: str
    record: int | None = Field(description="1-based position in the table's list.")
    field: str | None
    value: str | None
    expected: str
    message: str


class ErrorResponse(BaseModel):
    """What every 4xx (and 5xx) answer holds."""

    error: str = Field(description="What was wrong, naming the field, and what was expected.")
    detail: list[FieldError] | None = Field(
        default=None, description="For a malformed request (400): each field in error."
    )
    issues: list[RecordIssue] | None = Field(
        default=None, description="For records that break the contract (422): each issue."
    )
