"""Following a folder: what changed in it, filtered exactly as ingesting the folder filters."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Unpack

from verirag.ingest.report import Outcome, Status
from verirag.ingest.sources import (
    SIDECAR_SUFFIX,
    IngestSource,
    Selection,
    Selector,
    folder_file,
    is_candidate,
    is_sidecar,
)


@dataclass(slots=True)
class Changes:
    """One debounced batch of changes under a folder."""

    sources: list[IngestSource] = field(default_factory=list)  # new or edited files
    failures: list[Outcome] = field(default_factory=list)  # changed, but not files to read
    gone: list[str] = field(default_factory=list)  # ids of deleted files


def changes(
    directory: str | Path,
    *,
    prefix: str = "",
    follow_symlinks: bool = False,
    sidecars: bool = True,
    stop_event: threading.Event | None = None,
    debounce_ms: int = 300,
    **selection: Unpack[Selection],
) -> Iterator[Changes]:
    """Batches of changes under ``directory`` until ``stop_event`` is set (or Ctrl-C)."""
    import watchfiles

    root = Path(directory).resolve()
    selector = Selector(root, **selection)
    for batch in watchfiles.watch(
        root, stop_event=stop_event, debounce=debounce_ms, raise_interrupt=False
    ):
        yield classify(selector, (Path(p) for _, p in batch), prefix, follow_symlinks, sidecars)


def classify(
    selector: Selector,
    paths: Iterable[Path],
    prefix: str = "",
    follow_symlinks: bool = False,
    sidecars: bool = True,
) -> Changes:
    """What changed paths under the selector's folder mean for its documents: a sidecar's
    change re-reads its file; what ingesting the folder skips (hidden, excluded, unsupported)
    and out-of-folder paths are ignored."""
    root = selector.root
    found = Changes()
    touched = {p.with_name(p.name[: -len(SIDECAR_SUFFIX)]) if is_sidecar(p) else p for p in paths}
    for path in sorted(touched):
        if not path.is_relative_to(root) or path.is_dir():
            continue
        if path.exists() or path.is_symlink():
            entry = folder_file(
                path,
                selector,
                prefix,
                follow_symlinks=follow_symlinks,
                sidecars=sidecars,
                walked=False,
            )
            if isinstance(entry, IngestSource):
                found.sources.append(entry)
            elif entry is not None and entry.status is Status.FAILED:
                found.failures.append(entry)
        elif is_candidate(path, root) and selector.reason_anywhere(path) is None:
            found.gone.append(prefix + path.relative_to(root).as_posix())
    return found
