"""What verirag raises for input it refuses: one type, so every door (CLI, HTTP, MCP) can
answer it as the caller's mistake (HTTP 422) rather than the server's."""

from __future__ import annotations


class InvalidInput(ValueError):
    """A request verirag will not run: a query over its limits, a malformed filter."""
