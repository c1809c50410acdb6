"""Excel exports of the queue: every row the filters keep, in the page's order, with the
filters written into the workbook, and every export in the audit log."""

from __future__ import annotations

import io
import urllib.parse
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from openpyxl import load_workbook

from riskwarn.serving import Scorer
from riskwarn.training import load_model

from .conftest import Served, fresh_store, make_client
from .test_workbench import SECRET, TIERS, mounted, sign_in


@pytest.fixture(scope="module")
def paging(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """Every dispute of the county in one snapshot run, with known risks and tiers."""
    store, keys = fresh_store(served, tmp_path_factory.mktemp("exports") / "service.db")
    ds = served.dataset
    risk = np.random.default_rng(5).beta(0.6, 8, len(ds.disputes))
    frame = ds.disputes[["dispute_id", "grid_id", "category"]].merge(
        ds.grids[["grid_id", "township"]], on="grid_id", how="left"
    )
    frame["risk"], frame["tier"] = risk, np.array(TIERS)[np.digitize(risk, [0.05, 0.15, 0.35])]
    as_of = ds.end.normalize().to_pydatetime()
    store.add_snapshots(
        {"dispute_id": d, "as_of": as_of, "model_version": "t", "risk": float(r), "tier": t}
        for d, r, t in zip(frame["dispute_id"], frame["risk"], frame["tier"], strict=True)
    )
    backend = SimpleNamespace(
        store=store, scorer=Scorer(load_model(tracking_uri=served.tracking_uri), ds)
    )
    with make_client(mounted(backend, secret=SECRET)) as client:
        assert sign_in(client, keys.supervisor).status_code == 303
        yield client, frame.sort_values(["risk", "dispute_id"], ascending=[False, True]), store


def sheet_rows(content: bytes, sheet: str) -> list[tuple[Any, ...]]:
    wb = load_workbook(io.BytesIO(content))
    return list(wb[sheet].iter_rows(values_only=True))


def test_the_queue_exports_every_filtered_row_in_order(paging: tuple) -> None:
    client, frame, _ = paging
    town = frame["township"].value_counts().index[0]
    params = {"township": town, "tier": "orange"}
    r = client.get("/ui/export/queue.xlsx", params=params)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert urllib.parse.unquote(r.headers["content-disposition"]).endswith(".xlsx")
    rows = sheet_rows(r.content, "风险队列")
    head, body = rows[0], rows[1:]
    assert head[:5] == ("序", "纠纷编号", "等级", "模型等级", "风险（%）")
    expected = frame.loc[(frame["township"] == town) & (frame["tier"] == "orange")]
    assert [row[1] for row in body] == list(expected["dispute_id"])  # all rows, risk order
    assert {row[2] for row in body} == {"橙色"} and all(row[6] == town for row in body)
    assert [row[4] for row in body] == [round(100 * x, 1) for x in expected["risk"]]
    about = dict(sheet_rows(r.content, "导出说明")[1:])
    assert about["筛选条件 · township"] == town and about["筛选条件 · tier"] == "orange"
    assert about["导出人"] == "county-centre"


def test_the_queue_export_speaks_english_when_asked(paging: tuple) -> None:
    client, frame, _ = paging
    r = client.get("/ui/export/queue.xlsx", params={"tier": "red", "lang": "en"})
    rows = sheet_rows(r.content, "Risk queue")
    assert rows[0][1] == "Dispute" and len(rows) - 1 == int((frame["tier"] == "red").sum())
    client.get("/ui/queue", params={"lang": "zh"})


def test_every_export_is_audited_with_its_filters(paging: tuple) -> None:
    client, _, store = paging
    r = client.get("/ui/export/queue.xlsx", params={"category": "debt", "unacked": "1"})
    assert r.status_code == 200
    entry = store.audit_entries(limit=1)[0]
    assert entry["action"] == "export:queue.xlsx" and entry["key_name"] == "county-centre"
    assert "category=debt" in str(entry["detail"]) and "unacked=1" in str(entry["detail"])
    assert client.get("/ui/export/queue.xlsx", params={"unassigned": "1"}).status_code == 200
    assert store.audit_entries(limit=1)[0]["id"] > entry["id"]


def test_exports_need_a_session(paging: tuple) -> None:
    client, _, _ = paging
    with make_client(client.app) as stranger:
        r = stranger.get("/ui/export/queue.xlsx", follow_redirects=False)
        assert r.status_code == 303 and "/ui/signin" in r.headers["location"]
