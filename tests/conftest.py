"""Shared fixtures: a small, hand-written contract dataset that exercises every table."""

from __future__ import annotations

from pathlib import Path

import pytest

PERSONS = """person_id,birth_year,gender,grid_id,household_id
P1,1980,male,G1,H1
P2,,female,G1,H1
P3,1999,unknown,G2,
"""
GRIDS = """grid_id,township,county,population
G1,东关街道,城关区,300
G2,西湖乡,城关区,
"""
DISPUTES = """dispute_id,reported_at,grid_id,category,source,threat_reported,violence_reported,weapon_mentioned,amount_involved,summary
D1,2024-01-05T10:00:00,G1,neighbor,hotline,true,false,0,100.5,"邻里""漏水"", 多次
协调未果"
D2,2024-02-03,G2,debt,walk_in,1,false,false,,
D3,2024-03-01 08:30:00,G2,labor_wage,petition,false,false,false,52000,
"""
PARTIES = """dispute_id,person_id,role
D1,P1,claimant
D1,P2,respondent
D2,P3,claimant
D3,P1,claimant
D3,P3,respondent
"""
EVENTS = """dispute_id,at,kind,note
D1,2024-01-06T09:00:00,visit,
D1,2024-01-20,mediation_failure,
D1,2024-02-01T00:00:00,closed,
D1,2024-02-10T12:00:00,reopened,
"""
PETITIONS = """petition_id,person_id,filed_at,channel,level,repeat,collective,dispute_id
PT1,P3,2024-03-05T10:00:00,visit,county,false,true,D3
PT2,P3,2024-04-05T10:00:00,online,city,true,false,
"""
FLAGS = """person_id,flag,level,start_date,end_date
P2,severe_mental_disorder,3,2023-05-01,
P1,community_correction,,2023-01-01,2024-06-30
"""
TIES = """person_a,person_b,kind,since,until
P1,P2,spouse,,2024-03-01
P1,P2,former_spouse,2024-03-01,
P1,P3,creditor_debtor,2023-11-02,
"""
INCIDENTS = """incident_id,occurred_at,kind,dispute_id
I1,2024-04-01T22:10:00,serious_injury,D1
"""
INCIDENT_PERSONS = """incident_id,person_id,role
I1,P1,perpetrator
I1,P2,victim
"""

TABLES = {
    "persons": PERSONS,
    "grids": GRIDS,
    "disputes": DISPUTES,
    "dispute_parties": PARTIES,
    "dispute_events": EVENTS,
    "petitions": PETITIONS,
    "person_flags": FLAGS,
    "relationships": TIES,
    "incidents": INCIDENTS,
    "incident_persons": INCIDENT_PERSONS,
}


def write_tables(root: Path) -> Path:
    """Write the sample dataset as CSV files into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in TABLES.items():
        (root / f"{name}.csv").write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A valid contract dataset directory (CSV), fresh for each test."""
    return write_tables(tmp_path / "good")


@pytest.fixture
def sample_tables() -> dict[str, str]:
    """The sample dataset's CSV text per table."""
    return dict(TABLES)
