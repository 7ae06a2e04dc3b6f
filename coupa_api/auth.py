"""OAuth 2.0 client credentials for Coupa, built on singer-sdk's OAuthAuthenticator.

What the SDK's authenticator does not do and Coupa needs (see reference/coupa-api.md §2):
- refresh ahead of expiry with a safety margin (tokens live ~24 h; a long backfill crosses that);
- never use a token inside its settle window (Coupa: wait at least 5 s after minting);
- re-mint once when Coupa answers 401, without minting a storm of tokens when it keeps refusing;
- turn `invalid_scope` / `invalid_client` into messages that say what to grant or fix;
- set only the Authorization header, so the SDK does not re-encode the query string;
- never follow a redirect from the token endpoint (it would re-post the secret elsewhere);
- give up at once when nothing listens at `base_url` before Coupa ever answered.
Every secret it holds or mints is registered with coupa_api.redact, so no log line shows it.
One instance is shared by every stream of a run (and by the target), guarded by a lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import requests
from singer_sdk.authenticators import OAuthAuthenticator
from typing_extensions import override
from urllib3.util import parse_url

from coupa_api import redact as redaction
from coupa_api.errors import CoupaAuthError, CoupaRetriableError
from coupa_api.ratelimit import RateController
from coupa_api.redact import redact
from coupa_api.responses import coupa_error_messages, decode_json
from coupa_api.retry import (
    REFUSED,
    RETRIABLE_EXCEPTIONS,
    RetryPolicy,
    retry_after_seconds,
    transport_failure,
    transport_message,
    with_retries,
)

#: How many 401s in a row (each followed by a fresh token) before we stop and say so.
MAX_CONSECUTIVE_REJECTIONS = 3
#: A token refused this young is probably still settling: wait instead of minting another.
SETTLE_GRACE_SECONDS = 2.0

ScopeSource = Iterable[str] | Callable[[], Iterable[str]]


#: Seconds a token lives when the token response has no `expires_in` (Coupa's are ~24 h).
DEFAULT_EXPIRES_IN = 86399


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
        limiter: RateController | None = None,
        session: requests.Session | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(
            auth_endpoint=f"{base_url}/oauth2/token",
            client_id=client_id,
            client_secret=client_secret,
            default_expiration=DEFAULT_EXPIRES_IN,
        )
        self._scope_source = scopes
        self._resolved_scopes: list[str] | None = None
        self.settle_seconds = max(0.0, settle_seconds)
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.limiter = limiter or RateController(None)
        # Its own session: the SDK sets `auth` on the streams' session, which would recurse here.
        self.http = session or requests.Session()
        self.logger = logger or logging.getLogger("coupa_api.auth")
        self.mints = 0
        self._minted_at: float | None = None  # monotonic clock
        self._not_before = 0.0
        #: The `_not_before` whose wait was last logged (one line per wait, not per thread).
        self._announced_wait: float | None = None
        self._rejections = 0
        #: Coupa accepted a request since the current token was minted: a refusal now means
        #: expired or revoked, not "still settling".
        self._proven = False
        #: Refusals of a token still inside the settle grace, since Coupa last accepted one
        #: (concurrent refusals within a second count once).
        self._young_refusals = 0
        self._young_refused_at = float("-inf")
        #: Coupa (or whatever listens at base_url) has answered at least once in this run.
        self.reached = False
        self._lock = threading.RLock()
        #: A refusal or unreachable endpoint, final for the run (see update_access_token).
        self._refusal: CoupaAuthError | None = None
        redaction.register(client_secret)

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
    @override
    def oauth_scopes(self) -> str:
        """Space-separated, as Coupa's token endpoint expects."""
        return " ".join(self.scopes)

    @property
    @override
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

    @override
    def is_token_valid(self) -> bool:
        """True while the token has more than the safety margin left."""
        if self.access_token is None or self._minted_at is None:
            return False
        if not self.expires_in:
            return True
        age = time.monotonic() - self._minted_at
        return age < self.expires_in - self.refresh_margin()

    # -- minting ------------------------------------------------------------------------------
    @override
    def update_access_token(self) -> None:
        """Mint a token, retrying transient failures; explain refusals."""
        with self._lock:
            if self._refusal is not None:
                # Final for the run: every worker waiting on this lock gets the same sentence
                # instead of posting the secret again (discovery samples every stream at once).
                raise CoupaAuthError(str(self._refusal), status=self._refusal.status)
            try:
                self._mint()
            except CoupaAuthError as exc:
                self._refusal = exc
                raise

    def _mint(self) -> None:
        with self._lock:
            send = with_retries(
                self._post_token_request,
                self.policy,
                self.logger,
                giveup=self._unreachable_at_start,
            )
            try:
                payload = send()
            except RETRIABLE_EXCEPTIONS as exc:
                # Final: the request that needed this token must not retry it all over again.
                sentence = transport_message(exc, self.auth_endpoint)
                if sentence and (not self.reached or transport_failure(exc) != REFUSED):
                    raise CoupaAuthError(sentence) from exc
                msg = (
                    f"Could not get a Coupa access token from {self.auth_endpoint} after "
                    f"{self.policy.max_tries} attempts ({redact(str(exc), self.client_secret)}). "
                    "Check `base_url` and that the instance is reachable."
                )
                raise CoupaAuthError(msg) from exc
            self.access_token = str(payload["access_token"])
            redaction.register(self.access_token)
            expires = payload.get("expires_in", DEFAULT_EXPIRES_IN)
            self.expires_in = int(expires) if expires else None
            self._minted_at = time.monotonic()
            self._proven = False
            self._not_before = self._minted_at + self.settle_seconds
            self.mints += 1
            self.logger.info(
                "Minted a Coupa access token for client %s (scopes: %s; expires in %s s)",
                self.client_id,
                self.oauth_scopes or "all granted",
                self.expires_in,
            )

    def _unreachable_at_start(self, exc: BaseException) -> bool:
        """Nothing listens at `base_url` and nothing ever answered: retrying cannot help."""
        return not self.reached and transport_failure(exc) == REFUSED

    def _post_token_request(self) -> dict[str, Any]:
        with self.limiter.permit():
            response = self.http.post(
                self.auth_endpoint,
                data=self.oauth_request_body,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
                allow_redirects=False,  # a redirect would re-post the form, secret included
            )
            self.reached = True
            status = response.status_code
            if status == 429:
                self.limiter.observe(status, retry_after_seconds(response))
        if 300 <= status < 400:
            raise self._token_redirect(response)
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

    def _token_redirect(self, response: requests.Response) -> CoupaAuthError:
        """A 3xx from the token endpoint: not followed, the secret stays here."""
        location = response.headers.get("Location", "")
        try:
            target = parse_url(location).netloc if location else None
        except ValueError:
            target = None
        where = f"to host {target}" if target else f"to {redact(location[:120]) or 'nowhere'}"
        msg = (
            f"Coupa's token endpoint {self.auth_endpoint} answered {response.status_code}, a "
            f"redirect {where}. The token request carries the client secret, so it is never "
            "re-sent to another address. Set `base_url` to the address Coupa serves the API "
            "from (the one the redirect names, if you trust it)."
        )
        return CoupaAuthError(msg, status=response.status_code)

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
            # Concurrent requests (discovery samples 8 streams at once) all wait for the same
            # token: say so once per wait, not once per waiting thread.
            announce = wait > 0 and self._announced_wait != self._not_before
            if announce:
                self._announced_wait = self._not_before
        if announce:
            self.logger.info("Waiting %.1f s for the new Coupa token to settle", wait)
        if wait > 0:
            time.sleep(wait)
        return f"Bearer {token}"

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Set the bearer header only (the SDK's base class would re-encode the query)."""
        request.headers["Authorization"] = self.bearer_header()
        return request

    def accepted(self) -> None:
        """Coupa accepted a request: reset the 401 counters."""
        self._rejections = 0
        self._young_refusals = 0
        self._proven = True

    def settle_advice(self) -> str:
        """What to change when Coupa keeps refusing tokens that are still settling."""
        young = self.settle_seconds + SETTLE_GRACE_SECONDS
        return (
            f"Coupa keeps refusing tokens younger than {young:g} s: this instance needs "
            "longer to settle a new token than `token_settle_seconds` "
            f"({self.settle_seconds:g}) allows. Raise `token_settle_seconds` (Coupa documents at "
            "least 5) and run again."
        )

    def rejected(self, request_authorization: str | None) -> str:
        """Coupa answered 401 to a request sent with `request_authorization`; say what follows.

        A token still inside its grace period is given a second to settle; an older one is
        dropped so the next attempt mints a fresh one. Raises after repeated refusals. The
        returned sentence ends the 401's message, and so the run's last message if retries run
        out: when young tokens were refused it names `token_settle_seconds`, the setting to raise.
        """
        with self._lock:
            current = f"Bearer {self.access_token}" if self.access_token else None
            if request_authorization != current:
                if self._young_refusals > 1:
                    return self.settle_advice()
                return "Retrying with the token another request minted meanwhile."
            now = time.monotonic()
            age = now - (self._minted_at or 0.0)
            # Unproven (never accepted) counts as young whatever its age: on a loaded machine
            # the first answer to a fresh token can come after the grace period, and
            # re-minting would only restart the settle window.
            if not self._proven or age < self.settle_seconds + SETTLE_GRACE_SECONDS:
                if now - self._young_refused_at >= 1.0:
                    self._young_refusals += 1
                    self._young_refused_at = now
                    self._not_before = now + 1.0
                if self._young_refusals > 1:
                    return self.settle_advice()
                return "The token may still be settling; waiting a second and retrying."
            self._rejections += 1
            if self._rejections > MAX_CONSECUTIVE_REJECTIONS:
                msg = (
                    f"Coupa answered 401 to {self._rejections} requests in a row, each with a "
                    f"freshly minted token for client '{self.client_id}'. "
                    + (
                        self.settle_advice()
                        if self._young_refusals
                        else "The client may lack API access, or the instance clock disagrees "
                        "with ours; check the client in Setup > Integrations > OAuth2/OpenID "
                        "Connect Clients."
                    )
                )
                raise CoupaAuthError(msg, status=401)
            self.access_token = None
            self._minted_at = None
            if self._young_refusals:
                return self.settle_advice()
            return "Minting a new token and retrying."
