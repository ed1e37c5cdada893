"""The public API is what ``verirag.__all__`` says, and every name in it exists."""

from __future__ import annotations

import types

import verirag


def test_all_names_exist_and_are_sorted() -> None:
    for name in verirag.__all__:
        assert hasattr(verirag, name), name
    assert list(verirag.__all__) == sorted(verirag.__all__)


def test_public_names_are_exactly_all() -> None:
    # Submodules appear as attributes once anything imports them; they are not the API.
    public = {
        name
        for name, value in vars(verirag).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(verirag.__all__) - {"__version__"}
