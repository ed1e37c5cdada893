"""Line diffs of two texts, as ``diff -u`` shows them."""

from __future__ import annotations

import difflib


def unified_diff(old: str, new: str, old_label: str, new_label: str, context: int = 3) -> list[str]:
    """The unified diff of two texts' lines, as lines."""
    return list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), old_label, new_label, n=context, lineterm=""
        )
    )
