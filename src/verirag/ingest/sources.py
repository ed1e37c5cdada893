"""Sources to ingest: files found under folders (with their sidecars), or text in memory."""

from __future__ import annotations

import errno
import os
import stat
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict, Unpack

import pathspec
from pydantic import BaseModel, ConfigDict, ValidationError

from verirag import documents
from verirag.ingest.report import Outcome, Status

SIDECAR_SUFFIX = ".verirag.toml"
MAX_NAME_BYTES = 255  # the longest file name (one path part) Linux and macOS store
# Vendored and generated trees, skipped in folders unless ``include_all`` (docs/ingest.md).
DEFAULT_EXCLUDES = ("node_modules", ".git", "__pycache__", ".venv", "dist", "build")
GITIGNORE = ".gitignore"
SNIFF_BYTES = 8192  # how much of an extensionless file is read to tell text from binary


class SourceError(Exception):
    """A source that cannot be ingested; the message is the reason."""


class TooLarge(SourceError):
    """A file past the size limit: skipped, not failed."""


class Selection(TypedDict, total=False):
    """Which files of a folder are ingested: ``exclude`` globs (``.gitignore`` syntax, against
    the path inside the folder), and ``include_all`` to ingest the :data:`DEFAULT_EXCLUDES`
    trees and what ``.gitignore`` files exclude. Hidden files are never ingested."""

    exclude: Sequence[str]
    include_all: bool


class Selector:
    """Decides, for each path under a folder, whether it is skipped and why: hidden, a
    default exclusion, an ``exclude`` glob, or a ``.gitignore`` in the folder or below it."""

    def __init__(
        self, root: Path, *, exclude: Sequence[str] = (), include_all: bool = False
    ) -> None:
        self.root = root
        self.include_all = include_all
        self._exclude = [(g, pathspec.GitIgnoreSpec.from_lines([g])) for g in exclude]
        self._ignores: dict[Path, pathspec.GitIgnoreSpec | None] = {}

    def reason(self, path: Path, is_dir: bool) -> str | None:
        """Why ``path`` itself is skipped, its folders having passed (a walk prunes them)."""
        name = path.name
        if name.startswith("."):
            return "hidden"
        if is_dir and not self.include_all and name in DEFAULT_EXCLUDES:
            return f"excluded by default ({name}/; --include-all ingests it)"
        relative = path.relative_to(self.root).as_posix() + ("/" if is_dir else "")
        for glob, spec in self._exclude:
            if spec.match_file(relative):
                return f"excluded by --exclude {glob}"
        if not self.include_all:
            for folder in [path.parent, *path.parent.parents]:
                ignore = self._gitignore(folder)
                if ignore is not None:
                    inside = path.relative_to(folder).as_posix() + ("/" if is_dir else "")
                    if ignore.match_file(inside):
                        return f"excluded by {(folder / GITIGNORE).relative_to(self.root)}"
                if folder == self.root:
                    break
        return None

    def reason_anywhere(self, path: Path) -> str | None:
        """Why ``path`` is skipped, checking every folder between the root and it (a file the
        watcher reports, with no walk having pruned its folders)."""
        relative = path.relative_to(self.root)
        current = self.root
        for part in relative.parts[:-1]:
            current = current / part
            if (why := self.reason(current, True)) is not None:
                return why
        return self.reason(path, False)

    def _gitignore(self, folder: Path) -> pathspec.GitIgnoreSpec | None:
        if folder not in self._ignores:
            try:
                lines = (folder / GITIGNORE).read_text(encoding="utf-8").splitlines()
                self._ignores[folder] = pathspec.GitIgnoreSpec.from_lines(lines)
            except (OSError, UnicodeDecodeError):
                self._ignores[folder] = None
        return self._ignores[folder]


def is_text(path: Path) -> bool:
    """Whether a file without an extension holds text: its first bytes decode as UTF-8 and
    hold no NUL byte (README, LICENSE, Makefile)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut at the end of the sniffed bytes is not an error.
        return exc.start >= len(head) - 3 and len(head) == SNIFF_BYTES
    return True


def parser_name(path: Path) -> str | None:
    """The name whose suffix picks ``path``'s parser: its own, ``NAME.txt`` for a text file
    without an extension, ``None`` for a type no parser reads."""
    if documents.supported(path.name):
        return path.name
    if not path.suffix and is_text(path):
        return path.name + ".txt"
    return None


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
    """Whether a file found in folder ``root`` could be a document: not hidden, not a
    sidecar, a supported type or a file without an extension (text ones are ingested)."""
    relative = path.relative_to(root).parts
    return (
        not any(part.startswith(".") for part in relative)
        and not path.name.endswith(SIDECAR_SUFFIX)
        and (documents.supported(path.name) or not path.suffix)
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
    file: Path,
    selector: Selector,
    prefix: str,
    *,
    follow_symlinks: bool,
    sidecars: bool,
    walked: bool = True,
) -> IngestSource | Outcome | None:
    """A file found in the selector's folder: its source, its failure (not a file to read),
    why it is skipped (excluded, an unsupported type), or ``None`` for a sidecar. ``walked``:
    its folders were checked on the way down (else each is checked here)."""
    if is_sidecar(file.name):
        return None
    doc_id = prefix + file.relative_to(selector.root).as_posix()
    why = selector.reason(file, False) if walked else selector.reason_anywhere(file)
    if why is not None:
        return Outcome(doc_id, Status.SKIPPED, str(file), reason=why)
    reason = not_a_file(file, selector.root, follow_symlinks)
    if reason is not None:
        return Outcome(doc_id, Status.FAILED, str(file), reason=reason)
    name = parser_name(file)
    if name is None:
        kind = f"{file.suffix!r}" if file.suffix else "(no extension, not text)"
        return Outcome(doc_id, Status.SKIPPED, str(file), reason=f"unsupported file type {kind}")
    return IngestSource(doc_id, file.as_uri(), name, path=file, sidecar=sidecars)


def discover(
    paths: Sequence[str | Path],
    prefix: str = "",
    *,
    follow_symlinks: bool = False,
    sidecars: bool = True,
    **selection: Unpack[Selection],
) -> tuple[list[IngestSource], list[Outcome]]:
    """Files under ``paths``; ids are ``prefix`` + the path relative to the directory given
    (a file given directly is named by its file name). Missing or unsupported paths fail, and
    so do FIFOs, devices, symlink loops and, unless ``follow_symlinks``, file symlinks that
    lead out of the folder being ingested. A folder symlink is never descended (no loops).
    In folders, what ``selection`` (and ``.gitignore``) excludes, hidden files and types no
    parser reads are reported as skipped, a skipped folder once."""
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
            selector = Selector(root, **selection)
            for folder, dirs, files in os.walk(root, followlinks=False):
                base = Path(folder)
                kept = []
                for d in sorted(dirs):
                    why = selector.reason(base / d, True)
                    if why is None:
                        kept.append(d)
                    else:
                        where = base / d
                        doc_id = prefix + where.relative_to(root).as_posix() + "/"
                        failures.append(Outcome(doc_id, Status.SKIPPED, str(where), reason=why))
                dirs[:] = kept
                for entry in sorted(files):
                    found = folder_file(
                        base / entry,
                        selector,
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
            if (name := parser_name(file)) is not None:
                sources.append(
                    IngestSource(
                        prefix + file.name, file.as_uri(), name, path=file, sidecar=sidecars
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
