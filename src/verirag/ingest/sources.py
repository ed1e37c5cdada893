"""Sources to ingest: files found under folders (with their sidecars), or text in memory."""

from __future__ import annotations

import errno
import os
import stat
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from verirag import documents
from verirag.ingest.report import Outcome, Status

SIDECAR_SUFFIX = ".verirag.toml"
MAX_NAME_BYTES = 255  # the longest file name (one path part) Linux and macOS store


class SourceError(Exception):
    """A source that cannot be ingested; the message is the reason."""


class Sidecar(BaseModel):
    """``<file>.verirag.toml``: access groups and metadata for the file beside it."""

    model_config = ConfigDict(extra="forbid")
    access: list[str] | None = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class IngestSource:
    """One document to ingest: a file, or text given in memory."""

    doc_id: str
    uri: str
    name: str  # the file name; its suffix picks the parser
    path: Path | None = None
    data: bytes | None = None
    title: str | None = None
    access: list[str] | None = None
    metadata: dict[str, Any] | None = None
    sidecar: bool = True  # read ``<file>.verirag.toml`` beside it (never for uploads)


@dataclass(frozen=True, slots=True)
class TextRecord:
    """A document given as text, e.g. a record of a data set; ``format`` is a file suffix."""

    doc_id: str
    text: str
    title: str | None = None
    format: str = "txt"
    access: list[str] | None = None
    metadata: dict[str, Any] | None = None


def is_candidate(path: Path, root: Path) -> bool:
    """Whether a file found in folder ``root`` is one to ingest: not hidden, not a sidecar,
    a supported type."""
    relative = path.relative_to(root).parts
    return (
        not any(part.startswith(".") for part in relative)
        and not path.name.endswith(SIDECAR_SUFFIX)
        and documents.supported(path.name)
    )


def not_a_file(path: Path, root: Path | None, follow_symlinks: bool) -> str | None:
    """Why ``path`` (found in folder ``root``, or given directly) is not a file to read."""
    try:
        info = path.stat()  # follows links; ELOOP for a loop
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        if path.is_symlink():
            return "broken symlink"
        return "no such file or directory" if exc.errno == errno.ENOENT else f"cannot read: {exc}"
    if path.is_symlink() and root is not None and not follow_symlinks:
        target = path.resolve()
        if not target.is_relative_to(root):
            return "symlink to outside the folder (not followed; --follow-symlinks to allow)"
    if stat.S_ISFIFO(info.st_mode):
        return "a FIFO, not a regular file"
    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
        return "a device, not a regular file"
    if stat.S_ISSOCK(info.st_mode):
        return "a socket, not a regular file"
    if stat.S_ISDIR(info.st_mode):
        return "a directory"
    return None


def folder_file(
    file: Path, root: Path, prefix: str, *, follow_symlinks: bool, sidecars: bool
) -> IngestSource | Outcome | None:
    """A file found in folder ``root``: its source, its failure (not a file to read), or
    ``None`` when it is not one to ingest (hidden, a sidecar, an unsupported type)."""
    if not is_candidate(file, root):
        return None
    doc_id = prefix + file.relative_to(root).as_posix()
    reason = not_a_file(file, root, follow_symlinks)
    if reason is not None:
        return Outcome(doc_id, Status.FAILED, str(file), reason=reason)
    return IngestSource(doc_id, file.as_uri(), file.name, path=file, sidecar=sidecars)


def discover(
    paths: Sequence[str | Path],
    prefix: str = "",
    *,
    follow_symlinks: bool = False,
    sidecars: bool = True,
) -> tuple[list[IngestSource], list[Outcome]]:
    """Files under ``paths``; ids are ``prefix`` + the path relative to the directory given
    (a file given directly is named by its file name). Missing or unsupported paths fail, and
    so do FIFOs, devices, symlink loops and, unless ``follow_symlinks``, file symlinks that
    lead out of the folder being ingested. A folder symlink is never descended (no loops)."""
    sources: list[IngestSource] = []
    failures: list[Outcome] = []

    def fail(doc_id: str, where: Path | str, reason: str) -> None:
        failures.append(Outcome(doc_id, Status.FAILED, str(where), reason=reason))

    for given in paths:
        path = Path(given)
        if any(len(os.fsencode(part)) > MAX_NAME_BYTES for part in path.parts):
            fail(str(given), given, f"file name longer than {MAX_NAME_BYTES} bytes")
        elif path.is_dir():
            root = path.resolve()
            for folder, dirs, files in os.walk(root, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                base = Path(folder)
                for entry in sorted(files):
                    found = folder_file(
                        base / entry,
                        root,
                        prefix,
                        follow_symlinks=follow_symlinks,
                        sidecars=sidecars,
                    )
                    if isinstance(found, Outcome):
                        failures.append(found)
                    elif found is not None:
                        sources.append(found)
        elif path.is_file():
            file = path.absolute()  # a regular file, or a link to one: named, so followed
            if documents.supported(file.name):
                sources.append(
                    IngestSource(
                        prefix + file.name, file.as_uri(), file.name, path=file, sidecar=sidecars
                    )
                )
            else:
                fail(
                    prefix + file.name,
                    path,
                    f"unsupported file type {file.suffix or '(no extension)'!r}",
                )
        else:
            reason = not_a_file(path, None, follow_symlinks) or "no such file or directory"
            fail(str(given), given, reason)
    return sources, failures


def text_sources(records: Iterable[TextRecord]) -> list[IngestSource]:
    return [
        IngestSource(
            r.doc_id,
            f"text:{r.doc_id}",
            f"{r.doc_id}.{r.format.lstrip('.')}",
            data=r.text.encode(),
            title=r.title,
            access=r.access,
            metadata=r.metadata,
        )
        for r in records
    ]


def read_sidecar(source: IngestSource) -> Sidecar:
    """The sidecar of a file source (empty for text, uploads, or a file without one)."""
    if source.path is None or not source.sidecar:
        return Sidecar()
    name = source.path.name + SIDECAR_SUFFIX
    if len(os.fsencode(name)) > MAX_NAME_BYTES:
        return Sidecar()  # no file system can hold one
    path = source.path.with_name(name)
    if not path.is_file():
        return Sidecar()
    try:
        return Sidecar.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SourceError(f"unreadable sidecar {path.name}: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SourceError(f"invalid sidecar {path.name}: {where}: {first['msg']}") from exc


def parse_meta(pairs: Iterable[str]) -> dict[str, str]:
    """``key=value`` strings (as given on the command line) into a dict."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"metadata must be key=value, got {pair!r}")
        result[key.strip()] = value.strip()
    return result


def is_sidecar(path: str | os.PathLike[str]) -> bool:
    return str(path).endswith(SIDECAR_SUFFIX)
