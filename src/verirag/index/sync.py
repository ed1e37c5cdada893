"""The catalog projected onto the index: every commit the index has not seen, applied in
batches, with vectors from the embedding cache where the text was embedded before."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from verirag.chunking import embedded_text
from verirag.embedding import Vectors
from verirag.index._base import OPEN, Index, IndexPoint
from verirag.store import Catalog, IndexRow

EmbedProgress = Callable[[int, int], None]  # (chunks done, chunks to do)
Embed = Callable[[Sequence[str]], tuple[Vectors, int]]  # texts -> (vectors, how many were new)

# A bulk load leaves segments worth merging; a few documents do not.
OPTIMIZE_AFTER = 1000
# ... and a long batch builds every this many chunks (segments of new points stay small).
OPTIMIZE_EVERY = 50_000


def sync(
    index: Index,
    catalog: Catalog,
    embed: Embed,
    *,
    on_embed: EmbedProgress | None = None,
    batch: int = 256,
    optimize: bool = True,
    horizon: int = 0,
) -> int:
    """Apply every catalog commit past the index's watermark; returns the chunks embedded.
    Safe to repeat: writes are idempotent, and the watermark moves only once everything up
    to it is durable. Versions closed at or before commit ``horizon`` (the history kept,
    ``history_days``) are compacted away, and not written when the index is rebuilt."""
    target = catalog.last_seq()
    since = index.watermark
    if target <= since:
        index.compact(min(horizon, since))
        return 0
    horizon = max(min(horizon, target), index.horizon)
    total = catalog.count_index_rows_since(since)
    done = embedded = seen = built = 0
    access = catalog.access_since(since)
    rows: list[IndexRow] = []

    def flush() -> None:
        nonlocal done, embedded, built
        embedded += _write(index, rows, embed)
        done = seen
        rows.clear()
        if optimize and done - built >= OPTIMIZE_EVERY:  # a rebuild: segments stay small
            index.optimize()
            built = done
        if on_embed is not None:
            on_embed(done, total)

    for row in catalog.index_rows_since(since, {d: now for d, (now, _) in access.items()}):
        seen += 1
        if row.valid_to_seq is not None and row.valid_to_seq <= horizon:
            continue  # outside the history kept: the catalog has it, the index need not
        rows.append(row)
        if len(rows) >= batch:
            flush()
    if rows or seen > done:
        flush()
    # Restricting a document restricts its older versions too (verirag.access).
    for doc_id, (now, then) in access.items():
        if then is not None and sorted(then) != sorted(now):
            index.relabel(doc_id, now)
    for doc_id, version, valid_to in catalog.closed_since(since):
        index.close_version(doc_id, version, valid_to)
    index.set_watermark(target)
    # After the switch: a search still in flight at an older commit finds the horizon moved
    # and is refused (verirag.kb), never answered without the points it should see.
    index.compact(horizon)
    if optimize and total >= OPTIMIZE_AFTER:
        index.optimize()
    return embedded


def _write(index: Index, rows: Sequence[IndexRow], embed: Embed) -> int:
    texts = [embedded_text(r.context, r.text) for r in rows]
    vectors, fresh = embed(texts)
    index.upsert(
        [
            IndexPoint(
                r.doc_id,
                r.version,
                r.chunk_id,
                r.ordinal,
                text,
                vector,
                r.seq,
                r.valid_to_seq or OPEN,
                r.access,
                r.metadata,
                r.doc_access,
            )
            for r, text, vector in zip(rows, texts, vectors, strict=True)
        ]
    )
    return fresh
