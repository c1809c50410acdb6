"""The warnings' commands through the installed ``riskwarn`` entry point: a roster loaded
from CSV, a snapshot that issues warnings, the summary a demo prints, escalation for a
cron job, and a routing policy stored or refused in one line."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from riskwarn.serving import Store

from .conftest import Served, serve_env
from .test_cli import run

RISKWARN = str(Path(sys.executable).with_name("riskwarn"))


def _roster_csv(served: Served, path: Path) -> Path:
    grids = served.dataset.grids
    lines = ["name,role,level,county,township,grid", "lead-1,lead,county,,,"]
    lines += [
        f"officer-{i},officer,township,,{t}," for i, t in enumerate(sorted(set(grids["township"])))
    ]
    lines += [
        f"m-{g},mediator,grid,,{t},{g}"
        for g, t in zip(grids["grid_id"], grids["township"], strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_roster_snapshot_summary_escalate(served: Served, tmp_path: Path) -> None:
    db = tmp_path / "service.db"
    env = {**serve_env(served, db), "RISKWARN_WARN_TIER": "yellow"}
    assert run(env, "history", "load", str(served.data)).returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("name,role,level,county,township,grid\nwang,mediator,grid,,东关,\n", "utf-8")
    refused = run(env, "roster", "load", str(bad))
    assert refused.returncode == 1 and f"{bad}:2:" in refused.stderr
    assert "needs a grid id" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    loaded = run(env, "roster", "load", str(_roster_csv(served, tmp_path / "roster.csv")))
    assert loaded.returncode == 0, loaded.stderr
    snap = run(env, "history", "snapshot", "--as-of", served.dataset.end.strftime("%Y-%m-%d"))
    assert snap.returncode == 0, snap.stderr
    assert "warning events:" in snap.stdout and " issue" in snap.stdout
    store = Store(f"sqlite:///{db}")
    total, page = store.warnings_page(limit=1000)
    assert total > 0 and all(w.owner for w in page)
    assert {w.tier for w in page} <= {"red", "orange", "yellow"}
    summary = run(env, "warnings", "summary", "--tier", "yellow")
    assert summary.returncode == 0, summary.stderr
    yellow = sum(w.tier == "yellow" for w in page)
    assert f"yellow: {yellow} open warnings, 0 overdue, 0 without an owner" in summary.stdout
    escalated = run(env, "warnings", "escalate")
    assert escalated.returncode == 0 and "escalated 0 warnings" in escalated.stdout
    assert any(e["action"] == "roster:load" for e in store.audit_entries())


def test_a_routing_policy_is_stored_or_refused_in_one_line(served: Served, tmp_path: Path) -> None:
    env = serve_env(served, tmp_path / "service.db")
    shipped = resources.files("riskwarn.loop").joinpath("policy.toml").read_text("utf-8")
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(shipped.replace('"police",', '"polise",', 1), encoding="utf-8")
    refused = run(env, "warnings", "policy", str(wrong))
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert "unknown channel 'polise'" in line and "Did you mean 'police'?" in line
    edited = tmp_path / "policy.toml"
    edited.write_text(shipped.replace('version = "2026-12-default"', 'version = "county-2027"'))
    stored = run(env, "warnings", "policy", str(edited))
    assert stored.returncode == 0 and "'county-2027' in force" in stored.stdout
    held = Store(f"sqlite:///{tmp_path / 'service.db'}").routing_policy()
    assert held is not None and held.version == "county-2027"
