"""The contract as data agrees with the contract as prose, and the prose is the shared one."""

from __future__ import annotations

import re
from pathlib import Path

import riskwarn

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "contract.md"
SHARED = ROOT.parent / "shared" / "contract" / "README.md"


def _doc_tables() -> dict[str, list[tuple[str, str, str]]]:
    """Parse docs/contract.md: table name -> [(column, type, null)]."""
    tables: dict[str, list[tuple[str, str, str]]] = {}
    current = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^### (\w+)", line)
        if heading:
            current = heading.group(1)
            tables[current] = []
            continue
        row = re.match(r"^\| (\w+) \| ([^|]+) \| (yes|no) \|", line)
        if current and row:
            tables[current].append((row.group(1), row.group(2).strip(), row.group(3)))
    return tables


def test_docs_copy_only_grows_the_shared_contract() -> None:
    """Every line of the shared contract is in docs/contract.md, in order: the public copy
    grows only by added (optional) tables and columns."""
    text = DOC.read_text(encoding="utf-8")
    assert text.startswith("# riskwarn data contract, version 1")
    if SHARED.exists():  # beside a checkout, as in CI and development
        lines = iter(text.splitlines())
        missing = [
            line
            for line in SHARED.read_text(encoding="utf-8").splitlines()
            if not any(line == mine for mine in lines)
        ]
        assert not missing, f"docs/contract.md drifted from the shared contract at {missing[:1]}"


def test_contract_data_matches_the_prose() -> None:
    from riskwarn import CONTRACT_TABLES

    doc = _doc_tables()
    assert set(doc) == set(CONTRACT_TABLES)
    for name, columns in doc.items():
        table = CONTRACT_TABLES[name]
        assert [c for c, _, _ in columns] == list(table.column_names), name
        for column, kind, null in columns:
            spec = table.column(column)
            assert spec.nullable == (null == "yes"), (name, column)
            if kind.startswith("enum"):
                assert tuple(re.findall(r"`(\w+)`", kind)) == spec.enum, (name, column)
            else:
                assert kind == spec.type, (name, column)
    assert riskwarn.CONTRACT_VERSION == 1
