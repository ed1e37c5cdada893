"""Source code: Python split by top-level definitions (``ast``), other languages by blank lines."""

from __future__ import annotations

import ast
from typing import ClassVar

from verirag.documents._base import (
    BlockKind,
    ParsedDocument,
    TextBuilder,
    blank_line_blocks,
    decode_text,
)

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _python_units(source: str) -> list[tuple[tuple[str, ...], tuple[int, int]]] | None:
    """(section, line range) per top-level unit; ``None`` if the file does not parse."""
    try:
        module = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    units: list[tuple[tuple[str, ...], tuple[int, int]]] = []
    loose_start: int | None = None  # a run of module-level statements between definitions
    loose_end = 0
    for node in module.body:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        end = node.end_lineno or node.lineno
        if isinstance(node, _DEFS):
            if loose_start is not None:
                units.append((("module",), (loose_start, loose_end)))
                loose_start = None
            keyword = "class" if isinstance(node, ast.ClassDef) else "def"
            units.append(((f"{keyword} {node.name}",), (start, end)))
        else:
            loose_start = start if loose_start is None else loose_start
            loose_end = end
    if loose_start is not None:
        units.append((("module",), (loose_start, loose_end)))
    return units


class CodeParser:
    suffixes: ClassVar[tuple[str, ...]] = (
        ".py",
        ".js",
        ".jsx",
        ".ts",
        ".tsx",
        ".go",
        ".rs",
        ".java",
        ".kt",
        ".c",
        ".h",
        ".cc",
        ".cpp",
        ".hpp",
        ".cs",
        ".rb",
        ".php",
        ".swift",
        ".scala",
        ".sh",
        ".sql",
        ".yaml",
        ".yml",
        ".toml",
    )

    def parse(self, data: bytes, name: str) -> ParsedDocument:
        source = decode_text(data)
        language = name.rsplit(".", 1)[-1].lower()
        out = TextBuilder()
        units = _python_units(source) if language == "py" else None
        if units is not None:
            lines = source.splitlines()
            previous_end = 0
            for section, (_, last) in units:
                # Units tile the file, so comments above a definition stay with it.
                first = previous_end + 1
                while first < last and not lines[first - 1].strip():
                    first += 1
                previous_end = last
                out.add(
                    "\n".join(lines[first - 1 : last]),
                    BlockKind.CODE,
                    section,
                    lines=(first, last),
                    verbatim=True,
                )
        else:
            for text, span in blank_line_blocks(source):
                out.add(text, BlockKind.CODE, lines=span, verbatim=True)
        return out.build(name.rsplit("/", 1)[-1], "code", {"language": language})
