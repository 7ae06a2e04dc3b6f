"""OAuth 2.0 client credentials: clients, long JWT-shaped tokens, settle window, scopes.

Coupa's tokens are JWTs that grow with the scope list (reference §2.1) and may fail for a
few seconds after minting; both are reproduced so clients are tested against them.
"""

from __future__ import annotations

import base64
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import orjson

from coupa_emulator.resources import SCOPE_CATALOGUE

DEFAULT_CLIENT = ("demo", "demo-secret")
_PAD_BYTES = 1800


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Client:
    """A registered OAuth client and the scopes an admin granted it."""

    client_id: str
    secret: str
    scopes: frozenset[str]


@dataclass
class Token:
    """What the server remembers about an issued access token."""

    client_id: str
    scopes: frozenset[str]
    usable_at: float
    expires_at: float


@dataclass
class AuthFailure:
    """An HTTP answer to a failed token request or API authorization."""

    status: int
    body: dict[str, Any]
    www_authenticate: str | None = None


class Auth:
    """Clients, issued tokens and the per-client mint counter."""

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self.tokens: dict[str, Token] = {}
        self.mints: Counter[str] = Counter()
        self.reset()

    def add_client(self, client_id: str, secret: str, scopes: Any) -> Client:
        """Register or replace a client; `scopes` is a list or a space-separated string."""
        if isinstance(scopes, str):
            scopes = scopes.split()
        client = Client(client_id, secret, frozenset(str(s) for s in scopes))
        self.clients[client_id] = client
        return client

    def reset(self) -> None:
        """Forget tokens and counts and custom clients; the default client stays."""
        self.clients.clear()
        self.tokens.clear()
        self.mints.clear()
        self.add_client(*DEFAULT_CLIENT, SCOPE_CATALOGUE)

    def expire_all(self) -> None:
        """Make every token issued so far answer 401 (as if a day had passed)."""
        for token in self.tokens.values():
            token.expires_at = 0.0

    def mint(
        self,
        client_id: str | None,
        secret: str | None,
        grant_type: str | None,
        scope: str | None,
        *,
        settle_seconds: float,
        expires_in: int,
    ) -> dict[str, Any] | AuthFailure:
        """The token endpoint's answer: a token response or an OAuth error."""
        client = self.clients.get(client_id or "")
        if client is None or client.secret != secret:
            return AuthFailure(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
            )
        if grant_type != "client_credentials":
            return AuthFailure(
                400,
                {"error": "unsupported_grant_type",
                 "error_description": "Only grant_type=client_credentials is supported"},
            )  # fmt: skip
        requested = (scope or "").split()
        if requested:
            missing = [s for s in requested if s not in client.scopes]
            if missing:
                return AuthFailure(
                    400,
                    {"error": "invalid_scope",
                     "error_description": "The requested scope is invalid, unknown, or not "
                     f"granted to this client: {' '.join(missing)}"},
                )  # fmt: skip
            scopes = frozenset(requested)
        else:
            scopes = client.scopes
        now = time.time()
        scope_text = " ".join(sorted(scopes))
        header = {"alg": "RS256", "typ": "JWT", "kid": "coupa-emulator-1"}
        payload = {
            "iss": "https://emulator.coupahost.com",
            "sub": client.client_id,
            "aud": "coupa-api",
            "iat": int(now),
            "exp": int(now) + expires_in,
            "jti": str(uuid.uuid4()),
            "scope": scope_text,
            "permissions": sorted(scopes),
            "pad": _b64(os.urandom(_PAD_BYTES)),
        }
        token = ".".join(
            (_b64(orjson.dumps(header)), _b64(orjson.dumps(payload)), _b64(os.urandom(256)))
        )
        self.tokens[token] = Token(client.client_id, scopes, now + settle_seconds, now + expires_in)
        self.mints[client.client_id] += 1
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": expires_in,
            "scope": scope_text,
        }

    def client_of(self, authorization: str | None) -> str | None:
        """Who is calling, for logs and the rate limiter, whether or not the token is valid."""
        token = self.tokens.get(_bearer(authorization) or "")
        return token.client_id if token else None

    def authorize(
        self, authorization: str | None, scopes: str | tuple[str, ...]
    ) -> Token | AuthFailure:
        """Check a token for any of `scopes`: 401 if absent/unknown/unsettled/expired, else 403."""
        wanted = (scopes,) if isinstance(scopes, str) else scopes
        scope = wanted[0]
        raw = _bearer(authorization)
        if raw is None:
            return AuthFailure(
                401,
                {"error": "invalid_request", "error_description": "Bearer access token required"},
                'Bearer realm="Coupa"',
            )
        token = self.tokens.get(raw)
        now = time.time()
        if token is None or now >= token.expires_at:
            why = "expired" if token else "invalid"
            return _invalid(f"The access token is {why}")
        if now < token.usable_at:
            return _invalid("The access token is not active yet")
        if not any(s in token.scopes for s in wanted):
            return AuthFailure(
                403,
                {"error": "insufficient_scope", "scope": scope,
                 "error_description": f"The access token lacks the scope {scope}"},
                f'Bearer error="insufficient_scope", scope="{scope}"',
            )  # fmt: skip
        return token


def _invalid(description: str) -> AuthFailure:
    return AuthFailure(
        401,
        {"error": "invalid_token", "error_description": description},
        f'Bearer error="invalid_token", error_description="{description}"',
    )


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    kind, _, value = authorization.partition(" ")
    if kind.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
