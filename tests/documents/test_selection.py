"""Which files of a folder are ingested, and what the summary says about the rest: hidden,
excluded (``--exclude``, ``.gitignore``, the default list), unsupported, too large; text files
without an extension are read by their content. Real files, the real command."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_verirag as run
from tests.conftest import write
from verirag import KnowledgeBase
from verirag.ingest import DEFAULT_EXCLUDES, Status


def project(root: Path) -> Path:
    """A developer's folder: docs, a README and LICENSE, vendored and generated trees."""
    folder = root / "project"
    write(folder, "guide.md", "# Guide\n\nThe staging cluster restarts on Fridays.\n")
    write(folder, "README", "The Larkspur project ships every Tuesday at noon.\n")
    write(folder, "LICENSE", "Permission is hereby granted, free of charge, to any person.\n")
    (folder / "logo").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")  # binary, no suffix
    write(folder, "photo.png", "not really a png")
    write(folder, ".env.md", "# Secret\n\nA hidden file.\n")
    write(folder, "drafts/plan.md", "# Plan\n\nA draft that --exclude skips.\n")
    write(folder, "notes/todo.md", "# Todo\n\nIgnored by the nested .gitignore.\n")
    write(folder, "notes/keep.md", "# Keep\n\nKept.\n")
    write(folder, "notes/.gitignore", "todo.md\n")
    write(folder, ".gitignore", "*.log.md\n")
    write(folder, "server.log.md", "# Log\n\nIgnored by the top .gitignore.\n")
    for tree in DEFAULT_EXCLUDES:
        write(folder, f"{tree}/vendored.md", "# Vendored\n\nNot yours.\n")
    return folder


def test_the_summary_lists_what_was_skipped_and_why(tmp_path: Path) -> None:
    folder = project(tmp_path)
    done = run(tmp_path / "kb", "ingest", str(folder), "--exclude", "drafts/")
    assert done.returncode == 0, done.stderr
    with KnowledgeBase(tmp_path / "kb") as kb:
        assert sorted(d.doc_id for d in kb.documents()) == [
            "LICENSE",
            "README",
            "guide.md",
            "notes/keep.md",
        ]
        found = kb.search("when does the Larkspur project ship?", k=1)
    assert found[0].doc_id == "README"  # extensionless text, read by its content
    lines = {line.split()[1]: line for line in done.stdout.splitlines() if "skipped" in line}
    expected = {
        "drafts/": "excluded by --exclude drafts/",
        "notes/todo.md": "excluded by notes/.gitignore",
        "server.log.md": "excluded by .gitignore",
        ".env.md": "hidden",
        "logo": "unsupported file type (no extension, not text)",
        "photo.png": "unsupported file type '.png'",
        **{
            f"{t}/": "hidden" if t.startswith(".") else "excluded by default"
            for t in DEFAULT_EXCLUDES
        },
    }
    for name, reason in expected.items():
        assert name in lines and reason in lines[name], (name, done.stdout)


def test_include_all_ingests_the_default_exclusions_and_gitignored_files(tmp_path: Path) -> None:
    folder = project(tmp_path)
    with KnowledgeBase(tmp_path / "kb") as kb:
        report = kb.ingest(folder, include_all=True, exclude=["drafts/"])
        ids = {o.doc_id for o in report.outcomes if o.status is Status.NEW}
        skipped = {o.doc_id: o.reason for o in report.skipped}
    visible = [t for t in DEFAULT_EXCLUDES if not t.startswith(".")]
    assert {f"{t}/vendored.md" for t in visible} <= ids
    assert {"notes/todo.md", "server.log.md"} <= ids
    assert skipped["drafts/"] == "excluded by --exclude drafts/"
    assert skipped[".git/"] == "hidden"  # hidden stays hidden
