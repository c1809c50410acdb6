"""The data contract, version 1, as data (docs/contract.md is the prose).

Everything that reads, writes or checks a dataset (loader, validator, simulator, the
service's ingest) takes its tables, columns, types, enums and references from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONTRACT_VERSION = 1


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    type: str  # id | int | float | string | date | datetime | bool | enum
    nullable: bool = False
    enum: tuple[str, ...] = ()
    unique: bool = False
    minimum: float | None = None  # the least value a number may take (docs/contract.md)
    maximum: float | None = None  # the greatest; numbers are finite in any case
    max_length: int | None = None  # the most characters a string may have


@dataclass(frozen=True)
class Reference:
    """A column that points at the key of another table."""

    column: str
    table: str
    key: str


@dataclass(frozen=True)
class Table:
    """One contract table: its columns, whether it is required, what it points at."""

    name: str
    columns: tuple[Column, ...]
    required: bool = False
    references: tuple[Reference, ...] = field(default_factory=tuple)
    requires: str | None = None  # another table that must exist when this one does
    # an optional table added to version 1 after its first release: a dataset without it
    # (or with it empty) is exactly what it was, digest included
    extension: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


# Value ranges every entry point checks the same way (docs/contract.md, "Value ranges").
ID_MAX_LENGTH = 128  # characters of an id; ids hold no control characters either
TEXT_MAX_LENGTH = 10_000  # characters of free text (summaries, notes, place names)
BIRTH_YEARS = (1900, 2100)

GENDERS = ("male", "female", "unknown")
FLAGS = (
    "severe_mental_disorder",
    "community_correction",
    "released_prisoner",
    "drug_user",
    "key_youth",
    "other",
)
TIE_KINDS = (
    "spouse",
    "former_spouse",
    "partner",
    "parent_child",
    "sibling",
    "relative",
    "neighbor",
    "colleague",
    "creditor_debtor",
    "landlord_tenant",
    "other",
)
CATEGORIES = (
    "marriage_family",
    "neighbor",
    "debt",
    "land_property",
    "labor_wage",
    "medical",
    "property_management",
    "contract",
    "other",
)
SOURCES = (
    "grid_visit",
    "hotline",
    "police_call",
    "petition",
    "mediation_center",
    "walk_in",
    "other",
)
PARTY_ROLES = ("claimant", "respondent", "other")
EVENT_KINDS = (
    "visit",
    "mediation_attempt",
    "mediation_success",
    "mediation_failure",
    "escalation",
    "threat",
    "police_call",
    "referral",
    "closed",
    "reopened",
)
CHANNELS = ("visit", "letter", "online", "hotline")
PETITION_LEVELS = ("township", "county", "city", "province", "national")
INCIDENT_KINDS = (
    "homicide",
    "attempted_homicide",
    "serious_injury",
    "self_harm",
    "arson",
    "other_extreme",
)
INCIDENT_ROLES = ("perpetrator", "victim", "other")
INTERVENTION_KINDS = ("visit", "mediation_session", "referral", "protective_measure", "other")
INTERVENTION_CHANNELS = (
    "people_mediation",
    "administrative_mediation",
    "court_mediation",
    "arbitration",
    "police",
    "mental_health_social",
    "legal_aid",
)
WARNING_TIERS = ("red", "orange", "yellow", "blue")  # the four colours (riskwarn.vocab.TIERS)

TABLES: tuple[Table, ...] = (
    Table(
        "persons",
        (
            Column("person_id", "id", unique=True),
            Column(
                "birth_year", "int", nullable=True, minimum=BIRTH_YEARS[0], maximum=BIRTH_YEARS[1]
            ),
            Column("gender", "enum", enum=GENDERS),
            Column("grid_id", "id"),
            Column("household_id", "id", nullable=True),
        ),
        required=True,
        references=(Reference("grid_id", "grids", "grid_id"),),
    ),
    Table(
        "grids",
        (
            Column("grid_id", "id", unique=True),
            Column("township", "string", nullable=True, max_length=TEXT_MAX_LENGTH),
            Column("county", "string", nullable=True, max_length=TEXT_MAX_LENGTH),
            Column("population", "int", nullable=True, minimum=0),
        ),
    ),
    Table(
        "person_flags",
        (
            Column("person_id", "id"),
            Column("flag", "enum", enum=FLAGS),
            Column("level", "int", nullable=True),
            Column("start_date", "date"),
            Column("end_date", "date", nullable=True),
        ),
        references=(Reference("person_id", "persons", "person_id"),),
    ),
    Table(
        "relationships",
        (
            Column("person_a", "id"),
            Column("person_b", "id"),
            Column("kind", "enum", enum=TIE_KINDS),
            Column("since", "date", nullable=True),
            Column("until", "date", nullable=True),
        ),
        references=(
            Reference("person_a", "persons", "person_id"),
            Reference("person_b", "persons", "person_id"),
        ),
    ),
    Table(
        "disputes",
        (
            Column("dispute_id", "id", unique=True),
            Column("reported_at", "datetime"),
            Column("grid_id", "id"),
            Column("category", "enum", enum=CATEGORIES),
            Column("source", "enum", enum=SOURCES),
            Column("threat_reported", "bool"),
            Column("violence_reported", "bool"),
            Column("weapon_mentioned", "bool"),
            Column("amount_involved", "float", nullable=True, minimum=0),
            Column("summary", "string", nullable=True, max_length=TEXT_MAX_LENGTH),
        ),
        required=True,
        references=(Reference("grid_id", "grids", "grid_id"),),
    ),
    Table(
        "dispute_parties",
        (
            Column("dispute_id", "id"),
            Column("person_id", "id"),
            Column("role", "enum", enum=PARTY_ROLES),
        ),
        required=True,
        references=(
            Reference("dispute_id", "disputes", "dispute_id"),
            Reference("person_id", "persons", "person_id"),
        ),
    ),
    Table(
        "dispute_events",
        (
            Column("dispute_id", "id"),
            Column("at", "datetime"),
            Column("kind", "enum", enum=EVENT_KINDS),
            Column("note", "string", nullable=True, max_length=TEXT_MAX_LENGTH),
        ),
        references=(Reference("dispute_id", "disputes", "dispute_id"),),
    ),
    Table(
        "petitions",
        (
            Column("petition_id", "id", unique=True),
            Column("person_id", "id"),
            Column("filed_at", "datetime"),
            Column("channel", "enum", enum=CHANNELS),
            Column("level", "enum", enum=PETITION_LEVELS),
            Column("repeat", "bool"),
            Column("collective", "bool"),
            Column("dispute_id", "id", nullable=True),
        ),
        references=(
            Reference("person_id", "persons", "person_id"),
            Reference("dispute_id", "disputes", "dispute_id"),
        ),
    ),
    Table(
        "incidents",
        (
            Column("incident_id", "id", unique=True),
            Column("occurred_at", "datetime"),
            Column("kind", "enum", enum=INCIDENT_KINDS),
            Column("dispute_id", "id", nullable=True),
        ),
        references=(Reference("dispute_id", "disputes", "dispute_id"),),
    ),
    Table(
        "incident_persons",
        (
            Column("incident_id", "id"),
            Column("person_id", "id"),
            Column("role", "enum", enum=INCIDENT_ROLES),
        ),
        references=(
            Reference("incident_id", "incidents", "incident_id"),
            Reference("person_id", "persons", "person_id"),
        ),
        requires="incidents",
    ),
    Table(
        "interventions",
        (
            Column("intervention_id", "id", unique=True),
            Column("dispute_id", "id"),
            Column("at", "datetime"),
            Column("kind", "enum", enum=INTERVENTION_KINDS),
            Column("channel", "enum", nullable=True, enum=INTERVENTION_CHANNELS),
            Column("warning_tier", "enum", nullable=True, enum=WARNING_TIERS),
            Column("note", "string", nullable=True),
        ),
        references=(Reference("dispute_id", "disputes", "dispute_id"),),
        extension=True,
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

# The column whose timestamp says when a row became known (the point-in-time rule),
# and the column, if any, that ends it once passed.
KNOWN_FROM: dict[str, str | None] = {
    "persons": None,
    "grids": None,
    "person_flags": "start_date",
    "relationships": "since",
    "disputes": "reported_at",
    "dispute_parties": None,  # known with its dispute
    "dispute_events": "at",
    "petitions": "filed_at",
    "incidents": "occurred_at",
    "incident_persons": None,  # known with its incident
    "interventions": "at",
}
ENDS_AT: dict[str, str] = {"person_flags": "end_date", "relationships": "until"}
