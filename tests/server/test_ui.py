"""The web UI in headless Chromium (Debian's, driven by Playwright), one test per flow, against
a real keyed server: a conversation with a follow-up and citations, feedback, versions and
as-of, multi-file drag-and-drop upload with per-file progress, document management (search,
filters, paging, text, chunks, download, delete), the audit list and its trace, phone width.

Each flow writes screenshots to ``build/screenshots/`` (or ``$VERIRAG_SCREENSHOTS``) for a
person to look at; docs/ui.md shows them."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, SAMPLE
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
SHOTS = Path(os.environ.get("VERIRAG_SCREENSHOTS", ROOT / "build" / "screenshots"))

WARRANTY = """# Bike Warranty

## Frames

Every Larkspur frame carries a 7-year warranty against manufacturing defects.

## Components

Brakes, gears and wheels are covered for 2 years.
"""
NOTES = 30  # more notes than a page of the document list holds
DASH = "\u2013"  # the en dash of the pagers ("1-25 of 38" with it)


@dataclass
class UI:
    url: str
    admin: str
    reader: str
    docs: Path

    def api(self, key: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"})


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UI]:
    root = tmp_path_factory.mktemp("ui")
    docs = root / "docs"
    (docs / "notes").mkdir(parents=True)
    (docs / "bike-warranty.md").write_text(WARRANTY, encoding="utf-8")
    for n in range(NOTES):
        (docs / "notes" / f"note-{n:02d}.md").write_text(
            f"# Note {n}\n\nMeeting note number {n} about the quarterly review.\n",
            encoding="utf-8",
        )
    path = root / "kb"
    with KnowledgeBase(path) as kb:
        kb.ingest(SAMPLE / "v1")
        kb.ingest(docs / "bike-warranty.md")
        kb.ingest(docs / "notes", prefix="notes/", metadata={"tags": ["minutes"]})
        admin = kb.keys.create("root", admin=True)
        reader = kb.keys.create("otto")
    process, url, _ = start(path)
    try:
        yield UI(url, admin, reader, docs)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
        )
        yield launched
        launched.close()


def open_page(browser: Any, ui: UI, key: str, fragment: str, **context: Any) -> Any:
    """A new browser context signed in with ``key`` (as the key box keeps it), at ``fragment``."""
    page = browser.new_context(**context).new_page()
    page.add_init_script(f"localStorage.setItem('verirag-key', {json.dumps(key)})")
    page.goto(ui.url + "/" + fragment)
    return page


def shot(page: Any, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
    assert (SHOTS / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def ask(page: Any, question: str) -> Any:
    """Ask in the Ask view and wait for the checked answer of the new turn."""
    before = page.locator("#thread .turn").count()
    page.fill("#question", question)
    with page.expect_response("**/api/ask") as asked:
        page.click("#ask-form button[type=submit]")
    assert asked.value.headers["content-type"].startswith("text/event-stream")  # streamed
    turn = page.locator("#thread .turn").nth(before)
    turn.locator(".answer .feedback").wait_for()
    return turn


def test_a_conversation_with_a_follow_up_citations_and_feedback(browser: Any, ui: UI) -> None:
    page = open_page(browser, ui, ui.reader, "#ask")
    first = ask(page, "How long is the warranty on a frame?")
    assert "7-year" in first.locator(".answer-text").text_content()
    # The follow-up alone names no subject: it is searched with the thread's terms, shown.
    second = ask(page, "And the brakes?")
    assert "2 years" in second.locator(".answer-text").text_content()
    rewritten = second.locator(".rewritten").text_content()
    assert "Searched as" in rewritten and "warranty" in rewritten.lower()
    assert page.locator("#conversations li").count() == 1
    assert page.text_content("#conversations li.active span") == (
        "How long is the warranty on a frame?"
    )
    first.locator(".chip").first.click()
    mark = page.wait_for_selector("#source mark#cited-span")
    # The sentence the answer took, not the whole passage around it.
    assert mark.text_content() == (
        "Every Larkspur frame carries a 7-year warranty against manufacturing defects."
    )
    assert "version 1 (current)" in page.text_content("#source-meta")
    shot(page, "ask-conversation")

    # Feedback on the follow-up's answer, kept with its audit record.
    second.locator(".feedback input").fill("wanted the gears too")
    second.locator(".feedback button[data-helpful=false]").click()
    second.locator(".feedback :text('recorded')").wait_for()
    answer_id = second.locator(".answer-meta").text_content().split()[1]
    with ui.api(ui.reader) as otto:
        record = otto.get(f"/api/audit/{answer_id}").json()
    assert [(f["helpful"], f["comment"]) for f in record["feedback"]] == [
        (False, "wanted the gears too")
    ]

    # A new conversation starts empty; the kept one opens again with its turns and citations.
    page.click("#new-conversation")
    assert page.locator("#thread .turn").count() == 0
    page.click("#conversations li")
    page.wait_for_selector("#thread .turn:nth-child(2) .chip")
    assert "Searched as" in page.text_content("#thread .turn:nth-child(2) .rewritten")
    pressed = page.locator("#thread .turn:nth-child(2) .feedback button[aria-pressed=true]")
    assert pressed.text_content() == "\u2717 Not helpful"
    page.context.close()


def test_a_new_version_its_diff_and_the_past_asked_as_of(browser: Any, ui: UI) -> None:
    page = open_page(browser, ui, ui.admin, "#documents")
    helmets = ui.docs / "helmet-policy.md"
    helmets.write_text("# Helmets\n\nA cracked helmet is replaced free within 3 years.\n")
    page.set_input_files("#upload-file", str(helmets))
    page.wait_for_selector("#uploads li:has-text('helmet-policy.md: new')")
    before = datetime.now() + timedelta(seconds=1)  # local time, as the picker is
    time.sleep(2.1)
    helmets.write_text("# Helmets\n\nA cracked helmet is replaced free within 5 years.\n")
    page.set_input_files("#upload-file", str(helmets))
    page.wait_for_selector("#uploads li:has-text('helmet-policy.md: changed')")
    page.fill("#doc-search", "helmet")
    page.click("#doc-table td:text-is('helmet-policy.md')")
    page.wait_for_selector("#version-table tbody tr:nth-child(2)")
    page.click("#diff-form button[type=submit]")
    page.wait_for_selector("#diff td.del")
    assert "3 years" in page.text_content("#diff td.del")
    assert "5 years" in page.text_content("#diff td.add")
    shot(page, "document-diff")

    page.click("nav a[data-page=ask]")
    turn = ask(page, "How long is a cracked helmet replaced free?")
    assert "5 years" in turn.locator(".answer-text").text_content()
    turn.locator(".chip").first.click()
    page.wait_for_selector("#source-meta:has-text('version 2 (current)')")
    change = page.text_content("#source-change")
    assert "3 years" in change and "5 years" in change
    page.fill("#as-of", before.strftime("%Y-%m-%dT%H:%M:%S"))
    turn = ask(page, "How long is a cracked helmet replaced free?")
    assert "3 years" in turn.locator(".answer-text").text_content()
    turn.locator(".chip").first.click()
    page.wait_for_selector("#source-meta:has-text('version 1 (superseded)')")
    shot(page, "ask-as-of")
    page.context.close()


DROPPED = """async ([files]) => {
  const data = new DataTransfer();
  for (const [name, text] of files) data.items.add(new File([text], name));
  document.querySelector("#drop-zone").dispatchEvent(
    new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
}"""


def test_many_files_dropped_each_with_its_progress(browser: Any, ui: UI) -> None:
    page = open_page(browser, ui, ui.admin, "#documents")
    page.wait_for_selector("#drop-zone", state="visible")
    files = [
        ["tent-care.md", "# Tents\n\nDry a tent before storing it.\n"],
        ["stove-safety.md", "# Stoves\n\nNever run a stove inside a tent.\n"],
        ["broken.pdf", "%PDF-1.4 not really a pdf"],
    ]
    page.fill("#upload-access", "outdoor, public")
    page.evaluate(DROPPED, [files])
    rows = page.locator("#uploads li")
    for name in ("tent-care.md: new", "stove-safety.md: new", "broken.pdf: failed"):
        page.wait_for_selector(f"#uploads li:has-text('{name}')")
    assert rows.count() == 3
    assert page.locator("#uploads li.failed").count() == 1
    assert "corrupt or unreadable PDF" in page.text_content("#uploads li.failed")
    for i in range(3):  # every bar ran to its end
        assert rows.nth(i).locator("progress").evaluate("p => p.value") == 1
    page.fill("#doc-search", "tent-care")
    page.wait_for_selector("#doc-table td:text-is('tent-care.md')")
    assert "outdoor" in page.text_content("#doc-table tbody tr")
    shot(page, "upload")
    page.context.close()


def test_documents_searched_filtered_paged_read_and_deleted(browser: Any, ui: UI) -> None:
    page = open_page(browser, ui, ui.admin, "#documents")
    count = page.locator("#doc-count")
    page.wait_for_selector("#doc-count:has-text(' of ')")
    total = int(count.text_content().split(" of ")[1])
    assert count.text_content() == f"1{DASH}25 of {total}" and total >= NOTES + 8
    assert page.locator("#doc-table tbody tr").count() == 25
    page.click("#doc-next")
    page.wait_for_selector(f"#doc-count:text-is('26{DASH}{min(total, 50)} of {total}')")
    assert page.is_disabled("#doc-next") == (total <= 50)

    page.select_option("#doc-tag", "minutes")
    page.wait_for_selector(f"#doc-count:text-is('1{DASH}25 of {NOTES}')")
    page.fill("#doc-search", "note-1")
    page.wait_for_selector(f"#doc-count:text-is('1{DASH}10 of 10')")
    page.fill("#doc-search", "")
    page.select_option("#doc-tag", "")
    page.select_option("#doc-format", "csv")
    page.wait_for_selector(f"#doc-count:text-is('1{DASH}1 of 1')")
    page.click("#doc-table td:text-is('stores.csv')")
    page.click(".tabs button[data-tab=text]")
    page.wait_for_selector("#doc-text:visible")
    assert "version 1 (current)" in page.text_content("#text-version")
    page.click(".tabs button[data-tab=chunks]")
    assert page.locator("#doc-chunks li").count() >= 1
    shot(page, "document-chunks")
    with page.expect_download() as download:
        page.click("#doc-download")
    saved = Path(download.value.path()).read_text(encoding="utf-8")
    assert saved == page.text_content("#doc-text") and saved

    page.select_option("#doc-format", "")
    page.fill("#doc-search", "note-29")
    page.click("#doc-table td:text-is('notes/note-29.md')")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#doc-delete")
    page.wait_for_selector("#doc-count:text-is('no documents match')")
    with ui.api(ui.admin) as root:
        assert root.get("/api/documents/notes/note-29.md").json()["current_version"] is None
    page.context.close()

    # A reader sees the documents, but neither the upload box nor a delete button.
    page = open_page(browser, ui, ui.reader, "#documents")
    page.wait_for_selector("#doc-table td:text-is('bike-warranty.md')")
    page.click("#doc-table td:text-is('bike-warranty.md')")
    page.wait_for_selector("#doc-detail:visible")
    assert not page.is_visible("#drop-zone") and not page.is_visible("#doc-delete")
    page.context.close()


def test_the_audit_list_pages_and_its_trace_fits_the_screen(browser: Any, ui: UI) -> None:
    with ui.api(ui.admin) as root:
        for n in range(22):
            root.post("/api/ask", json={"question": f"What does meeting note {n} review?"})
    page = open_page(browser, ui, ui.admin, "#audit", viewport={"width": 1280, "height": 720})
    page.wait_for_selector(f"#audit-page:has-text('answers 1{DASH}20')")
    assert page.locator("#audit-table tbody tr").count() == 20
    page.click("#audit-next")
    page.wait_for_selector(f"#audit-page:has-text('answers 21{DASH}')")
    page.click("#audit-prev")
    page.wait_for_selector(f"#audit-page:has-text('answers 1{DASH}20')")
    page.click("#audit-table tbody tr >> nth=0")
    dialog = page.wait_for_selector("dialog#trace[open]")
    box = dialog.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 720 and box["width"] <= 1280
    assert "Retrieved" in page.text_content("#trace-body")
    assert page.text_content("#trace-title") == "What does meeting note 21 review?"
    shot(page, "audit-trace", full_page=False)  # the dialog over the screen
    page.click("#trace-close")
    assert not page.is_visible("dialog#trace")
    page.context.close()


def test_every_page_fits_a_phone(browser: Any, ui: UI) -> None:
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    page = open_page(browser, ui, ui.reader, "#ask", **phone)
    ask(page, "How long is the warranty on a frame?")
    for name in ("ask", "documents", "audit"):
        page.click(f"nav a[data-page={name}]")
        page.wait_for_selector(f"#page-{name}:visible")
        page.wait_for_load_state("networkidle")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, f"{name} is {wide}px wide on a 390px screen"
        assert page.locator("header").bounding_box()["width"] <= 390
        shot(page, f"phone-{name}")
    # The favicon the page names is there.
    icon = page.get_attribute("link[rel=icon]", "href")
    status = page.evaluate(f"fetch({json.dumps(icon)}).then(r => r.status)")
    assert status == 200
    page.context.close()
