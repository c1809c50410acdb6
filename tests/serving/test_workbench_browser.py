"""The workbench in a real browser: Debian's Chromium, headless, driven through Playwright,
against the riskwarn service itself (uvicorn on loopback) with the workbench under /ui.

A supervisor signs in, reads the queue by final tier with its tier colours, narrows it
with a filter, opens a case to read what raises and lowers its risk in Chinese (the
waterfall on the data scientist's view), raises a tier that is still raised after a reload
and sorts above the tier it left; the county overview, the Excel exports (opened with
openpyxl), the briefing PDF (its text read back) and the queue as cards at 390 px; a wrong
key is refused. Screenshots go
to ``$RISKWARN_SCREENSHOTS`` when set (``docs/screenshots`` for the README), else to a
temporary folder.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from riskwarn.features import REGISTRY
from riskwarn.loop import Member
from riskwarn.serving import Store, service

from .conftest import Keys, Served, fresh_store
from .test_workbench import SECRET, TIERS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIER_RGB = {
    "red": "rgb(198, 40, 40)",
    "orange": "rgb(239, 108, 0)",
    "yellow": "rgb(249, 168, 37)",
    "blue": "rgb(21, 101, 192)",
}


@dataclass
class Site:
    url: str  # the workbench root, e.g. http://127.0.0.1:PORT/ui
    keys: Keys
    store: Store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def site(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The service on a free loopback port over its own store, with three monthly snapshots
    of the open cases taken through its own endpoint, as an admin would."""
    path = tmp_path_factory.mktemp("web") / "service.db"
    store, keys = fresh_store(served, path)
    port = _free_port()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RISKWARN_DB_URL", f"sqlite:///{path}")
        mp.setenv("RISKWARN_SESSION_SECRET", SECRET)
        app = service.to_asgi()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
            time.sleep(0.05)
        root = f"http://127.0.0.1:{port}"
        end = served.dataset.end.normalize()
        for back in (60, 30, 0):
            day = (end - pd.Timedelta(days=back)).strftime("%Y-%m-%d")
            r = httpx.post(
                root + "/v1/snapshot",
                json={"as_of": day},
                headers=keys.header("admin"),
                timeout=120,
            )
            assert r.status_code == 200, r.text
        yield Site(root + "/ui", keys, store)
        server.should_exit = True
        thread.join(timeout=10)


def chinese_fonts(env: dict[str, str] | None = None) -> list[str]:
    """The font families fontconfig offers for Chinese (what Chromium draws 汉字 with)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    found = subprocess.run(
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, env=env, check=False
    )
    return [line.strip() for line in found.stdout.splitlines() if line.strip()]


def require_chinese_fonts(env: dict[str, str] | None = None) -> None:
    """Fail unless Chinese fonts are installed: without them every 汉字 is drawn as a box,
    and the page tests (which read the DOM, not the pixels) would pass all the same."""
    if not chinese_fonts(env):
        pytest.fail(
            "expected a font for Chinese text (`fc-list :lang=zh family` printed none); "
            "install one: apt-get install -y fonts-noto-cjk"
        )


def test_missing_chinese_fonts_fail_the_browser_tests(tmp_path: Path) -> None:
    empty = tmp_path / "fonts.conf"  # a fontconfig that knows no font folders at all
    empty.write_text(f"<fontconfig><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>")
    with pytest.raises(pytest.fail.Exception, match="fonts-noto-cjk"):
        require_chinese_fonts({**os.environ, "FONTCONFIG_FILE": str(empty)})
    require_chinese_fonts()  # and this machine has them


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    require_chinese_fonts()
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile (no cookies) per test; it must log no error (a blocked
    script or style, a missing file) on the way."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    context.close()
    # The sign-in refusals answer 401/403 on purpose; the browser logs those loads.
    unexpected = [e for e in errors if "status of 401" not in e and "status of 403" not in e]
    assert not unexpected, unexpected


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("RISKWARN_SCREENSHOTS")
    folder = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000, f"{path} looks blank"


def sign_in(page: Page, site: Site, key: str) -> None:
    page.goto(site.url + "/queue")
    assert "/ui/signin" in page.url
    page.fill("#key", key)
    page.click("#sign-in")


def rows(page: Page) -> list[dict[str, Any]]:
    return page.eval_on_selector_all(
        "#queue tr.row",
        """rows => rows.map(r => ({
            id: r.dataset.dispute,
            risk: parseFloat(r.dataset.risk),
            tier: r.dataset.tier,
            badge: getComputedStyle(r.querySelector('.badge')).backgroundColor,
            edge: getComputedStyle(r.querySelector('td')).borderLeftColor,
            category: r.children[7].textContent.trim(),
        }))""",
    )


def test_the_service_mounts_the_workbench_at_ui() -> None:
    assert [path for _, path, name in service.mount_apps if name == "workbench"] == ["/ui"]


def test_a_wrong_key_is_refused(page: Page, site: Site) -> None:
    sign_in(page, site, "rwk_0000_not-a-key")
    assert "密钥不正确或已停用" in page.inner_text("#error")
    assert "/ui/signin" in page.url and page.locator("#queue").count() == 0
    page.fill("#key", site.keys.scorer)
    page.click("#sign-in")
    assert "supervisor" in page.inner_text("#error")
    page.goto(site.url + "/queue")
    assert "/ui/signin" in page.url


def by_final_tier(listed: list[dict[str, Any]]) -> bool:
    keys = [(TIERS.index(r["tier"]), r["risk"]) for r in listed]
    return keys == sorted(keys, reverse=True)


def test_the_queue_lists_cases_by_final_tier_with_tier_colours(
    page: Page, site: Site, shots: Path
) -> None:
    sign_in(page, site, site.keys.supervisor)
    page.wait_for_selector("#queue")
    assert page.url.endswith("/ui/queue")
    listed = rows(page)
    assert listed, "the queue lists the open cases"
    assert by_final_tier(listed)
    for r in listed:
        assert r["badge"] == TIER_RGB[r["tier"]] and r["edge"] == TIER_RGB[r["tier"]]
    assert "风险队列" in page.inner_text("h1")
    page.click(".main-nav a[href$='/model']")
    page.wait_for_selector("#calibration svg")
    shoot(page, shots / "model.png")


def test_a_filter_narrows_the_queue(page: Page, site: Site) -> None:
    sign_in(page, site, site.keys.supervisor)
    page.wait_for_selector("#queue")
    before = rows(page)
    counts: dict[str, int] = {}
    for r in before:
        counts[r["category"]] = counts.get(r["category"], 0) + 1
    rare = min(counts, key=lambda c: counts[c])
    value = page.eval_on_selector(
        "#f-category", f"s => [...s.options].find(o => o.text === {rare!r}).value"
    )
    with page.expect_navigation():
        page.select_option("#f-category", value)  # the page applies it on change
    assert f"category={value}" in page.url
    after = rows(page)
    everything = page.request.get(f"{site.url}/api/queue").json()["total"]
    narrowed = page.request.get(f"{site.url}/api/queue?category={value}").json()["total"]
    assert 0 < len(after) == min(narrowed, 50) and narrowed < everything
    assert len(after) >= counts[rare]  # at least the ones seen on the first page
    assert {r["category"] for r in after} == {rare}
    assert by_final_tier(after)


def raising(data: dict[str, Any]) -> list[dict[str, Any]]:
    """What the case page offers as raising the risk: the largest positive contributions
    that are not absences (a zero count, a flag not set)."""
    return [
        c
        for c in data["contributions"]
        if c["contribution"] > 0 and not REGISTRY.absent(c["feature"], c["value"])
    ][:5]


def test_a_case_shows_its_reasons_in_chinese_and_its_waterfall(
    page: Page, site: Site, shots: Path
) -> None:
    sign_in(page, site, site.keys.supervisor)
    page.wait_for_selector("#queue")
    first = rows(page)[0]["id"]
    page.click(f"#queue tr.row[data-dispute='{first}'] a.case-link")
    page.wait_for_selector("#reasons")
    assert page.inner_text("#case-id") == first
    data = page.request.get(f"{site.url}/api/case", params={"id": first}).json()
    town = data["township"]
    for name in ("李调解员", "王调解员"):
        person = Member(name=name, role="mediator", level="township", township=town)
        site.store.add_member(person, by="ops", request_id="browser-test")
    up = raising(data)
    shown = page.eval_on_selector_all("#reasons li", "items => items.map(i => i.textContent)")
    assert len(shown) == len(up) > 0
    for text, reason in zip(shown, up, strict=True):
        assert text.strip().startswith(reason["text_zh"]) and "推高风险" in text
        assert_reads_aloud(reason["text_zh"])
    body = page.inner_text("main")
    assert "对数几率" not in body and "模型得分" not in body  # log-odds: explain view only
    assert "%" in page.inner_text("#case-risk")
    with page.expect_navigation():
        page.click("#explain-link")
    page.wait_for_selector("#waterfall svg")
    bars = page.locator("#waterfall svg rect")
    assert bars.count() >= len(data["reasons"]) + 2  # base, the steps, the score
    box = page.locator("#waterfall svg").bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 200
    labels = page.eval_on_selector_all("#waterfall .wf-label", "ls => ls.map(l => l.textContent)")
    assert labels[0] == "基准值" and labels[-1] == "模型得分"
    assert page.locator("#network svg g.party").count() >= 1
    page.goto(f"{site.url}/case?id={first}")
    with page.expect_navigation():
        page.click("#do-acknowledge")
    assert "county-centre" in page.inner_text("#acked")  # who and when, no second button
    assert page.locator("#do-acknowledge").count() == 0
    page.select_option("#assignee", "李调解员")
    with page.expect_navigation():
        page.click("#do-assign")
    assert page.inner_text("#case-assignee") == "李调解员"
    assert page.locator("#history li").count() == 2
    shoot(page, shots / "case.png")
    with page.expect_navigation():
        page.click("#lang-en")
    english = page.eval_on_selector_all("#reasons li", "items => items.map(i => i.textContent)")
    for text, reason in zip(english, up, strict=True):
        assert text.strip().startswith(reason["text_en"]) and "raises the risk" in text
    page.goto(f"{site.url}/case?id={first}&view=explain")
    assert page.text_content("#waterfall .wf-label >> nth=0") == "Base value"
    shoot(page, shots / "case_en.png")
    with page.expect_navigation():
        page.click("#lang-zh")


def test_a_tier_raise_persists_after_reload(page: Page, site: Site, shots: Path) -> None:
    sign_in(page, site, site.keys.supervisor)
    page.wait_for_selector("#queue")
    warned = site.store.open_warnings()  # a case without one: its tier is the model's alone
    target = next(
        r for r in rows(page) if r["tier"] in ("blue", "yellow") and r["id"] not in warned
    )
    page.goto(f"{site.url}/case?id={target['id']}")
    current = page.get_attribute("#case-tier", "data-tier")
    assert current is not None
    higher = TIERS[TIERS.index(current) + 1]
    page.select_option("#raise-tier", higher)
    page.fill("#raise-reason", "当事人扬言报复，需提级关注")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#do-raise")
    assert page.get_attribute("#case-tier", "data-tier") == higher
    page.reload()
    assert page.get_attribute("#case-tier", "data-tier") == higher
    assert "人工调高" in page.inner_text(".verdict")
    with page.expect_navigation():
        page.click("#do-acknowledge")
    town = page.request.get(f"{site.url}/api/case", params={"id": target["id"]}).json()
    person = Member(name="张调解员", role="mediator", level="township", township=town["township"])
    site.store.add_member(person, by="ops", request_id="browser-test")
    page.reload()
    page.select_option("#assignee", "张调解员")
    with page.expect_navigation():
        page.click("#do-assign")
    page.fill("#note", "已上门走访，双方情绪激动，建议周内联合调解")
    with page.expect_navigation():
        page.click("#do-note")
    options = page.eval_on_selector_all("#raise-tier option", "os => os.map(o => o.value)")
    assert current not in options and higher not in options  # nothing lower is offered
    page.goto(f"{site.url}/queue?tier={higher}")
    listed = rows(page)
    row = next(r for r in listed if r["id"] == target["id"])
    assert row["tier"] == higher and row["badge"] == TIER_RGB[higher]
    shown = page.locator(f"#queue tr.row[data-dispute='{target['id']}']")
    assert "人工调高" in shown.inner_text()
    assert shown.locator(".assignee").inner_text() == "张调解员"
    assert shown.locator(".ack .check").count() == 1
    assert shown.locator(".notes .note-count").inner_text() == "✎ 1"
    assert "建议周内联合调解" in (shown.locator(".note-count").get_attribute("title") or "")
    page.goto(site.url + "/queue")
    shoot(page, shots / "queue.png")
    stored = [a for a in site.store.actions_for(target["id"]) if a["kind"] == "raise_tier"]
    assert stored[-1]["tier"] == higher and stored[-1]["key_name"] == "county-centre"
    assert stored[-1]["reason"] == "当事人扬言报复，需提级关注"


def test_a_supervisor_acknowledges_a_warning_and_its_timeline_shows_it(
    page: Page, site: Site, shots: Path
) -> None:
    """The case page shows the case's warning (tier, state, owner, deadlines), acknowledging
    it moves the warning on, and its timeline and the API's history both show who did it;
    the overview counts it among the open warnings, the evaluation page lists it."""
    warned = [w for w in site.store.open_warnings().values() if w.state == "issued"]
    w = max(warned, key=lambda w: (TIERS.index(w.tier), w.risk))
    sign_in(page, site, site.keys.supervisor)
    page.wait_for_selector("#queue")
    page.goto(f"{site.url}/case?id={w.dispute_id}")
    box = page.locator("#warning")
    assert box.is_visible() and box.get_attribute("data-warning") == w.warning_id
    assert page.inner_text("#warning-state") == "已预警"
    assert page.get_attribute("#warning-tier", "data-tier") == w.tier
    step = page.locator("#warning-deadlines tr[data-step='acknowledge']")
    assert step.get_attribute("data-status") == "pending" and "签收" in step.inner_text()
    assert page.locator("#warning-events li").first.get_attribute("data-kind") == "issue"
    with page.expect_navigation():
        page.click("#do-acknowledge")
    assert page.inner_text("#warning-state") == "已签收"
    assert page.get_attribute("#warning", "data-state") == "acknowledged"
    newest = page.locator("#warning-events li").first
    assert newest.get_attribute("data-kind") == "acknowledge"
    assert "签收" in newest.inner_text() and "county-centre" in newest.inner_text()
    done = page.locator("#warning-deadlines tr[data-step='acknowledge']")
    assert done.get_attribute("data-status") == "on_time"
    shoot(page, shots / "case_warning.png")
    api = httpx.get(
        site.url.removesuffix("/ui") + f"/v1/warnings/{w.warning_id}",
        headers=site.keys.header("scorer"),
        timeout=30,
    ).json()
    assert api["warning"]["state"] == "acknowledged"
    assert [(e["kind"], e["by"]) for e in api["events"]][-1] == ("acknowledge", "county-centre")
    with page.expect_navigation():
        page.click("#nav-overview")
    cell = page.locator(
        f"#loop-table tr[data-township='{w.township}'][data-tier='{w.tier}'] td[data-count='open']"
    )
    assert int(cell.inner_text()) >= 1
    with page.expect_navigation():
        page.click("#nav-evaluation")
    issued = page.locator(f"#ev-table tr[data-tier='{w.tier}'] td[data-col='warnings']")
    assert sum(int(n) for n in issued.all_inner_texts()) >= 1
    assert "注意" in page.inner_text("#ev-caution")
    shoot(page, shots / "evaluation.png")


LATIN = re.compile(r"[A-Za-z]")
HALF_WIDTH = re.compile(r"[,:;()!?]")


def assert_reads_aloud(text: str) -> None:
    """A Chinese reason as a supervisor reads it: no Latin words, no log, full-width
    punctuation (a decimal point and % are numbers, not punctuation)."""
    assert not LATIN.search(text), text
    assert "对数" not in text and not HALF_WIDTH.search(text), text
    assert "." not in re.sub(r"\d\.\d", "", text), text


def test_reasons_on_the_first_cases_follow_the_wording_rules(page: Page, site: Site) -> None:
    sign_in(page, site, site.keys.supervisor)
    page.wait_for_selector("#queue")
    for r in rows(page)[:6]:
        page.goto(f"{site.url}/case?id={r['id']}")
        items = page.eval_on_selector_all(
            "#reasons li, #reasons-down li",
            "items => items.map(i => [i.dataset.direction, i.firstChild.textContent.trim()])",
        )
        data = page.request.get(f"{site.url}/api/case", params={"id": r["id"]}).json()
        values = {c["feature"]: c["value"] for c in data["contributions"]}
        features = page.eval_on_selector_all(
            "#reasons li", "items => items.map(i => i.dataset.feature)"
        )
        for feature in features:  # an absence is never offered as raising the risk
            assert not REGISTRY.absent(feature, values[feature]), feature
        for _, text in items:
            assert_reads_aloud(text)


def test_a_raised_case_sorts_above_the_tier_it_left(page: Page, site: Site) -> None:
    sign_in(page, site, site.keys.supervisor)
    page.wait_for_selector("#queue")
    listed = page.request.get(f"{site.url}/api/queue", params={"tier": "orange"}).json()["rows"]
    if not listed:
        listed = page.request.get(f"{site.url}/api/queue", params={"tier": "yellow"}).json()["rows"]
    target = listed[-1]  # the lowest risk of its tier
    page.goto(f"{site.url}/case?id={target['dispute_id']}")
    page.select_option("#raise-tier", "red")
    page.fill("#raise-reason", "一方扬言报复，调高为红色")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#do-raise")
    page.goto(site.url + "/queue")
    order = rows(page)
    at = next(i for i, r in enumerate(order) if r["id"] == target["dispute_id"])
    assert order[at]["tier"] == "red"
    assert all(r["tier"] == "red" for r in order[:at])  # no orange case above it
    assert by_final_tier(order)
    with page.expect_navigation():
        page.select_option("#f-sort", "risk")
    risks = [r["risk"] for r in rows(page)]
    assert risks == sorted(risks, reverse=True)
    with page.expect_navigation():
        page.check("#f-unacked")
    assert "unacked=1" in page.url
    acked = {a["dispute_id"] for a in site.store.actions_for() if a["kind"] == "acknowledge"}
    assert rows(page) and not acked & {r["id"] for r in rows(page)}


def test_the_county_overview_clicks_through_to_the_queue(
    page: Page, site: Site, shots: Path
) -> None:
    sign_in(page, site, site.keys.supervisor)
    page.wait_for_selector("#queue")
    page.click("#nav-overview")
    page.wait_for_selector("#heat-township")
    assert "全县概览" in page.inner_text("h1")
    assert page.locator("#trend svg rect").count() >= 4
    cells = page.eval_on_selector_all(
        "#heat-township td[data-tier] a", "as => as.map(a => a.textContent.trim())"
    )
    assert cells and all(c == "<5" or c == "0" or int(c) >= 5 for c in cells)
    shoot(page, shots / "overview.png")
    town = page.get_attribute("#heat-township tbody tr >> nth=0", "data-township")
    with page.expect_navigation():
        page.select_option("#ov-f-township", town)
    assert page.inner_text("#ov-township") == town
    grids = page.eval_on_selector_all(
        "#heat-grid tbody tr", "rs => rs.map(r => r.dataset.township)"
    )
    assert grids and set(grids) == {town}
    with page.expect_navigation():
        page.click("#heat-grid tbody tr >> nth=0 >> td:nth-child(2) a")
    assert "/ui/queue" in page.url and "grid=" in page.url
    listed = rows(page)
    total = page.request.get(f"{site.url}/api/queue?{page.url.split('?')[1]}").json()["total"]
    assert len(listed) == min(total, 50)


def test_exports_download_as_excel_and_the_briefing_as_a_pdf(
    page: Page, site: Site, shots: Path
) -> None:
    from openpyxl import load_workbook
    from pypdf import PdfReader

    sign_in(page, site, site.keys.supervisor)
    page.wait_for_selector("#queue")
    with page.expect_navigation():
        page.select_option("#f-tier", "blue")
    with page.expect_download() as got:
        page.click("#export-queue")
    # Playwright keeps a download under a name without its extension, which openpyxl
    # refuses: read it from its bytes
    sheet = load_workbook(io.BytesIO(got.value.path().read_bytes()))["风险队列"]
    exported = list(sheet.iter_rows(min_row=2, values_only=True))
    total = page.request.get(f"{site.url}/api/queue", params={"tier": "blue"}).json()["total"]
    assert len(exported) == total > 0 and {r[2] for r in exported} == {"蓝色"}
    page.goto(site.url + "/overview")
    with page.expect_download() as got:
        page.click("#export-overview")
    assert got.value.suggested_filename.endswith(".xlsx")
    assert "各网格" in load_workbook(io.BytesIO(got.value.path().read_bytes())).sheetnames
    page.click("#nav-briefing")
    page.wait_for_selector("#briefing-title")
    assert "研判报告" in page.inner_text("#briefing-title")
    shoot(page, shots / "briefing.png")
    with page.expect_download() as got:
        page.click("#briefing-pdf")
    assert got.value.suggested_filename.endswith(".pdf")
    text = "".join(p.extract_text() for p in PdfReader(got.value.path()).pages)
    text = re.sub(r"[\s\x00]+", "", text)  # pypdf: a NUL before each two-byte code
    assert "矛盾纠纷风险研判报告" in text and "本月新增红色预警" in text
    actions = {e["action"] for e in site.store.audit_entries(limit=50)}
    assert {"export:queue.xlsx", "export:overview.xlsx", "export:briefing.pdf"} <= actions


def test_at_390_px_the_queue_is_cards_and_the_header_reads(
    browser: Browser, site: Site, shots: Path
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone = context.new_page()
    sign_in(phone, site, site.keys.supervisor)
    phone.wait_for_selector("#queue")
    first = phone.locator("#queue tr.row").first
    assert first.evaluate("r => getComputedStyle(r).display") == "grid"
    assert phone.locator("#queue thead").evaluate("h => getComputedStyle(h).display") == "none"
    width = phone.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 392, f"the page scrolls sideways at 390 px ({width} px wide)"
    for link in phone.locator(".main-nav a").all():
        box = link.bounding_box()
        assert box is not None and box["height"] < 40 and box["width"] > 30  # not one 字 a line
    shoot(phone, shots / "queue_390.png")
    phone.goto(site.url + "/overview")
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 392
    context.close()
