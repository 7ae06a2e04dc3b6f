"""Connection settings shared by tap and target, and the checks that explain bad values.

JSON Schema (singer-sdk) checks types; `connection_problems` checks meaning, and every problem
gets its own sentence that names the setting and what to write instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import requests
from singer_sdk import typing as th
from urllib3.exceptions import LocationParseError
from urllib3.util import Url, parse_url

from coupa_api.numeric_settings import (
    CONNECTION_NUMBERS,
    MAX_REQUESTS_PER_SECOND,
    MAX_RETRIES,
    MAX_RETRY_SECONDS,
    REQUEST_TIMEOUT,
    TOKEN_SETTLE_SECONDS,
    number_problems,
)
from coupa_api.ratelimit import DEFAULT_RATE, MAX_PAUSE_SECONDS, RateController, burst_for
from coupa_api.retry import RetryPolicy, is_loopback

#: Used with `fullmatch`: `$` under `match` also accepts a final newline ("core.invoice.read\n"),
#: which would be sent in the token request's `scope`.
SCOPE_PATTERN = re.compile(
    r"(?:[a-z][a-z0-9_]*)(?:\.[a-z][a-z0-9_]*)+|openid|profile|email|login|offline_access"
)

CONNECTION_PROPERTIES: tuple[th.Property[Any], ...] = (
    th.Property(
        "base_url",
        th.StringType,
        required=True,
        title="Coupa instance URL",
        description=(
            "Your Coupa instance, e.g. https://acme.coupahost.com (also *.coupacloud.com, "
            "sandboxes such as https://acme-test.coupahost.com, and vanity hosts). Plain http:// "
            "is accepted only for loopback addresses (the local emulator)."
        ),
        examples=["https://acme.coupahost.com"],
    ),
    th.Property(
        "client_id",
        th.StringType,
        required=True,
        title="OAuth client ID",
        description="Identifier of a client-credentials OAuth2/OpenID Connect client in Coupa.",
    ),
    th.Property(
        "client_secret",
        th.StringType,
        required=True,
        secret=True,
        title="OAuth client secret",
        description="Secret of that OAuth client. Never logged.",
    ),
    th.Property(
        "scopes",
        th.ArrayType(th.StringType),
        title="OAuth scopes",
        description=(
            'Scopes to request, e.g. ["core.invoice.read"]. Default: the least set the '
            "selected streams (tap) or the write operations (target) need."
        ),
    ),
    th.Property(
        "request_timeout",
        REQUEST_TIMEOUT.json_type(),
        default=300,
        title="Request timeout (s)",
        description=(
            "Seconds to wait for one HTTP response; full invoice pages can be slow "
            f"({REQUEST_TIMEOUT.range_text})."
        ),
    ),
    th.Property(
        "token_settle_seconds",
        TOKEN_SETTLE_SECONDS.json_type(),
        default=5,
        title="Token settle time (s)",
        description=(
            "Coupa refuses a token used within its first seconds; wait this long after "
            f"minting one (Coupa documents at least 5; {TOKEN_SETTLE_SECONDS.range_text}, "
            'a number or its text such as "1.5").'
        ),
    ),
    th.Property(
        "max_requests_per_second",
        MAX_REQUESTS_PER_SECOND.json_type(),
        default=25,
        title="Client-side rate limit (requests/s)",
        description=(
            "Requests per second for the whole run, shared by every stream and worker (Coupa "
            "documents 25 with a burst of 20; a lower rate gets a smaller burst, 0.8 s of it). "
            "Lower it if other integrations share the client. A 429 cuts the rate by 30 %, which "
            "then recovers (a lone 429 at this rate, none in the 10 s before it, only empties the "
            "burst); Retry-After pauses every worker, at most 60 s at a time and never "
            "past `max_retry_seconds`; rate-limit headers from a gateway (RateLimit, "
            "X-RateLimit-*) are paced on before any 429. 0 turns client-side pacing off (429s "
            "are still retried). "
            f'{MAX_REQUESTS_PER_SECOND.range_text}, a number or its text such as "12.5".'
        ),
    ),
    th.Property(
        "max_retries",
        MAX_RETRIES.json_type(),
        default=8,
        title="Attempts per request",
        description=(
            "Attempts for 429, 5xx, timeouts and dropped connections before giving up "
            f"({MAX_RETRIES.range_text})."
        ),
    ),
    th.Property(
        "max_retry_seconds",
        MAX_RETRY_SECONDS.json_type(),
        default=600,
        title="Retry time budget (s)",
        description=(
            "Total seconds one request may spend retrying before the run fails; a "
            "Retry-After longer than this fails the request with a sentence once the budget "
            f"is spent, instead of holding every worker ({MAX_RETRY_SECONDS.range_text})."
        ),
    ),
)


def is_number(value: object) -> bool:
    """A JSON number as singer-sdk reads config files (fractions arrive as Decimal), not a bool."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def normalize_base_url(raw: str) -> str:
    """`https://acme.coupahost.com/api/` -> `https://acme.coupahost.com` (no path, no slash)."""
    url = raw.strip().rstrip("/")
    if url.endswith("/api"):
        url = url[: -len("/api")]
    return url


def connected_url(url: str) -> Url:
    r"""`url` as requests prepares it and urllib3 connects to it (never a second parser).

    requests prepares the URL (IDNA, percent-encoding) and urllib3 parses the prepared URL to
    pick the host it connects to; reading it any other way is how `http://REMOTE\@127.0.0.1`
    once passed a loopback check while the connection (and the secret) went to REMOTE.

    Raises:
        ValueError: requests would refuse to send to `url`.
    """
    prepared = requests.PreparedRequest()
    try:
        prepared.prepare_url(url, None)
        return parse_url(str(prepared.url))
    except (requests.exceptions.RequestException, LocationParseError, UnicodeError) as exc:
        raise ValueError(str(exc)) from exc
    except ValueError:
        raise


def base_url_problem(raw: str) -> str | None:  # noqa: PLR0911 - one sentence per problem
    """The one sentence that says why `base_url` cannot be used, or None when it can.

    Everything is read from `connected_url`, the way the request will go out. A URL carrying
    '@' is never echoed: what precedes it may be a password.
    """
    if not raw.strip():
        return "`base_url` is missing: set it to your instance, e.g. https://acme.coupahost.com."
    url = normalize_base_url(raw)
    authority = re.split(r"[/?#]", url.split("://", 1)[-1], maxsplit=1)[0]
    shown = "(not shown)" if "@" in raw else (raw if len(raw) <= 200 else raw[:200] + "…")
    not_a_url = f"`base_url` '{shown}' is not a URL: write it as https://<instance>.coupahost.com."
    if "\\" in raw:
        return (
            "`base_url` contains a backslash, which no Coupa URL has (a backslash lets "
            "different parsers see different hosts); write it as https://<instance>.coupahost.com."
        )
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return not_a_url
    try:
        parts = connected_url(url)
        written = parse_url(url)  # requests drops an empty '?' or '#'; our URLs append to it
        token = connected_url(f"{url}/oauth2/token")
    except (ValueError, LocationParseError):
        return not_a_url
    if parts.scheme not in {"http", "https"} or not parts.host:
        return not_a_url
    origin = f"{parts.scheme}://{parts.host}" + (f":{parts.port}" if parts.port else "")
    if parts.auth is not None or "@" in authority:
        return (
            "`base_url` carries a user name or password before '@'; Coupa takes credentials "
            f"only as `client_id` and `client_secret`. Write just {origin}."
        )
    if parts.query is not None or written.query is not None:
        return f"`base_url` '{shown}' has a ?query; give only the instance, e.g. {origin}."
    if parts.fragment is not None or written.fragment is not None:
        return f"`base_url` '{shown}' has a #fragment; give only the instance, e.g. {origin}."
    if parts.scheme == "http" and not is_loopback(parts.host):
        return (
            f"`base_url` '{shown}' uses plain http; Coupa serves only https. Use "
            f"https://{parts.netloc} (plain http is allowed only for 127.0.0.1/localhost)."
        )
    if parts.path not in {None, "", "/"}:
        return (
            f"`base_url` '{shown}' has a path ({parts.path}); give only the instance, e.g. "
            f"{origin}."
        )
    if (token.scheme, token.host, token.port, token.path) != (
        parts.scheme,
        parts.host,
        parts.port,
        "/oauth2/token",
    ):
        return not_a_url  # the URLs built from it would not go where it says
    return None


def connection_problems(config: Mapping[str, Any]) -> list[str]:
    """One sentence per connection setting that cannot work."""
    problems: list[str] = []
    raw = config.get("base_url")
    if problem := base_url_problem(raw if isinstance(raw, str) else ""):
        problems.append(problem)
    for key in ("client_id", "client_secret"):
        if not str(config.get(key) or "").strip():
            problems.append(
                f"`{key}` is empty: copy it from Coupa's Setup > Integrations > "
                "OAuth2/OpenID Connect Clients."
            )
    for scope in config.get("scopes") or []:
        if not isinstance(scope, str) or not SCOPE_PATTERN.fullmatch(scope):
            hint = (
                " (it starts or ends with a newline or a space: remove it)"
                if isinstance(scope, str) and scope != scope.strip()
                else ""
            )
            problems.append(
                f"`scopes` entry {scope!r}{hint} is not a Coupa scope; scopes look like "
                "core.invoice.read."
            )
    problems += number_problems(config, CONNECTION_NUMBERS)
    return problems


def retry_policy(config: Mapping[str, Any]) -> RetryPolicy:
    """The retry policy the settings ask for."""
    return RetryPolicy(
        max_tries=int(config.get("max_retries") or 8),
        max_time_seconds=float(config.get("max_retry_seconds") or 600),
    )


def rate_limiter(config: Mapping[str, Any]) -> RateController:
    """The run's one rate controller (Coupa's documented 25 requests/s, burst 20).

    The burst scales with a lower rate (coupa_api.ratelimit.burst_for); one pause lasts at
    most 60 s, and never longer than the retry budget (`max_retry_seconds`).
    """
    rate = config.get("max_requests_per_second", DEFAULT_RATE)
    pacing = float(rate) if rate else None
    budget = float(config.get("max_retry_seconds") or 600)
    return RateController(pacing, burst=burst_for(pacing), max_pause=min(MAX_PAUSE_SECONDS, budget))
