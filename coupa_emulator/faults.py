"""Things that go wrong in production, on demand: faults, rate limiting, concurrent edits."""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import orjson

from coupa_emulator.config import ConfigError

FAULT_KINDS = frozenset({"status", "drop", "truncate", "slow"})
#: `echo` is a gateway that echoes the request (Authorization, query, form) in a JSON error;
#: `empty` is no body at all (with status 200: a proxy that lost the page).
BODY_KINDS = frozenset({"html", "json", "xml", "text", "echo", "empty"})


@dataclass
class FaultRule:
    """One injected failure, matched by path prefix, method and query (docs/emulator-control.md).

    `query` lists substrings that the decoded query string must all contain, so a rule can hit
    one kind of request on a shared path, e.g. `fields=["id"]` and `dir=asc` for the id
    listing of a deletion sweep and not the pages of the main read.
    """

    kind: str
    path: str = ""
    method: str | None = None
    query: list[str] = field(default_factory=list)
    after: int = 0
    times: int = 1
    status: int = 503
    body: str = "html"
    #: Seconds, or a string sent verbatim (to play garbage, negative, HTTP-date Retry-After).
    retry_after: float | str | None = None
    delay_s: float = 2.0
    location: str | None = None
    seen: int = 0
    fired: int = 0

    @classmethod
    def parse(cls, raw: Any) -> FaultRule:
        """Validate a rule from JSON; a bad rule is a ConfigError naming the problem."""
        if not isinstance(raw, dict):
            raise ConfigError(f"a fault rule must be a JSON object, got {raw!r}")
        known = {"kind", "path", "method", "query", "after", "times", "status", "body",
                 "retry_after", "delay_s", "location"}  # fmt: skip
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(f"unknown fault rule key(s): {', '.join(unknown)}")
        if raw.get("kind") not in FAULT_KINDS:
            raise ConfigError(
                f"fault kind must be one of {sorted(FAULT_KINDS)}, got {raw.get('kind')!r}"
            )
        query = raw.get("query") or []
        if isinstance(query, str):
            query = [query]
        if not isinstance(query, list) or not all(isinstance(q, str) for q in query):
            raise ConfigError(f"fault query must be a string or a list of strings, got {query!r}")
        rule = cls(
            kind=raw["kind"],
            path=str(raw.get("path") or ""),
            method=str(raw["method"]).upper() if raw.get("method") else None,
            query=list(query),
            after=int(raw.get("after", 0)),
            times=int(raw.get("times", 1)),
            status=int(raw.get("status", 503)),
            body=str(raw.get("body", "html")),
            retry_after=_retry_after(raw.get("retry_after")),
            delay_s=float(raw.get("delay_s", 2.0)),
            location=None if raw.get("location") is None else str(raw["location"]),
        )
        if rule.body not in BODY_KINDS:
            raise ConfigError(f"fault body must be one of {sorted(BODY_KINDS)}, got {rule.body!r}")
        if not 100 <= rule.status <= 599 or rule.after < 0 or rule.times < 0 or rule.delay_s < 0:
            raise ConfigError(f"fault rule has an out-of-range number: {raw!r}")
        return rule

    def take(self, method: str, path: str, query: str = "") -> bool:
        """Count a matching request; True when this one should fail.

        `query` is the raw query string; it is decoded before the substrings are looked up.
        """
        if not path.startswith(self.path) or (self.method and self.method != method):
            return False
        if self.query:
            decoded = urllib.parse.unquote_plus(query)
            if not all(part in decoded for part in self.query):
                return False
        self.seen += 1
        if self.seen <= self.after or self.fired >= self.times:
            return False
        self.fired += 1
        return True


def _retry_after(value: Any) -> float | str | None:
    """A rule's Retry-After: a number of seconds, or a string sent as it is (one header line)."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.isprintable() or not value.isascii():
            raise ConfigError(f"fault retry_after must be printable ASCII, got {value!r}")
        return value
    return float(value)


def retry_after_header(value: float | str) -> str:
    """The Retry-After header's text: a string verbatim, whole seconds without an exponent."""
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else f"{value}"


class Faults:
    """The active fault rules, first match wins."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(self, raws: list[Any]) -> None:
        """Validate and append rules; nothing is added if any rule is bad."""
        parsed = [FaultRule.parse(r) for r in raws]
        self.rules.extend(parsed)

    def match(self, method: str, path: str, query: str = "") -> FaultRule | None:
        """The rule that fails this request, if any (counts every matching request)."""
        for rule in self.rules:
            if rule.take(method, path, query):
                return rule
        return None


def fault_body(rule: FaultRule, echo: str = "") -> tuple[bytes, str]:
    """A body like the ones proxies and load balancers really send with 5xx.

    `echo` (the request as `echo` bodies repeat it) is used by `body: "echo"` only.
    """
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
              504: "Gateway Timeout", 429: "Too Many Requests", 401: "Unauthorized",
              403: "Forbidden"}.get(rule.status, "Error")  # fmt: skip
    if rule.body == "echo":
        return orjson.dumps(
            {"errors": {"error": [f"Rejected request: {echo}"]}}
        ), "application/json"
    if rule.body == "empty":
        return b"", "application/json"
    if rule.body == "json":
        if rule.status == 401:
            doc: dict[str, Any] = {"error": "invalid_token", "error_description": "Token revoked"}
        else:
            doc = {"errors": {"error": [f"{rule.status} {reason}"]}}
        return orjson.dumps(doc), "application/json"
    if rule.body == "xml":
        text = f'<?xml version="1.0" encoding="UTF-8"?>\n<errors><error>{reason}</error></errors>'
        return text.encode(), "application/xml"
    if rule.body == "text":
        return f"{rule.status} {reason}".encode(), "text/plain"
    html = (
        f"<!DOCTYPE html><html><head><title>{rule.status} {reason}</title></head><body>"
        f"<h1>{reason}</h1><p>The server is temporarily unable to service your request."
        "</p><hr><address>nginx</address></body></html>"
    )
    return html.encode(), "text/html"


class RateLimiter:
    """A token bucket per client: `rate` requests per second, bursts of `burst`."""

    def __init__(self) -> None:
        self.buckets: dict[str, tuple[float, float]] = {}

    def reset(self) -> None:
        """Forget every bucket (all clients start full again)."""
        self.buckets.clear()

    def allow(self, key: str, rate: float | None, burst: int) -> bool:
        """Take one token from `key`'s bucket; False means answer 429."""
        if rate is None:
            return True
        now = time.monotonic()
        tokens, last = self.buckets.get(key, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate)
        if tokens < 1.0:
            self.buckets[key] = (tokens, now)
            return False
        self.buckets[key] = (tokens - 1.0, now)
        return True


@dataclass
class Mutation:
    """A scripted concurrent edit: fires once `due` /api/ requests have been served."""

    due: int
    resource: str
    update: int
    insert: int
    #: New ids start above this one too: a client that loaded earlier emulators' inserts (the
    #: demo's database) gets new ids from a fresh emulator instead of the same ones again.
    ids_above: int = 0
