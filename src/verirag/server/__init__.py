"""The HTTP server (REST, OpenAI-compatible chat, MCP, metrics, web UI) and its API keys."""

from verirag.server.app import create_app
from verirag.server.keys import LOCAL, KeyInfo, KeyStore, Principal

__all__ = ["LOCAL", "KeyInfo", "KeyStore", "Principal", "create_app"]
