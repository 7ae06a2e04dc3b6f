"""OAuth 2.0 client credentials for Coupa, built on singer-sdk's OAuthAuthenticator.

What the SDK's authenticator does not do and Coupa needs (see reference/coupa-api.md §2):
- refresh ahead of expiry with a safety margin (tokens live ~24 h; a long backfill crosses that);
- never use a token inside its settle window (Coupa: wait at least 5 s after minting);
- re-mint once when Coupa answers 401, without minting a storm of tokens when it keeps refusing;
- turn `invalid_scope` / `invalid_client` into messages that say what to grant or fix;
- set only the Authorization header, so the SDK does not re-encode the query string.
One instance is shared by every stream of a run (and by the target), guarded by a lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import requests
from singer_sdk.authenticators import OAuthAuthenticator

from coupa_api.errors import CoupaAuthError, CoupaRetriableError
from coupa_api.ratelimit import TokenBucket
from coupa_api.redact import redact
from coupa_api.responses import coupa_error_messages, decode_json
from coupa_api.retry import RETRIABLE_EXCEPTIONS, RetryPolicy, is_permanent, with_retries

#: How many 401s in a row (each followed by a fresh token) before we stop and say so.
MAX_CONSECUTIVE_REJECTIONS = 3
#: A token refused this young is probably still settling: wait instead of minting another.
SETTLE_GRACE_SECONDS = 2.0

ScopeSource = Iterable[str] | Callable[[], Iterable[str]]


class CoupaOAuth(OAuthAuthenticator):
    """Client-credentials token for one Coupa instance, shared by all streams of a run."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        scopes: ScopeSource,
        settle_seconds: float = 5.0,
        timeout: float = 60.0,
        policy: RetryPolicy | None = None,
        limiter: TokenBucket | None = None,
        session: requests.Session | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(
            auth_endpoint=f"{base_url}/oauth2/token",
            client_id=client_id,
            client_secret=client_secret,
            default_expiration=86399,
        )
        self._scope_source = scopes
        self._resolved_scopes: list[str] | None = None
        self.settle_seconds = max(0.0, settle_seconds)
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.limiter = limiter or TokenBucket(None)
        # Its own session: the SDK sets `auth` on the streams' session, which would recurse here.
        self.http = session or requests.Session()
        self.logger = logger or logging.getLogger("coupa_api.auth")
        self.mints = 0
        self._minted_at: float | None = None  # monotonic clock
        self._not_before = 0.0
        self._rejections = 0
        self._lock = threading.RLock()

    # -- scopes -------------------------------------------------------------------------------
    @property
    def scopes(self) -> list[str]:
        """The scopes requested, resolved on first use (streams are selected by then)."""
        if self._resolved_scopes is None:
            source = self._scope_source
            raw = source() if callable(source) else source
            self._resolved_scopes = sorted({s.strip() for s in raw if s and s.strip()})
        return self._resolved_scopes

    @property
    def oauth_scopes(self) -> str:
        """Space-separated, as Coupa's token endpoint expects."""
        return " ".join(self.scopes)

    @property
    def oauth_request_body(self) -> dict[str, Any]:
        """The client-credentials form body."""
        body = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if self.scopes:
            body["scope"] = self.oauth_scopes
        return body

    # -- validity -----------------------------------------------------------------------------
    def refresh_margin(self) -> float:
        """Refresh this many seconds before expiry: 10 % of the lifetime, 60 s to 30 min."""
        lifetime = float(self.expires_in or 0)
        return min(max(lifetime * 0.1, 60.0), 1800.0, lifetime / 2)

    def is_token_valid(self) -> bool:
        """True while the token has more than the safety margin left."""
        if self.access_token is None or self._minted_at is None:
            return False
        if not self.expires_in:
            return True
        age = time.monotonic() - self._minted_at
        return age < self.expires_in - self.refresh_margin()

    # -- minting ------------------------------------------------------------------------------
    def update_access_token(self) -> None:
        """Mint a token, retrying transient failures; explain refusals."""
        with self._lock:
            send = with_retries(self._post_token_request, self.policy, self.logger)
            try:
                payload = send()
            except RETRIABLE_EXCEPTIONS as exc:
                # Final: the request that needed this token must not retry it all over again.
                if is_permanent(exc):
                    host = urlsplit(self.auth_endpoint).hostname
                    msg = (
                        f"Cannot resolve {host}, the host in `base_url`. Check the instance "
                        "name, e.g. https://acme.coupahost.com or https://acme.coupacloud.com."
                    )
                    raise CoupaAuthError(msg) from exc
                msg = (
                    f"Could not get a Coupa access token from {self.auth_endpoint} after "
                    f"{self.policy.max_tries} attempts ({redact(str(exc), self.client_secret)}). "
                    "Check `base_url` and that the instance is reachable."
                )
                raise CoupaAuthError(msg) from exc
            self.access_token = str(payload["access_token"])
            expires = payload.get("expires_in", self._default_expiration)
            self.expires_in = int(expires) if expires else None
            self._minted_at = time.monotonic()
            self._not_before = self._minted_at + self.settle_seconds
            self.mints += 1
            self.logger.info(
                "Minted a Coupa access token for client %s (scopes: %s; expires in %s s)",
                self.client_id,
                self.oauth_scopes or "all granted",
                self.expires_in,
            )

    def _post_token_request(self) -> dict[str, Any]:
        self.limiter.acquire()
        response = self.http.post(
            self.auth_endpoint,
            data=self.oauth_request_body,
            headers={"Accept": "application/json"},
            timeout=self.timeout,
        )
        status = response.status_code
        if status == 429 or status >= 500:
            msg = f"POST /oauth2/token: Coupa answered {status}; retrying."
            raise CoupaRetriableError(msg, response)
        if status >= 400:
            raise self._token_refusal(response)
        try:
            payload = decode_json(response)
        except ValueError as exc:
            msg = f"POST /oauth2/token: Coupa answered {status} with {exc}."
            raise CoupaRetriableError(msg, response) from exc
        if not isinstance(payload, dict) or "access_token" not in payload:
            msg = (
                f"POST /oauth2/token answered {status} without an access_token. Check that "
                f"base_url ({self.auth_endpoint.rsplit('/oauth2', 1)[0]}) is a Coupa instance."
            )
            raise CoupaAuthError(msg, status=status)
        return payload

    def _token_refusal(self, response: requests.Response) -> CoupaAuthError:
        messages = coupa_error_messages(response)
        detail = redact("; ".join(messages), self.client_secret)
        if "invalid_scope" in detail:
            msg = (
                f"Coupa refused the requested scopes for OAuth client '{self.client_id}' "
                f"({detail}). Grant these scopes to the client in Coupa under Setup > "
                f"Integrations > OAuth2/OpenID Connect Clients: {self.oauth_scopes}. Or set the "
                "`scopes` setting to the scopes the client has, and leave out the streams or "
                "operations that need the others."
            )
        elif "invalid_client" in detail or response.status_code == 401:
            msg = (
                f"Coupa rejected the OAuth client credentials (client_id '{self.client_id}', "
                f"HTTP {response.status_code}: {detail or 'no detail'}). Check `client_id` and "
                "`client_secret` against Setup > Integrations > OAuth2/OpenID Connect Clients, "
                "and that the client uses the client-credentials grant."
            )
        else:
            msg = (
                f"Coupa's token endpoint answered {response.status_code} "
                f"({detail or 'no detail'}) for client '{self.client_id}'. Check `base_url` "
                "and the client's configuration in Coupa."
            )
        return CoupaAuthError(msg, status=response.status_code, coupa_errors=messages)

    # -- use ----------------------------------------------------------------------------------
    def bearer_header(self) -> str:
        """A valid, settled `Authorization` value; mints or waits as needed."""
        with self._lock:
            if not self.is_token_valid():
                self.update_access_token()
            wait = self._not_before - time.monotonic()
            token = self.access_token
        if wait > 0:
            self.logger.info("Waiting %.1f s for the new Coupa token to settle", wait)
            time.sleep(wait)
        return f"Bearer {token}"

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Set the bearer header only (the SDK's base class would re-encode the query)."""
        request.headers["Authorization"] = self.bearer_header()
        return request

    def accepted(self) -> None:
        """Coupa accepted a request: reset the 401 counter."""
        self._rejections = 0

    def rejected(self, request_authorization: str | None) -> None:
        """Coupa answered 401 to a request sent with `request_authorization`.

        A token still inside its grace period is given a second to settle; an older one is
        dropped so the next attempt mints a fresh one. Raises after repeated refusals.
        """
        with self._lock:
            current = f"Bearer {self.access_token}" if self.access_token else None
            if request_authorization != current:
                return  # another thread already replaced that token
            age = time.monotonic() - (self._minted_at or 0.0)
            if age < self.settle_seconds + SETTLE_GRACE_SECONDS:
                self._not_before = time.monotonic() + 1.0
                return
            self._rejections += 1
            if self._rejections > MAX_CONSECUTIVE_REJECTIONS:
                msg = (
                    f"Coupa answered 401 to {self._rejections} requests in a row, each with a "
                    f"freshly minted token for client '{self.client_id}'. The client may lack API "
                    "access, or the instance clock disagrees with ours; check the client in "
                    "Setup > Integrations > OAuth2/OpenID Connect Clients."
                )
                raise CoupaAuthError(msg, status=401)
            self.access_token = None
            self._minted_at = None
