"""Who a request runs as: the principal of its API key, or the local owner on a keyless
server. The mode is fixed when the app is made; the first key made through it turns it keyed
for good, and revoking keys never opens it again."""

import hmac
from collections.abc import Mapping

from fastapi import HTTPException, Request

from verirag.access import LOCAL, Principal, local
from verirag.client import GROUPS_HEADER
from verirag.store import KeyStore


class Auth:
    """``owner_token``: the credential of the local owner (the CLI and ``verirag mcp`` of the
    user running the server, who read it from the 0600 server file); it is never stored."""

    def __init__(self, keys: KeyStore, owner_token: str | None = None) -> None:
        self.keys = keys
        self.keyed = keys.active()
        self._owner_token = owner_token

    def resolve(self, headers: Mapping[str, str] | None) -> Principal:
        """The principal for request headers (``None``: MCP over stdio, the process owner);
        401 without a valid key on a keyed server. The local owner may read as a principal
        of some groups only (``X-Verirag-Groups``: the CLI's ``--group``); a key may not."""
        if headers is None:
            return LOCAL
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else headers.get("x-api-key", "")
        if self._owner_token and token and hmac.compare_digest(token, self._owner_token):
            groups = headers.get(GROUPS_HEADER.lower())
            return local([g for g in groups.split(",") if g] if groups is not None else None)
        if not self.keyed:
            return LOCAL
        principal = self.keys.verify(token) if token else None
        if principal is None:
            raise HTTPException(401, "a valid API key is required (Authorization: Bearer vr_...)")
        return principal

    def principal(self, request: Request) -> Principal:
        """A FastAPI dependency: the request's principal."""
        return self.resolve(request.headers)

    def admin(self, request: Request) -> Principal:
        """A FastAPI dependency: the request's principal, who must be an admin (else 403)."""
        who = self.resolve(request.headers)
        if not who.admin:
            raise HTTPException(403, "only an admin key may do this")
        return who

    def create_key(self, name: str, groups: list[str], *, admin: bool) -> str:
        token = self.keys.create(name, groups, admin=admin)
        self.keyed = True
        return token
