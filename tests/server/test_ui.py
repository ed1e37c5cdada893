"""The web UI in headless Chromium (Debian's, driven by Playwright): upload a document, ask,
click a citation, see the cited span highlighted with its version."""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.server.conftest import start, stop
from verirag import KnowledgeBase

CHROMIUM = shutil.which("chromium")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="no chromium: apt-get install chromium chromium-driver"
    ),
]

WARRANTY = """# Bike Warranty

## Frames

Every Larkspur frame carries a 7-year warranty against manufacturing defects.

## Components

Brakes, gears and wheels are covered for 2 years.
"""


def test_upload_ask_and_open_a_citation(tmp_path: Path) -> None:
    path = tmp_path / "kb"
    KnowledgeBase(path).close()
    document = tmp_path / "bike-warranty.md"
    document.write_text(WARRANTY, encoding="utf-8")
    process, url, _ = start(path)
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(url + "/#documents")
            page.set_input_files("#upload-file", str(document))
            page.click("#upload-form button[type=submit]")
            page.wait_for_selector("#doc-table td:text-is('bike-warranty.md')")
            assert "bike-warranty.md: new" in page.text_content("#upload-status")

            page.click("nav a[data-page=ask]")
            page.fill("#question", "How long is the warranty on a frame?")
            page.click("#ask-form button[type=submit]")
            chip = page.wait_for_selector("#answer .chip")
            assert "7-year" in page.text_content("#answer-text")
            chip.click()
            mark = page.wait_for_selector("#source mark#cited-span")
            assert mark.is_visible()
            # The sentence the answer took, not the whole passage around it.
            assert mark.text_content() == (
                "Every Larkspur frame carries a 7-year warranty against manufacturing defects."
            )
            assert "version 1 (current)" in page.text_content("#source-meta")
            shot = tmp_path / "citation.png"
            page.screenshot(path=str(shot), full_page=True)

            # A new version (8-year frames); the past is still asked with the as-of picker.
            before = datetime.now() + timedelta(seconds=1)  # local time, as the picker is
            time.sleep(2.1)
            document.write_text(WARRANTY.replace("7-year", "8-year"), encoding="utf-8")
            page.click("nav a[data-page=documents]")
            page.set_input_files("#upload-file", str(document))
            page.click("#upload-form button[type=submit]")
            page.wait_for_selector("#upload-status:has-text('bike-warranty.md: changed')")
            page.click("#doc-table td:text-is('bike-warranty.md')")
            page.wait_for_selector("#version-table tbody tr:nth-child(2)")
            page.click("#diff-form button[type=submit]")
            assert "7-year" in page.text_content("#diff td.del")
            assert "8-year" in page.text_content("#diff td.add")

            page.click("nav a[data-page=ask]")
            page.click("#ask-form button[type=submit]")
            page.wait_for_selector("#answer-text:has-text('8-year')")
            page.click("#answer .chip")
            page.wait_for_selector("#source-meta:has-text('version 2 (current)')")
            change = page.text_content("#source-change")
            assert "7-year" in change and "8-year" in change
            page.fill("#as-of", before.strftime("%Y-%m-%dT%H:%M:%S"))
            page.click("#ask-form button[type=submit]")
            page.wait_for_selector("#answer-text:has-text('7-year')")
            page.click("#answer .chip")
            page.wait_for_selector("#source-meta:has-text('version 1 (superseded)')")

            page.click("nav a[data-page=audit]")
            page.wait_for_selector(
                "#audit-table td:text-is('How long is the warranty on a frame?')"
            )
            browser.close()
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        stop(process)
