"""A connection to one Coupa instance: token, rate limit, retry policy, response checks.

The one HTTP route of the project: the tap's reader (tap_coupa.reader), discovery, the
deletion sweep, the clock probe and the target all build their requests here (`prepare`: URL,
Coupa's query encoding, Accept and User-Agent) and send them through `send`/`request`, so the
same objects decide when to wait, retry, re-authenticate or stop.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from coupa_api import redirects
from coupa_api.auth import CoupaOAuth, ScopeSource
from coupa_api.errors import CoupaFatalError, CoupaRetriableError, CoupaScopeError
from coupa_api.query import encode
from coupa_api.ratelimit_headers import parse_quota
from coupa_api.responses import Verdict, classify, decode_json
from coupa_api.retry import retry_after_seconds, with_retries
from coupa_api.settings import normalize_base_url, rate_limiter, retry_policy

USER_AGENT = "tap-coupa/target-coupa (singer-sdk; +https://hub.meltano.com)"
#: Keep-alive connections kept per host (concurrent readers and writers share the session).
POOL_SIZE = 32


class CoupaClient:
    """Everything needed to talk to one Coupa instance, shared by every caller of a run."""

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        scopes: ScopeSource,
        logger: logging.Logger | None = None,
    ) -> None:
        self.base_url = normalize_base_url(str(config["base_url"]))
        self.logger = logger or logging.getLogger("coupa_api")
        self.policy = retry_policy(config)
        self.limiter = rate_limiter(config)
        self.timeout = float(config.get("request_timeout") or 300)
        self.http = requests.Session()
        # Concurrent partitions share this session: room for every worker's connection.
        self.http.mount(self.base_url, requests.adapters.HTTPAdapter(pool_maxsize=POOL_SIZE))
        self.http.headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        # The proxy and CA-bundle environment, read once: with trust_env, requests scans
        # os.environ two or three times per request (a quarter of a reading thread's CPU).
        self.http.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.http.verify = bundle
        self.http.trust_env = False
        self.client_id = str(config["client_id"])
        self.auth = CoupaOAuth(
            base_url=self.base_url,
            client_id=self.client_id,
            client_secret=str(config["client_secret"]),
            scopes=scopes,
            settle_seconds=float(config.get("token_settle_seconds", 5)),
            timeout=min(self.timeout, 60.0),
            policy=self.policy,
            limiter=self.limiter,
            logger=self.logger,
        )

    # -- the shared classification --------------------------------------------------------------
    def check(self, response: requests.Response, *, what: str, scope: str | None = None) -> None:
        """Raise what `response` calls for; return quietly when it is usable.

        `scope` is the scope the call needs, named in the 403 message when Coupa does not say.
        Every response also feeds the run's rate controller (a 429 slows every worker down;
        rate-limit headers, when a gateway sends them, pace it before any 429).
        """
        quota = parse_quota(response.headers, time.time())
        self.limiter.observe(response.status_code, retry_after_seconds(response), quota)
        result = classify(response, what=what)
        if result.verdict is Verdict.OK:
            self.auth.accepted()
            return
        if result.verdict is Verdict.REAUTH:
            then = self.auth.rejected(response.request.headers.get("Authorization"))
            raise CoupaRetriableError(f"{result.message} {then}", response)
        if result.verdict is Verdict.RETRY:
            raise CoupaRetriableError(result.message, response)
        if response.status_code == 403:
            missing = result.scope or scope
            msg = (
                f"{result.message} The OAuth client '{self.client_id}' lacks the scope "
                f"{missing or '(Coupa did not say which)'}. Grant it in Coupa under Setup > "
                "Integrations > OAuth2/OpenID Connect Clients (and add it to `scopes` if you set "
                "that), or deselect what needs it."
            )
            raise CoupaScopeError(msg, scope=missing)
        raise CoupaFatalError(
            result.message,
            status=response.status_code,
            coupa_errors=list(result.coupa_errors),
        )

    # -- direct calls ---------------------------------------------------------------------------
    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """Absolute URL for an API path with Coupa-encoded parameters."""
        query = encode(params) if params else ""
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def prepare(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> requests.PreparedRequest:
        """The request, unauthenticated: URL, encoded query, the session's Accept/User-Agent."""
        return self.http.prepare_request(
            requests.Request(method, self.url(path, params), json=json)
        )

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        scope: str | None = None,
        what: str | None = None,
        observe: Callable[[requests.Response], None] | None = None,
    ) -> requests.Response:
        """One attempt: take a permit, authenticate, send, check. No retries.

        `what` names the call in error messages (default `GET /api/...`); `observe` sees every
        response before it is checked (a stream's counters). A write never follows a redirect
        (coupa_api.redirects): its 3xx is a fatal error.
        """
        with self.limiter.permit():
            prepared = self.prepare(method, path, params=params, json=json)
            prepared.headers["Authorization"] = self.auth.bearer_header()
            response = self.http.send(
                prepared,
                timeout=self.timeout,
                allow_redirects=redirects.follows_redirects(method),
            )
            if observe is not None:
                observe(response)
            self.check(response, what=what or f"{method} {path}", scope=scope)
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        scope: str | None = None,
        retry: bool = True,
    ) -> Any:
        """Send with the shared retry policy and return the decoded JSON body.

        `retry=False` is for non-idempotent writes: the caller decides what a timeout means.
        """
        send = (
            with_retries(self.send, self.policy, self.logger, on_retry=self.limiter.note_retry)
            if retry
            else self.send
        )
        response = send(method, path, params=params, json=json, scope=scope)
        return decode_json(response)
