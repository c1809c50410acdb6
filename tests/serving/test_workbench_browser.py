"""The workbench in a real browser: Debian's Chromium, headless, driven through Playwright,
against the riskwarn service itself (uvicorn on loopback) with the workbench under /ui.

A supervisor signs in, reads the queue in risk order with its tier colours, narrows it
with a filter, opens a case to read its reasons in Chinese beside the waterfall chart,
raises a tier that is still raised after a reload; a wrong key is refused. Screenshots go
to ``$RISKWARN_SCREENSHOTS`` when set (``docs/screenshots`` for the README), else to a
temporary folder.
"""

from __future__ import annotations

import os
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


def test_the_queue_lists_cases_in_risk_order_with_tier_colours(
    page: Page, site: Site, shots: Path
) -> None:
    sign_in(page, site, site.keys.supervisor)
    page.wait_for_selector("#queue")
    assert page.url.endswith("/ui/queue")
    listed = rows(page)
    assert listed, "the queue lists the open cases"
    risks = [r["risk"] for r in listed]
    assert risks == sorted(risks, reverse=True)
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
    assert [r["risk"] for r in after] == sorted((r["risk"] for r in after), reverse=True)


def test_a_case_shows_its_reasons_in_chinese_and_its_waterfall(
    page: Page, site: Site, shots: Path
) -> None:
    sign_in(page, site, site.keys.supervisor)
    page.wait_for_selector("#queue")
    first = rows(page)[0]["id"]
    page.click(f"#queue tr.row[data-dispute='{first}'] a.case-link")
    page.wait_for_selector("#waterfall svg")
    assert page.inner_text("#case-id") == first
    data = page.request.get(f"{site.url}/api/case", params={"id": first}).json()
    shown = page.eval_on_selector_all("#reasons li", "items => items.map(i => i.textContent)")
    assert len(shown) == len(data["reasons"]) > 0
    for text, reason in zip(shown, data["reasons"], strict=True):
        assert text.strip().startswith(reason["text_zh"])
        assert any("\u4e00" <= ch <= "\u9fff" for ch in reason["text_zh"])
    bars = page.locator("#waterfall svg rect")
    assert bars.count() >= len(data["reasons"]) + 2  # base, the steps, the score
    box = page.locator("#waterfall svg").bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 200
    labels = page.eval_on_selector_all("#waterfall .wf-label", "ls => ls.map(l => l.textContent)")
    assert labels[0] == "基准值" and labels[-1] == "模型得分"
    assert page.locator("#network svg g.party").count() >= 1
    with page.expect_navigation():
        page.click("#do-acknowledge")
    page.fill("#assignee", "李调解员")
    with page.expect_navigation():
        page.click("#do-assign")
    assert page.inner_text("#case-assignee") == "李调解员"
    assert page.locator("#history li").count() == 2
    shoot(page, shots / "case.png")
    with page.expect_navigation():
        page.click("#lang-en")
    english = page.eval_on_selector_all("#reasons li", "items => items.map(i => i.textContent)")
    for text, reason in zip(english, data["reasons"], strict=True):
        assert text.strip().startswith(reason["text_en"])
    assert page.text_content("#waterfall .wf-label >> nth=0") == "Base value"
    shoot(page, shots / "case_en.png")
    with page.expect_navigation():
        page.click("#lang-zh")


def test_a_tier_raise_persists_after_reload(page: Page, site: Site, shots: Path) -> None:
    sign_in(page, site, site.keys.supervisor)
    page.wait_for_selector("#queue")
    target = next(r for r in rows(page) if r["tier"] in ("blue", "yellow"))
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
    page.fill("#assignee", "张调解员")
    with page.expect_navigation():
        page.click("#do-assign")
    page.fill("#note", "已上门走访，双方情绪激动，建议周内联合调解")
    with page.expect_navigation():
        page.click("#do-note")
    options = page.eval_on_selector_all("#raise-tier option", "os => os.map(o => o.value)")
    assert current not in options and higher not in options  # nothing lower is offered
    page.goto(site.url + "/queue")
    row = next(r for r in rows(page) if r["id"] == target["id"])
    assert row["tier"] == higher and row["badge"] == TIER_RGB[higher]
    shown = page.locator(f"#queue tr.row[data-dispute='{target['id']}']")
    assert "人工调高" in shown.inner_text()
    assert shown.locator(".assignee").inner_text() == "张调解员"
    assert shown.locator(".ack .check").count() == 1
    assert shown.locator(".notes .note-count").inner_text() == "✎ 1"
    assert "建议周内联合调解" in (shown.locator(".note-count").get_attribute("title") or "")
    shoot(page, shots / "queue.png")
    stored = [a for a in site.store.actions_for(target["id"]) if a["kind"] == "raise_tier"]
    assert stored[-1]["tier"] == higher and stored[-1]["key_name"] == "county-centre"
    assert stored[-1]["reason"] == "当事人扬言报复，需提级关注"
