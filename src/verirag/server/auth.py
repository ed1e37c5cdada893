"""Who a request runs as: the principal of its API key, or the local owner on a keyless
server. The mode is fixed when the app is made; the first key made through it turns it keyed
for good, and revoking keys never opens it again."""

from collections.abc import Mapping

from fastapi import HTTPException, Request

from verirag.access import LOCAL, Principal
from verirag.store import KeyStore


class Auth:
    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys
        self.keyed = keys.active()

    def resolve(self, headers: Mapping[str, str] | None) -> Principal:
        """The principal for request headers (``None``: MCP over stdio, the process owner);
        401 without a valid key on a keyed server."""
        if headers is None or not self.keyed:
            return LOCAL
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else headers.get("x-api-key", "")
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
