"""Rate-limit hints a response may carry: Retry-After and the RateLimit header families.

Coupa documents none of these (it answers 429, usually without Retry-After), but gateways and
unified APIs in front of it emit them. When present they let the run's rate controller
(coupa_api.ratelimit) wait for the quota to reset instead of running into 429s. Every parser
here is pure and total: a malformed value is ignored (None), never an exception, so a header
can only help, never fail a run.

Forms read, first match wins:
- IETF draft-ietf-httpapi-ratelimit-headers (structured fields, drafts 08 and later):
  `RateLimit: "default";r=50;t=30` with `RateLimit-Policy: "default";q=100;w=10`;
- the earlier drafts: `RateLimit: limit=100, remaining=50, reset=30` (one dictionary), or
  `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset` (with `RateLimit-Policy:
  100;w=10`);
- the de-facto `X-RateLimit-Limit` / `-Remaining` / `-Reset`, whose Reset is delta seconds or
  an epoch timestamp (seconds or milliseconds), told apart by size.
"""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

#: A reset or Retry-After value this large is a point in time (Unix epoch), not a delay: no
#: server asks to wait 31 years.
EPOCH_SECONDS = 1_000_000_000
EPOCH_MILLISECONDS = 1_000_000_000_000
#: Longest header value looked at; anything longer is not a rate-limit field.
MAX_VALUE_LENGTH = 4096

_NUMBER = re.compile(r"\A[0-9]{1,20}(?:\.[0-9]{1,12})?\Z", re.ASCII)
_KEY = re.compile(r"\A[a-z*][a-z0-9_.*-]*\Z", re.ASCII)
_TOKEN = re.compile(r"\A[A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*\Z", re.ASCII)


@dataclass(frozen=True)
class Quota:
    """What the server said about its quota, in seconds from when the response was read.

    `remaining` requests are left until the window resets in `reset` seconds; `limit`
    requests fit in a window of `window` seconds. Any of them may be unknown (None).
    """

    remaining: float | None = None
    reset: float | None = None
    limit: float | None = None
    window: float | None = None
    source: str = ""

    @property
    def exhausted(self) -> bool:
        """No request left before the reset."""
        return self.remaining is not None and self.remaining < 1


def _number(text: str | None) -> float | None:
    """A non-negative finite decimal (ASCII digits only), else None."""
    if text is None:
        return None
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _delay(value: float | None, now: float) -> float | None:
    """A reset given as delta seconds or as an epoch timestamp, as seconds from `now`."""
    if value is None:
        return None
    if value >= EPOCH_MILLISECONDS:
        value = value / 1000.0 - now
    elif value >= EPOCH_SECONDS:
        value = value - now
    return max(0.0, value)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After as seconds to wait: delta seconds or an HTTP date; None when unusable.

    `now` is the wall clock (time.time()). Negative numbers, garbage, dates that do not parse
    or overflow, and non-ASCII digits are all None (then the caller's own backoff applies).
    A huge number stays a huge (finite or infinite) float: callers cap it.
    """
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_VALUE_LENGTH:
        return None
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", value, re.ASCII):
        return float(value)  # may be inf for 400 digits: the caller caps it
    try:
        when = email.utils.parsedate_to_datetime(value)
        stamp = when.timestamp()
    except (TypeError, ValueError, OverflowError, IndexError, OSError):
        return None
    if not math.isfinite(stamp):
        return None
    return max(0.0, stamp - now)


# -- structured fields (RFC 8941), the subset the IETF draft uses ----------------------------
def _split(text: str, sep: str) -> list[str] | None:
    """Split on `sep` outside double quotes; None when a quote is left open."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if quoted:
            current.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
            current.append(char)
        elif char == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        return None
    parts.append("".join(current))
    return parts


def _bare(text: str) -> str | float | bool | None:
    """A bare item: string, token, number or boolean; None when malformed."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if len(text) >= 2 and text[0] == text[-1] == ":":
        return text  # a byte sequence (a partition key): kept as text, never used
    if text in ("?1", "?0"):
        return text == "?1"
    number = _number(text)
    if number is not None:
        return number
    if _TOKEN.match(text):
        return text
    return None


def _item(text: str) -> tuple[str | float | bool, dict[str, str | float | bool]] | None:
    """`value;key=v;key` -> (value, params); None when malformed."""
    pieces = _split(text, ";")
    if not pieces:
        return None
    value = _bare(pieces[0])
    if value is None:
        return None
    params: dict[str, str | float | bool] = {}
    for piece in pieces[1:]:
        key, eq, raw = piece.strip().partition("=")
        key = key.strip()
        if not _KEY.match(key):
            return None
        if not eq:
            params[key] = True
            continue
        parsed = _bare(raw)
        if parsed is None:
            return None
        params[key] = parsed
    return value, params


def _list(text: str) -> list[tuple[str | float | bool, dict[str, str | float | bool]]]:
    """A structured-field List of items; malformed members are left out."""
    members = _split(text, ",") or []
    items = [_item(m) for m in members if m.strip()]
    return [i for i in items if i is not None]


def _param_number(params: Mapping[str, str | float | bool], key: str) -> float | None:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, float):
        return None
    return value


def _ietf(headers: Mapping[str, str], now: float) -> Quota | None:
    """`RateLimit: "default";r=50;t=30` (+ `RateLimit-Policy: "default";q=100;w=10`)."""
    raw = headers.get("RateLimit")
    if raw is None or len(raw) > MAX_VALUE_LENGTH:
        return None
    policies: dict[str, tuple[float | None, float | None]] = {}
    policy_raw = headers.get("RateLimit-Policy")
    if policy_raw is not None and len(policy_raw) <= MAX_VALUE_LENGTH:
        for name, params in _list(policy_raw):
            if isinstance(name, str):
                policies[name] = (_param_number(params, "q"), _param_number(params, "w"))
    best: Quota | None = None
    for name, params in _list(raw):
        remaining = _param_number(params, "r")
        if not isinstance(name, str) or remaining is None:
            continue
        limit, window = policies.get(name, (None, None))
        reset = _delay(_param_number(params, "t"), now)
        quota = Quota(remaining, reset if reset is not None else window, limit, window, "ietf")
        if best is None or _tighter(quota, best):
            best = quota
    return best


def _tighter(a: Quota, b: Quota) -> bool:
    """Whether policy `a` binds before `b`: fewer requests left, then a later reset."""
    ra, rb = a.remaining or 0.0, b.remaining or 0.0
    if ra != rb:
        return ra < rb
    return (a.reset or 0.0) > (b.reset or 0.0)


def _ietf_dictionary(headers: Mapping[str, str], now: float) -> Quota | None:
    """`RateLimit: limit=100, remaining=50, reset=30` (drafts 06-07)."""
    raw = headers.get("RateLimit")
    if raw is None or len(raw) > MAX_VALUE_LENGTH:
        return None
    members: dict[str, float] = {}
    for member in _split(raw, ",") or []:
        key, eq, value = member.partition("=")
        number = _number(value.partition(";")[0]) if eq else None
        if number is not None:
            members[key.strip().lower()] = number
    if "remaining" not in members:
        return None
    return Quota(
        members["remaining"],
        _delay(members.get("reset"), now),
        members.get("limit"),
        None,
        "ietf-dictionary",
    )


def _split_fields(headers: Mapping[str, str], prefix: str, now: float) -> Quota | None:
    """`<prefix>-Limit`, `<prefix>-Remaining`, `<prefix>-Reset` (each may list policies)."""
    remaining = _first_number(headers.get(f"{prefix}-Remaining"))
    if remaining is None:
        return None
    window = None
    if prefix == "RateLimit":
        policy = headers.get("RateLimit-Policy")
        items = _list(policy) if policy and len(policy) <= MAX_VALUE_LENGTH else []
        window = next((w for _, p in items if (w := _param_number(p, "w")) is not None), None)
    reset = _delay(_first_number(headers.get(f"{prefix}-Reset")), now)
    return Quota(
        remaining,
        reset if reset is not None else window,
        _first_number(headers.get(f"{prefix}-Limit")),
        window,
        prefix.lower(),
    )


def _first_number(raw: str | None) -> float | None:
    """The number before any `,` or `;` (`100, 100;w=60` is the quota 100)."""
    if raw is None or len(raw) > MAX_VALUE_LENGTH:
        return None
    return _number(re.split(r"[,;]", raw, maxsplit=1)[0])


def parse_quota(headers: Mapping[str, str], now: float) -> Quota | None:
    """The quota a response's headers state, or None (absent, malformed, or no `remaining`).

    `headers` must look names up case-insensitively (requests' headers do); `now` is the wall
    clock, used for resets given as epoch timestamps.
    """
    try:
        return (
            _ietf(headers, now)
            or _ietf_dictionary(headers, now)
            or _split_fields(headers, "RateLimit", now)
            or _split_fields(headers, "X-RateLimit", now)
        )
    except (ValueError, TypeError, AttributeError, OverflowError):  # pragma: no cover - belt
        return None
