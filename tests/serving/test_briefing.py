"""The monthly briefing (研判报告): a printable page and a PDF made by the service with the
Chinese font embedded, for the county or a township, audited."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import io
import re
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from riskwarn.clock import FixedClock, use_clock
from riskwarn.serving import Scorer
from riskwarn.training import load_model

from .conftest import Served, fresh_store, make_client
from .test_workbench import SECRET, TIERS, mounted, sign_in

T0 = dt.datetime(2030, 1, 10, 8, 0)


@pytest.fixture(scope="module")
def county(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """Every dispute in 10 weekly snapshot runs with random tiers (kept per run)."""
    store, keys = fresh_store(served, tmp_path_factory.mktemp("br") / "service.db")
    ds = served.dataset
    rng = np.random.default_rng(3)
    end = ds.end.normalize()
    frame = ds.disputes[["dispute_id", "grid_id"]].merge(
        ds.grids[["grid_id", "township"]], on="grid_id", how="left"
    )
    runs = []
    with use_clock(FixedClock(T0)):
        for back in range(9, -1, -1):
            risk = rng.beta(0.5, 12, len(frame))
            tiers = np.array(TIERS)[np.digitize(risk, [0.05, 0.15, 0.35])]
            as_of = (end - pd.Timedelta(days=7 * back)).to_pydatetime()
            runs.append((as_of, dict(zip(frame["dispute_id"], tiers, strict=True))))
            store.add_snapshots(
                {"dispute_id": d, "as_of": as_of, "model_version": "t", "risk": float(r), "tier": t}
                for d, r, t in zip(frame["dispute_id"], risk, tiers, strict=True)
            )
    scorer = Scorer(load_model(tracking_uri=served.tracking_uri), ds)
    with make_client(mounted(SimpleNamespace(store=store, scorer=scorer), secret=SECRET)) as c:
        assert sign_in(c, keys.supervisor).status_code == 303
        yield SimpleNamespace(client=c, store=store, frame=frame, runs=runs, ds=ds, end=end)


def new_warnings(county: SimpleNamespace, township: str | None) -> dict[str, int]:
    """Cases first red or orange in a run of the latest run's month."""
    month = county.runs[-1][0].strftime("%Y-%m")
    ids = set(county.frame["dispute_id"])
    if township:
        ids = set(county.frame.loc[county.frame["township"] == township, "dispute_id"])
    first: dict[str, tuple[dt.datetime, str]] = {}
    for as_of, tiers in county.runs:
        for d, t in tiers.items():
            if d in ids and t in ("red", "orange") and d not in first:
                first[d] = (as_of, t)
    out = {"red": 0, "orange": 0}
    for at, t in first.values():
        if at.strftime("%Y-%m") == month:
            out[t] += 1
    return out


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    # pypdf reads fpdf2's two-byte Identity codes with a NUL before each character
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in reader.pages))


def embedded_fonts(content: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(content))
    names = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for desc in font.get("/DescendantFonts", [font]):
                descriptor = desc.get_object()["/FontDescriptor"].get_object()
                if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.append(str(descriptor["/FontName"]))
    return names


def test_the_briefing_page_reports_the_month_for_a_township(county: SimpleNamespace) -> None:
    town = county.frame["township"].value_counts().index[0]
    r = county.client.get("/ui/briefing", params={"township": town})
    assert r.status_code == 200
    html = html_lib.unescape(r.text)
    month = county.runs[-1][0].strftime("%Y-%m")
    title = re.search(r'<h1 id="briefing-title">([^<]+)</h1>', html)[1]
    assert title == f"{town}矛盾纠纷风险研判报告（{month}）"
    n = new_warnings(county, town)
    assert f"本月新增红色预警{n['red']}件、橙色预警{n['orange']}件" in html
    for section in (
        "近12次快照各等级数量",
        "重点网格",
        "主要纠纷类别",
        "本月极端事件",
        "模型近期校准",
    ):
        assert section in html
    assert (
        'id="briefing-pdf"' in html
        and "@media print" in county.client.get("/ui/static/style.css").text
    )


def test_the_briefing_pdf_embeds_the_chinese_font_and_says_the_same(
    county: SimpleNamespace,
) -> None:
    r = county.client.get("/ui/briefing.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    text = pdf_text(r.content)
    month = county.runs[-1][0].strftime("%Y-%m")
    n = new_warnings(county, None)
    assert f"全县矛盾纠纷风险研判报告（{month}）" in text
    assert f"本月新增红色预警{n['red']}件、橙色预警{n['orange']}件" in text
    assert "极端事件" in text and "重点网格" in text
    fonts = embedded_fonts(r.content)
    assert fonts and all("NotoSansCJK" in f for f in fonts)
    entry = county.store.audit_entries(limit=1)[0]
    assert entry["action"] == "export:briefing.pdf" and month in str(entry["detail"])


def test_incidents_of_the_month_say_whether_they_were_warned(county: SimpleNamespace) -> None:
    month = county.runs[-1][0].strftime("%Y-%m")
    inc = county.ds.incidents
    inc = inc.loc[inc["occurred_at"].dt.strftime("%Y-%m") == month]
    html = html_lib.unescape(county.client.get("/ui/briefing").text)
    if inc.empty:
        assert "本月发生极端事件0起" in html
        return
    warned = 0
    for r in inc.itertuples(index=False):
        before = [t.get(r.dispute_id) for at, t in county.runs if at <= r.occurred_at]
        warned += bool(before) and before[-1] in ("red", "orange")
    assert f"本月发生极端事件{len(inc)}起，其中{warned}起" in html


def test_a_bad_month_is_refused_with_what_to_send(county: SimpleNamespace) -> None:
    r = county.client.get("/ui/briefing", params={"month": "May 2024"})
    assert r.status_code == 400 and "YYYY-MM" in r.text
    earlier = county.client.get("/ui/briefing", params={"month": "2000-01"})
    assert earlier.status_code == 200 and "本月新增红色预警0件" in html_lib.unescape(earlier.text)
