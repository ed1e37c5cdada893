"""Uploaded files (the server's uploads, the job queue's files): a name checked before it
becomes a path, and the file written whole under the knowledge base's ``uploads/``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from verirag.ingest.sources import MAX_NAME_BYTES, SIDECAR_SUFFIX, is_sidecar


def upload_name(filename: str) -> str:
    """The document name of an uploaded ``filename`` (its last path part), or ``ValueError``."""
    name = Path(filename).name
    if not name or name.startswith("."):
        raise ValueError(f"not a usable file name: {filename!r}")
    if len(os.fsencode(name)) > MAX_NAME_BYTES:
        raise ValueError(f"file name longer than {MAX_NAME_BYTES} bytes")
    if is_sidecar(name):
        # The access given with an upload is what applies: a sidecar is read only from a
        # folder ingested from disk, never taken from an upload.
        raise ValueError(f"{SIDECAR_SUFFIX} files are read from ingested folders only")
    return name


def save_upload(folder: Path, name: str, data: bytes) -> Path:
    """``data`` as ``folder/name`` (``name`` from :func:`upload_name`), written whole, then
    renamed: a failed or killed write never leaves half a file behind."""
    folder.mkdir(exist_ok=True)
    target = folder / name
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as handle:
        handle.write(data)
    try:
        shutil.move(handle.name, target)
    except OSError:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return target
