"""Screenshots of the workbench on a running `make demo`, for the README.

    .venv/bin/python scripts/workbench_screenshots.py http://127.0.0.1:3000 \
        .riskwarn/demo-supervisor.key docs/screenshots

Signs in with the demo's supervisor key in Debian's Chromium (Playwright) and shoots the
overview, the queue (also at 390 px), the riskiest case, the briefing and the model page.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
PAGES = {1440: ("overview", "queue", "case", "briefing", "model"), 390: ("queue_390",)}


def main(root: str, key_file: str, out: str) -> None:
    key, folder = Path(key_file).read_text().strip(), Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for width, names in PAGES.items():
            context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
            context.set_default_timeout(120_000)
            page = context.new_page()
            page.goto(f"{root}/ui/queue")
            page.fill("#key", key)
            page.click("#sign-in")
            page.wait_for_selector("#queue")
            for name in names:
                page.goto(f"{root}/ui/{'queue' if name.startswith('queue') else name}")
                if name == "case":
                    page.goto(f"{root}/ui/queue")
                    href = page.get_attribute("#queue tr.row >> nth=0 >> a.case-link", "href")
                    page.goto(root + str(href))
                page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
                print(folder / f"{name}.png")
            context.close()
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
