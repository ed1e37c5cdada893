"""The HTTP server (REST, OpenAI-compatible chat, MCP, metrics, web UI)."""

from verirag.server.app import create_app

__all__ = ["create_app"]
