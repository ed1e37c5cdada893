"""Bad input fails with a one-line reason and never stops a batch or touches what is stored."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.builders import write_pdf
from tests.conftest import write
from verirag import KnowledgeBase, Status
from verirag.documents import ParseError, parse


def image_only_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # a scan would be an image: no text layer either way
    path.write_bytes(bytes(pdf.output()))
    return path


def not_a_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "a zip, but no Word document inside")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "empty file"),
        ("blank.txt", b"  \n\n \n", "empty file"),
        ("binary.txt", bytes(range(256)) * 4, "binary content"),
        ("garbage.pdf", b"this is not a pdf at all", "corrupt or unreadable PDF"),
        ("truncated.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", "corrupt or unreadable PDF"),
        ("fake.docx", b"PK\x03\x04 broken zip", "not a readable DOCX"),
        ("zip.docx", not_a_docx(), "not a readable DOCX"),
        ("bad.json", b'{"a": 1,,}', "invalid JSON at line 1"),
        ("bad.jsonl", b'{"a": 1}\n{oops}\n', "invalid JSON on line 2"),
        (
            "headings-only.html",
            b"<html><body><script>x()</script></body></html>",
            "no text content",
        ),
    ],
)
def test_bad_file_reason(name: str, content: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(content, name)
    message = str(caught.value)
    assert reason in message
    assert "\n" not in message


def test_image_only_pdf_says_to_ocr(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="no extractable text"):
        parse(image_only_pdf(tmp_path / "scan.pdf").read_bytes(), "scan.pdf")


def test_unsupported_file_type() -> None:
    with pytest.raises(ParseError, match=r"unsupported file type '\.exe'"):
        parse(b"MZ", "setup.exe")


def test_batch_goes_on_and_stored_documents_are_untouched(
    kb: KnowledgeBase, docs: Path, tmp_path: Path
) -> None:
    write(docs, "good.md", "# Good\n\nRefunds take 30 days.\n")
    write_pdf(docs / "policy.pdf", ["# Policy\n\nShipping takes 5 days.\n"], "Policy")
    first = kb.ingest(docs)
    assert first.counts()[Status.NEW] == 2
    before = kb.version("policy.pdf")

    # The PDF is corrupted in place, and more bad files arrive beside a new good one.
    (docs / "policy.pdf").write_bytes(b"%PDF-1.7\ngarbage garbage")
    write(docs, "empty.txt", "")
    write(docs, "binary.txt", b"\x00\x01\x02" * 100)
    write(docs, "zz-new.md", "# New\n\nA new document after the bad ones.\n")
    image_only_pdf(docs / "scan.pdf")

    report = kb.ingest(docs)
    failed = {o.doc_id: o.reason for o in report.failed}
    assert set(failed) == {"policy.pdf", "binary.txt", "scan.pdf"}
    assert all(reason and "\n" not in reason for reason in failed.values())
    # An empty file is nothing to read, not a broken one: skipped, with its reason.
    assert report["empty.txt"].status is Status.SKIPPED
    assert report["empty.txt"].reason == "empty file"
    assert report["zz-new.md"].status is Status.NEW
    assert report["good.md"].status is Status.UNCHANGED

    after = kb.version("policy.pdf")
    assert (after.version, after.text, after.content_hash) == (
        before.version,
        before.text,
        before.content_hash,
    )
    assert [v.version for v in kb.history("policy.pdf")] == [1]
    assert kb.check() == []


def test_missing_path_is_reported_and_sync_removes_nothing(kb: KnowledgeBase, docs: Path) -> None:
    write(docs, "a.md", "# A\n\nAlpha.\n")
    kb.ingest(docs)
    report = kb.ingest(docs / "no-such-dir", sync=True)
    assert [(o.status, o.reason) for o in report.outcomes] == [
        (Status.FAILED, "no such file or directory")
    ]
    assert [d.doc_id for d in kb.documents()] == ["a.md"]


def test_unreadable_sidecar_fails_that_file_only(kb: KnowledgeBase, docs: Path) -> None:
    write(docs, "a.md", "# A\n\nAlpha.\n")
    write(docs, "a.md.verirag.toml", "access = 'hr'\n")  # must be a list
    write(docs, "b.md", "# B\n\nBeta.\n")
    report = kb.ingest(docs)
    assert report["a.md"].status is Status.FAILED
    assert (
        report["a.md"].reason is not None
        and "invalid sidecar a.md.verirag.toml: access" in report["a.md"].reason
    )
    assert report["b.md"].status is Status.NEW
