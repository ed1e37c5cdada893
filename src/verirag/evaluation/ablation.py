"""The naive pipeline an ablation compares against: fixed 512-token windows, dense search
only, the top 3 chunks, no re-ranking, no citation check. It runs on a copy of the knowledge
base's live documents (same text, access groups and metadata) kept beside it, so the gap the
full pipeline shows is what its chunking, hybrid search, re-ranking and checking buy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from verirag.config import Config
from verirag.evaluation import qa
from verirag.evaluation.qa import QA, QARun
from verirag.ingest import TextRecord
from verirag.retrieval import Mode, SearchOptions

if TYPE_CHECKING:
    from verirag.kb import KnowledgeBase

NAIVE_CONFIG = Config(chunking="fixed", chunk_tokens=512, chunk_overlap=0)
NAIVE_OPTIONS = SearchOptions(mode=Mode.DENSE, rerank=False)
NAIVE_K = 3
NAIVE_DIR = "naive-baseline"


def naive_copy(kb: KnowledgeBase, path: Path | None = None) -> KnowledgeBase:
    """The naive knowledge base: ``kb``'s live documents, re-chunked in fixed windows (kept in
    ``KB/naive-baseline``; unchanged documents are not chunked or embedded again)."""
    from verirag.kb import KnowledgeBase

    naive = KnowledgeBase(path or kb.path / NAIVE_DIR, config=NAIVE_CONFIG)
    live = {}
    for doc in kb.documents():
        version = kb.version(doc.doc_id)
        live[doc.doc_id] = TextRecord(
            doc.doc_id,
            version.text or "",
            title=version.title,
            access=version.access,
            metadata=version.metadata,
        )
    naive.ingest_texts(live.values())
    for doc in naive.documents():
        if doc.doc_id not in live:
            naive.remove(doc.doc_id)
    return naive


def ablation(
    kb: KnowledgeBase,
    items: Sequence[QA],
    *,
    k: int = 8,
    llm: str | None = None,
    groups: Sequence[str] | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, QARun]:
    """The same questions through the naive and the full pipeline."""
    runs = {}
    with naive_copy(kb) as naive:
        runs["naive"] = qa.evaluate(
            naive,
            items,
            k=NAIVE_K,
            llm=llm,
            groups=groups,
            options=NAIVE_OPTIONS,
            verify=False,
            pipeline="naive",
            on_progress=(lambda d, n: on_progress("naive", d, n)) if on_progress else None,
        )
    runs["full"] = qa.evaluate(
        kb,
        items,
        k=k,
        llm=llm,
        groups=groups,
        pipeline="full",
        on_progress=(lambda d, n: on_progress("full", d, n)) if on_progress else None,
    )
    return runs
