"""The admin's records view in a real browser (Debian's Chromium through Playwright, against
the service on loopback): find a record, see a refused correction located on the page with
nothing written, correct it, read its history and the expiry dry run, and see on the case
page that its score was recomputed and why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page

from riskwarn.features import open_disputes
from riskwarn.serving import record_key

from .conftest import Served
from .test_workbench_browser import Site, browser, shoot, shots, sign_in, site  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:  # noqa: F811
    """A fresh profile per test that logs no error but the refusals it provokes (the
    browser logs a 4xx page load as one)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    context.close()
    unexpected = [e for e in errors if "status of 422" not in e and "status of 403" not in e]
    assert not unexpected, unexpected


def _flag(served: Served) -> tuple[str, dict, list[str]]:
    """A flag of a party of a dispute open on the last snapshot day, and its disputes."""
    day = served.dataset.end.normalize() + pd.Timedelta(hours=23)
    parties = served.dataset.dispute_parties
    live = parties[parties["dispute_id"].isin(set(open_disputes(served.dataset, day)))]
    flags = served.dataset.person_flags
    row = flags[flags["person_id"].isin(set(live["person_id"]))].iloc[-1]
    own = sorted(set(live.loc[live["person_id"] == row["person_id"], "dispute_id"]))
    return record_key("person_flags", row.to_dict()), row.to_dict(), own


def test_an_admin_corrects_a_record_and_the_case_says_its_score_was_recomputed(
    page: Page,
    site: Site,  # noqa: F811
    served: Served,
    shots: Path,  # noqa: F811
) -> None:
    key, row, own = _flag(served)
    sign_in(page, site, site.keys.admin)
    page.wait_for_selector("#queue")
    with page.expect_navigation():
        page.click("#nav-records")
    assert page.locator("#expiry").is_visible()  # the dry run, on the view
    expired = page.locator("#expiry-lines tr[data-table]").count()
    page.select_option("#r-table", "person_flags")
    page.fill("#r-id", key)
    with page.expect_navigation():
        page.click("#do-find")
    assert page.input_value("#set-flag") == row["flag"]
    before = site.store.read_dataset().digest()

    page.fill("#set-flag", "drug_usr")
    page.fill("#r-reason", "类别录入有误")
    with page.expect_navigation():
        page.click("#do-correct")
    assert "refused" in page.inner_text("#error") and "drug_user" in page.inner_text("#error")
    assert page.locator("#issues tr[data-field='flag']").count() == 1
    assert page.locator("#current tr[data-column='flag'].marked").count() == 1
    assert site.store.read_dataset().digest() == before  # refused whole: nothing written

    level = "1" if pd.isna(row["level"]) or int(row["level"]) != 1 else "2"
    page.fill("#set-flag", row["flag"])
    page.fill("#set-level", level)
    page.fill("#r-reason", "危险等级经入户复核更正")
    with page.expect_navigation():
        page.click("#do-correct")
    assert "更正 #" in page.inner_text("#done")
    history = page.locator("#versions tr[data-kind='correction']")
    assert history.count() == 1
    assert "危险等级经入户复核更正" in history.inner_text() and "ops" in history.inner_text()
    assert page.input_value("#set-level") == level
    assert page.locator("#expiry-lines tr[data-table]").count() == expired
    shoot(page, shots / "records.png")

    recomputed = {s["dispute_id"] for s in site.store.latest_snapshots() if s["recomputed_reason"]}
    case = next(d for d in own if d in recomputed)
    page.goto(f"{site.url}/case?id={case}")
    note = page.locator("#recomputed li[data-kind='correction']").first
    assert "危险等级经入户复核更正" in note.inner_text()
    assert "→" in note.inner_text() and "person_flags" in note.inner_text()
    shoot(page, shots / "case_recomputed.png")
