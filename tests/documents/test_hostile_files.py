"""Hostile files, made here at small scale: each is reported with its reason within its cap,
and the files beside it are ingested. Real worker processes, real caps."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

from tests.conftest import write
from verirag import Config, KnowledgeBase, Status

GOOD = "# Good\n\nThe refund window is 30 days.\n"


def zip_bomb() -> bytes:
    """A DOCX whose document part inflates 64 MB of zeros from about 64 KB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (64 * 2**20))
    return buffer.getvalue()


def test_hostile_files_are_reported_and_the_batch_goes_on(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs, "good.md", GOOD)
    write(docs, "bomb.docx", zip_bomb())
    write(docs, "deep.html", "<html><body>" + "<div>" * 5000 + "x" + "</div>" * 5000)
    write(docs, "wide.csv", ",".join(f"c{i}" for i in range(5000)) + "\n" + "1," * 4999 + "1\n")
    write(docs, "n" * 240 + ".md", GOOD.replace("Good", "Long name"))
    write(docs, "utf16.txt", "A note in UTF-16 without a byte-order mark.".encode("utf-16-le"))
    outside = write(tmp_path / "outside", "passwd.md", "# root:x:0:0\n")
    os.symlink(outside, docs / "link.md")
    os.symlink(docs / "loop-b.md", docs / "loop-a.md")
    os.symlink(docs / "loop-a.md", docs / "loop-b.md")
    os.mkfifo(docs / "pipe.md")
    with KnowledgeBase(tmp_path / "kb") as kb:
        started = time.monotonic()
        report = kb.ingest(docs)
        elapsed = time.monotonic() - started
        reasons = {o.doc_id: o.reason for o in report.failed}
        assert "zip bomb" in reasons["bomb.docx"]
        assert "nested deeper" in reasons["deep.html"]
        assert "columns" in reasons["wide.csv"]
        assert "outside the folder" in reasons["link.md"]
        assert reasons["loop-a.md"] == reasons["loop-b.md"] == "symlink loop"
        assert "FIFO" in reasons["pipe.md"]
        assert report["good.md"].status is Status.NEW
        assert report["n" * 240 + ".md"].status is Status.NEW
        assert report["utf16.txt"].status is Status.NEW
        assert "byte-order mark" in (kb.version("utf16.txt").text or "")
        assert elapsed < 60  # nothing ran into the time cap
        assert "passwd.md" not in {d.doc_id for d in kb.documents()}
        # Opting in follows the link.
        followed = kb.ingest(docs / "link.md", prefix="linked/")
        assert followed["linked/link.md"].status is Status.NEW


def test_time_and_memory_caps_skip_the_file_not_the_batch(tmp_path: Path) -> None:
    # Tens of thousands of paragraphs: seconds of chunking, over a 0.5 s cap.
    slow = "".join(f"Paragraph {i} says something.\n\n" for i in range(60_000))
    # A table of a few hundred thousand rows: far more than 80 MB of Python objects.
    big = "a,b\n" + "".join(f"{i},{i}\n" for i in range(400_000))
    for config, over, content, cap in (
        (Config(parse_timeout_s=0.5, parse_workers=1), "slow.md", slow, "time cap"),
        (Config(parse_memory_mb=80, parse_workers=1), "big.csv", big, "memory cap"),
    ):
        docs = tmp_path / f"docs-{over}"
        write(docs, "a-good.md", GOOD)
        write(docs, over, content)
        write(docs, "z-good.md", GOOD.replace("30", "31"))
        with KnowledgeBase(tmp_path / over, config=config) as kb:
            report = kb.ingest(docs, index=False)
            reasons = {o.doc_id: o.reason or "" for o in report.failed}
            assert list(reasons) == [over] and cap in reasons[over], reasons
            assert report["a-good.md"].status is report["z-good.md"].status is Status.NEW


def test_a_name_too_long_for_any_file_system_is_a_bad_file(tmp_path: Path) -> None:
    good = write(tmp_path / "docs", "good.md", GOOD)
    with KnowledgeBase(tmp_path / "kb") as kb:
        report = kb.ingest(tmp_path / ("x" * 300 + ".md"), good)
        assert report.failed[0].reason == "file name longer than 255 bytes"
        assert report["good.md"].status is Status.NEW
