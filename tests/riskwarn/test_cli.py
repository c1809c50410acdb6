"""The CLI through its installed entry point, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RISKWARN = str(Path(sys.executable).with_name("riskwarn"))


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([RISKWARN, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in (
        "validate",
        "simulate",
        "summary",
        "features",
        "train",
        "train-table",
        "promote",
        "score",
        "experiment",
        "serve",
        "keys",
        "evaluate-warnings",
        "history",
        "warnings",
        "roster",
    ):
        assert command in result.stdout
    sub = run("validate", "--help")
    assert sub.returncode == 0 and "directory" in sub.stdout


def test_validate_exits_zero_on_a_valid_dataset(good: Path) -> None:
    result = run("validate", str(good))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout.splitlines()[-1]


def test_validate_reports_and_exits_non_zero(good: Path) -> None:
    root = good
    text = (root / "persons.csv").read_text(encoding="utf-8")
    (root / "persons.csv").write_text(text.replace("female", "femal"), encoding="utf-8")
    result = run("validate", str(root))
    assert result.returncode == 1
    assert "persons.csv, row 3, column 'gender'" in result.stdout
    assert "did you mean 'female'?" in result.stdout


def test_errors_are_one_line_unless_debug(tmp_path: Path) -> None:
    result = run("summary", str(tmp_path / "missing"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("riskwarn: error: no dataset directory")
    debug = run("--debug", "summary", str(tmp_path / "missing"))
    assert debug.returncode != 0 and "Traceback" in debug.stderr
    after = run("summary", str(tmp_path / "missing"), "--debug")
    assert after.returncode != 0 and "Traceback" in after.stderr


def test_usage_errors_name_the_option(tmp_path: Path) -> None:
    result = run("simulate", str(tmp_path / "x"), "--persons", "many")
    assert result.returncode == 2
    assert "--persons" in result.stderr


def test_simulate_then_validate_and_summarise(tmp_path: Path) -> None:
    out = tmp_path / "county"
    made = run("simulate", str(out), "--persons", "1500", "--years", "1", "--seed", "3")
    assert made.returncode == 0, made.stderr
    assert (out / "persons.csv").exists() and (out / "dispute_events.csv").exists()
    checked = run("validate", str(out))
    assert checked.returncode == 0, checked.stdout[-2000:]
    summary = run("summary", str(out))
    assert summary.returncode == 0 and "disputes per 100 persons per year" in summary.stdout


def test_simulate_refuses_a_bad_start_date(tmp_path: Path) -> None:
    result = run("simulate", str(tmp_path / "x"), "--start", "2024-13-01")
    assert result.returncode == 1
    assert "--start must be a date YYYY-MM-DD" in result.stderr


def test_simulate_refuses_a_file_as_its_folder_before_any_work(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("not a folder", encoding="utf-8")
    result = run("simulate", str(target), "--persons", "100000")
    assert result.returncode == 1
    assert "is a file, not a folder" in result.stderr
    assert "simulating" not in result.stderr  # refused before the simulation started


def test_simulating_again_into_a_folder_leaves_no_stale_tables(tmp_path: Path) -> None:
    out = tmp_path / "county"
    assert (
        run("simulate", str(out), "--persons", "3000", "--years", "2", "--seed", "1").returncode
        == 0
    )
    (out / "incidents.csv").write_text(
        "incident_id,occurred_at,kind,dispute_id\n", encoding="utf-8"
    )
    stale = out / "grids.parquet"
    stale.write_bytes(b"left by an older run")
    again = run("simulate", str(out), "--persons", "200", "--years", "0.25", "--seed", "2")
    assert again.returncode == 0, again.stderr
    assert not stale.exists()
    assert run("validate", str(out)).returncode == 0


def test_summary_of_a_dataset_with_no_disputes(good: Path) -> None:
    for name in (
        "disputes",
        "dispute_parties",
        "dispute_events",
        "petitions",
        "incidents",
        "incident_persons",
        "relationships",
        "person_flags",
    ):
        (good / f"{name}.csv").write_text(
            (good / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0] + "\n",
            encoding="utf-8",
        )  # fmt: skip
    result = run("summary", str(good))
    assert result.returncode == 0, result.stderr
    assert "no dated records" in result.stdout
