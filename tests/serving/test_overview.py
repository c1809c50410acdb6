"""The county overview (/ui/overview): tier counts by township and grid as a heat table with
rates per 1,000 residents and small counts suppressed, the tier trend over the last 12
snapshots, red and orange warnings nobody acknowledged in time, top categories, the
township filter and click-through to the queue; and its Excel export, audited."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import io
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from riskwarn.clock import FixedClock, use_clock
from riskwarn.serving import Scorer
from riskwarn.training import load_model

from .conftest import Served, fresh_store, make_client
from .test_workbench import SECRET, TIERS, csrf_of, mounted, sign_in

T0 = dt.datetime(2030, 1, 10, 8, 0)  # UTC: when the snapshots below are stored


@pytest.fixture(scope="module")
def county(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """Every dispute of the county in the latest of 13 weekly snapshot runs, with known
    tiers; the runs are stored at T0 (a fixed clock) so waiting times are known."""
    store, keys = fresh_store(served, tmp_path_factory.mktemp("ov") / "service.db")
    ds = served.dataset
    rng = np.random.default_rng(11)
    end = ds.end.normalize()
    frame = ds.disputes[["dispute_id", "grid_id", "category"]].merge(
        ds.grids[["grid_id", "township"]], on="grid_id", how="left"
    )
    with use_clock(FixedClock(T0)):
        for back in range(12, -1, -1):
            risk = rng.beta(0.6, 8, len(frame))
            tiers = np.array(TIERS)[np.digitize(risk, [0.05, 0.15, 0.35])]
            as_of = (end - pd.Timedelta(days=7 * back)).to_pydatetime()
            store.add_snapshots(
                {"dispute_id": d, "as_of": as_of, "model_version": "t", "risk": float(r), "tier": t}
                for d, r, t in zip(frame["dispute_id"], risk, tiers, strict=True)
            )
    frame["tier"] = tiers
    scorer = Scorer(load_model(tracking_uri=served.tracking_uri), ds)
    backend = SimpleNamespace(store=store, scorer=scorer)
    with make_client(mounted(backend, secret=SECRET)) as client:
        assert sign_in(client, keys.supervisor).status_code == 303
        yield SimpleNamespace(client=client, store=store, frame=frame, ds=ds, keys=keys)


def shown(n: int) -> str:
    return "<5" if 0 < n < 5 else str(n)


def rows_of(html: str, table: str) -> dict[str, dict[str, str]]:
    body = re.search(rf'<table class="heat" id="{table}">(.*?)</table>', html, re.S)
    assert body, f"expected the {table} table"
    out = {}
    for row in re.finditer(
        r'<tr data-township="([^"]*)"(?: data-grid="([^"]*)")?>(.*?)</tr>', body[1], re.S
    ):
        cells = {
            t: html_lib.unescape(v)
            for t, v in re.findall(r'data-tier="(\w+)"><a [^>]*>([^<]*)</a>', row[3])
        }
        cells["rate"] = re.search(r"data-rate>([^<]*)<", row[3])[1]
        out[html_lib.unescape(row[2] or row[1])] = cells
    return out


def residents(ds: Any) -> dict[str, int]:
    people = ds.persons["grid_id"].value_counts()
    return {
        g: int(p) if pd.notna(p) else int(people.get(g, 0))
        for g, p in zip(ds.grids["grid_id"], ds.grids["population"], strict=True)
    }


def test_the_heat_table_counts_tiers_by_township_with_rates_and_small_counts_hidden(
    county: SimpleNamespace,
) -> None:
    html = county.client.get("/ui/overview").text
    table = rows_of(html, "heat-township")
    frame, pop = county.frame, residents(county.ds)
    grids_of = county.ds.grids.groupby("township")["grid_id"].apply(list)
    assert set(table) == set(frame["township"].dropna())
    for town, cells in table.items():
        mine = frame.loc[frame["township"] == town]
        for tier in TIERS:
            assert cells[tier] == shown(int((mine["tier"] == tier).sum())), (town, tier)
        people = sum(pop[g] for g in grids_of[town])
        expected = "–" if len(mine) < 5 else f"{1000 * len(mine) / people:.1f}"
        assert cells["rate"] == expected
    assert "全县概览" in html and 'class="chart trend"' in html


def test_a_township_narrows_the_grids_and_every_cell_opens_the_queue(
    county: SimpleNamespace,
) -> None:
    town = county.frame["township"].value_counts().index[0]
    html = county.client.get("/ui/overview", params={"township": town}).text
    grids = rows_of(html, "heat-grid")
    mine = county.frame.loc[county.frame["township"] == town]
    assert set(grids) == set(mine["grid_id"])
    grid = mine["grid_id"].value_counts().index[0]
    red = int(((mine["grid_id"] == grid) & (mine["tier"] == "red")).sum())
    link = re.search(
        rf'data-grid="{re.escape(grid)}">.*?data-tier="red"><a href="([^"]+)"', html, re.S
    )[1]
    queue = county.client.get(html_lib.unescape(link).replace("/ui/queue", "/ui/api/queue"))
    assert queue.json()["total"] == red
    assert all(r["grid_id"] == grid and r["tier"] == "red" for r in queue.json()["rows"])


def test_the_trend_shows_the_last_twelve_snapshots(county: SimpleNamespace) -> None:
    html = county.client.get("/ui/overview").text
    chart = re.search(r'<svg[^>]*class="chart trend".*?</svg>', html, re.S)[0]
    bars = re.findall(
        r'<rect [^>]*height="([\d.]+)"[^>]*class="trend-(\w+)"><title>(\d\d-\d\d) · [^:]+: (\d+)<',
        chart,
    )
    days = sorted({day for _, _, day, _ in bars})
    assert len(days) == 12  # 13 runs stored, the last 12 drawn
    latest = {tier: int(n) for _, tier, day, n in bars if day == days[-1]}
    assert latest == {t: int((county.frame["tier"] == t).sum()) for t in TIERS if t in latest}
    heights = {tier: float(h) for h, tier, day, _ in bars if day == days[-1]}
    assert heights["blue"] > heights["red"]  # bars scaled to the counts


def test_red_and_orange_not_acknowledged_in_time_are_counted(county: SimpleNamespace) -> None:
    def overdue(html: str) -> dict[tuple[str, str], int]:
        return {
            (t, h): int(n)
            for t, h, n in re.findall(
                r'data-tier="(\w+)" data-hours="(\d+)" href="[^"]*"><b>(\d+)</b>', html
            )
        }

    with use_clock(FixedClock(T0 + dt.timedelta(hours=2))):
        early = overdue(county.client.get("/ui/overview").text)
    assert set(early.values()) == {0}
    with use_clock(FixedClock(T0 + dt.timedelta(hours=30))):
        late = overdue(county.client.get("/ui/overview").text)
    red = int((county.frame["tier"] == "red").sum())
    assert late[("red", "24")] == red > 0 and late[("red", "72")] == 0
    dispute = county.frame.loc[county.frame["tier"] == "red", "dispute_id"].iloc[0]
    token = csrf_of(county.client.get("/ui/case", params={"id": dispute}).text)
    county.client.post(f"/ui/case/actions/acknowledge?id={dispute}", data={"csrf": token})
    with use_clock(FixedClock(T0 + dt.timedelta(hours=80))):
        html = county.client.get("/ui/overview").text
        after = overdue(html)
    assert after[("red", "72")] == red - 1
    link = html_lib.unescape(re.search(r'data-tier="red" data-hours="72" href="([^"]+)"', html)[1])
    assert county.client.get(link.replace("/ui/queue", "/ui/api/queue")).json()["total"] == red - 1


def test_top_categories_count_cases_and_red_orange(county: SimpleNamespace) -> None:
    html = html_lib.unescape(county.client.get("/ui/overview", params={"lang": "en"}).text)
    body = re.search(r'<table id="categories">(.*?)</table>', html, re.S)[1]
    top = county.frame["category"].value_counts()
    first = re.search(r'category=(\w+)">[^<]+</a></td><td class="num">([^<]+)<', body)
    assert first[1] == top.index[0] and first[2] == shown(int(top.iloc[0]))
    county.client.get("/ui/overview", params={"lang": "zh"})


def test_the_overview_exports_to_excel_with_its_filter_and_is_audited(
    county: SimpleNamespace,
) -> None:
    town = county.frame["township"].value_counts().index[0]
    r = county.client.get("/ui/export/overview.xlsx", params={"township": town})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    grids = wb["各网格"]
    assert "各乡镇、街道" in wb.sheetnames
    mine = county.frame.loc[county.frame["township"] == town]
    exported = {row[1]: row for row in grids.iter_rows(min_row=2, values_only=True)}
    assert set(exported) == set(mine["grid_id"])
    for grid, row in exported.items():
        assert row[0] == town
        in_grid = mine.loc[mine["grid_id"] == grid]
        by_tier = [shown(int((in_grid["tier"] == t).sum())) for t in reversed(TIERS)]
        assert list(row[2:6]) == by_tier  # red, orange, yellow, blue
    about = {row[0]: row[1] for row in wb["导出说明"].iter_rows(min_row=2, values_only=True)}
    assert about["导出人"] == "county-centre" and town in about.values()
    audit = county.store.audit_entries(limit=5)
    assert audit[0]["action"] == "export:overview.xlsx" and town in str(audit[0]["detail"])


def test_open_and_overdue_warnings_are_counted_and_exported(county: SimpleNamespace) -> None:
    """From the warnings themselves, per township and tier: the overview's loop table and
    the export's two sheets (counts, and every open warning with what is due by when)."""
    from riskwarn.loop import WarningEvent, load_policy

    policy = load_policy()
    town = county.frame["township"].value_counts().index[0]
    cases = county.frame.loc[county.frame["township"] == town, "dispute_id"].head(3).tolist()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def issue(wid: str, dispute: str, tier: str, hours_ago: float) -> WarningEvent:
        return WarningEvent(
            warning_id=wid, kind="issue", at=now - dt.timedelta(hours=hours_ago),
            dispute_id=dispute, tier=tier, risk=0.3, model_version="t", township=town,
            owner_level=policy.route(tier).level,
        )  # fmt: skip

    county.store.apply_warning_events(
        [
            issue("WOV-1", cases[0], "red", 10),  # acknowledge was due 4 h after issue
            issue("WOV-2", cases[1], "red", 1),
            issue("WOV-3", cases[2], "orange", 100),  # 24 h
            WarningEvent(warning_id="WOV-3", kind="acknowledge", at=now - dt.timedelta(hours=99)),
        ],
        policy,
    )
    html = html_lib.unescape(county.client.get("/ui/overview").text)
    table = re.search(r'<table id="loop-table">(.*?)</table>', html, re.S)[1]
    counts = {
        tier: dict(re.findall(r'data-count="(\w+)">(\d+)<', row))
        for tier, row in re.findall(
            rf'<tr data-township="{town}" data-tier="(\w+)">(.*?)</tr>', table, re.S
        )
    }
    assert counts["red"] == {
        "open": "2", "overdue_acknowledge": "1", "overdue_first_action": "0",
        "overdue_revisit": "0", "unowned": "2",
    }  # fmt: skip
    assert counts["orange"]["overdue_first_action"] == "1"  # 72 h after issue
    r = county.client.get("/ui/export/overview.xlsx", params={"township": town})
    wb = load_workbook(io.BytesIO(r.content))
    sheet = list(wb["预警闭环：在办与超时"].iter_rows(values_only=True))
    assert sheet[0][:3] == ("乡镇/街道", "等级", "在办预警")
    assert (town, "红色", 2, 1, 0, 0, 2) in sheet
    listed = list(wb["在办预警清单"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in listed] == ["WOV-1", "WOV-2", "WOV-3"]  # red first, soonest due
    assert (listed[0][9], listed[0][-1], listed[1][-1]) == ("签收", "是", None)  # empty cell
