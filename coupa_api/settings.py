"""Connection settings shared by tap and target, and the checks that explain bad values.

JSON Schema (singer-sdk) checks types; `connection_problems` checks meaning, and every problem
gets its own sentence that names the setting and what to write instead.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from singer_sdk import typing as th

from coupa_api.ratelimit import TokenBucket
from coupa_api.retry import RetryPolicy

SCOPE_PATTERN = re.compile(
    r"^(?:[a-z][a-z0-9_]*)(?:\.[a-z][a-z0-9_]*)+$|^(openid|profile|email|login|offline_access)$"
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
        th.IntegerType,
        default=300,
        title="Request timeout (s)",
        description="Seconds to wait for one HTTP response; full invoice pages can be slow.",
    ),
    th.Property(
        "token_settle_seconds",
        th.NumberType,
        default=5,
        title="Token settle time (s)",
        description=(
            "Coupa refuses a token used within its first seconds; wait this long after "
            "minting one (Coupa documents at least 5)."
        ),
    ),
    th.Property(
        "max_requests_per_second",
        th.NumberType,
        default=20,
        title="Client-side rate limit (requests/s)",
        description=(
            "Coupa documents 25 requests/s with a burst of 20; stay below it. 0 turns the "
            "client-side limiter off (429s are still retried)."
        ),
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
        default=8,
        title="Attempts per request",
        description="Attempts for 429, 5xx, timeouts and dropped connections before giving up.",
    ),
    th.Property(
        "max_retry_seconds",
        th.IntegerType,
        default=600,
        title="Retry time budget (s)",
        description="Total seconds one request may spend retrying before the run fails.",
    ),
)


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (where plain http is acceptable)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_base_url(raw: str) -> str:
    """`https://acme.coupahost.com/api/` -> `https://acme.coupahost.com` (no path, no slash)."""
    url = raw.strip().rstrip("/")
    if url.endswith("/api"):
        url = url[: -len("/api")]
    return url


def connection_problems(config: Mapping[str, Any]) -> list[str]:
    """One sentence per connection setting that cannot work."""
    problems: list[str] = []
    raw = str(config.get("base_url") or "")
    parts = urlsplit(normalize_base_url(raw)) if raw else None
    if not raw:
        problems.append(
            "`base_url` is missing: set it to your instance, e.g. https://acme.coupahost.com."
        )
    elif parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
        problems.append(
            f"`base_url` '{raw}' is not a URL: write it as https://<instance>.coupahost.com."
        )
    elif parts.scheme == "http" and not is_loopback(parts.hostname):
        problems.append(
            f"`base_url` '{raw}' uses plain http; Coupa serves only https. Use "
            f"https://{parts.netloc} (plain http is allowed only for 127.0.0.1/localhost)."
        )
    elif parts.path not in {"", "/"}:
        problems.append(
            f"`base_url` '{raw}' has a path ({parts.path}); give only the instance, e.g. "
            f"{parts.scheme}://{parts.netloc}."
        )
    for key in ("client_id", "client_secret"):
        if not str(config.get(key) or "").strip():
            problems.append(
                f"`{key}` is empty: copy it from Coupa's Setup > Integrations > "
                "OAuth2/OpenID Connect Clients."
            )
    for scope in config.get("scopes") or []:
        if not isinstance(scope, str) or not SCOPE_PATTERN.match(scope):
            problems.append(
                f"`scopes` entry {scope!r} is not a Coupa scope; scopes look like "
                "core.invoice.read."
            )
    for key, low in (
        ("request_timeout", 1),
        ("token_settle_seconds", 0),
        ("max_requests_per_second", 0),
        ("max_retries", 1),
        ("max_retry_seconds", 1),
    ):
        value = config.get(key)
        if value is not None and (not isinstance(value, int | float) or value < low):
            problems.append(f"`{key}` is {value!r}; it must be a number of at least {low}.")
    return problems


def retry_policy(config: Mapping[str, Any]) -> RetryPolicy:
    """The retry policy the settings ask for."""
    return RetryPolicy(
        max_tries=int(config.get("max_retries") or 8),
        max_time_seconds=float(config.get("max_retry_seconds") or 600),
    )


def rate_limiter(config: Mapping[str, Any]) -> TokenBucket:
    """The client-side limiter the settings ask for (burst 20, Coupa's documented burst)."""
    rate = config.get("max_requests_per_second", 20)
    return TokenBucket(float(rate) if rate else None, burst=20)
