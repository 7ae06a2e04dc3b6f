"""A request quota per client, with the rate-limit headers gateways put in front of Coupa emit.

Coupa documents none of these headers; gateways and unified APIs that front it do. The knob
`quota` (requests per `quota_window` seconds, per client, in fixed windows starting at the
client's first request) answers 429 once a window is spent, and `rate_limit_headers` chooses
which header family reports what is left:

- `ietf`: draft-ietf-httpapi-ratelimit-headers, structured fields (drafts 08 and later):
  `RateLimit-Policy: "default";q=100;w=10` and `RateLimit: "default";r=50;t=30`;
- `ietf-dict`: draft 07's one dictionary, `RateLimit: limit=100, remaining=50, reset=30`;
- `ietf-old`: the earlier drafts' `RateLimit-Limit` / `-Remaining` / `-Reset` (delta seconds);
- `x-ratelimit`: `X-RateLimit-Limit` / `-Remaining` / `-Reset` (Reset as an epoch timestamp);
- `none`: no header (only the 429s tell).

Resets are rounded up to whole seconds, as the headers carry integers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

HEADER_STYLES: tuple[str, ...] = ("none", "ietf", "ietf-dict", "ietf-old", "x-ratelimit")


@dataclass(frozen=True)
class QuotaAnswer:
    """One request's place in its client's window."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: float
    window: float


class Quotas:
    """Fixed windows per client: `limit` requests per `window` seconds."""

    def __init__(self) -> None:
        self.windows: dict[str, tuple[float, int]] = {}

    def reset(self) -> None:
        """Forget every window (every client starts a fresh one)."""
        self.windows.clear()

    def take(self, key: str, limit: int, window: float, now: float | None = None) -> QuotaAnswer:
        """Count one request of `key`; `allowed` False means answer 429 (not counted)."""
        now = time.monotonic() if now is None else now
        start, used = self.windows.get(key, (now, 0))
        if now >= start + window:
            start += math.floor((now - start) / window) * window
            used = 0
        allowed = used < limit
        if allowed:
            used += 1
        self.windows[key] = (start, used)
        # `window - (now - start)`, not `start + window - now`: with a large monotonic `now` the
        # latter rounds 60 s up to 60.000000000004, which the headers' ceil turned into 61.
        return QuotaAnswer(allowed, limit, max(0, limit - used), window - (now - start), window)


def quota_headers(style: str, answer: QuotaAnswer, wall_now: float | None = None) -> dict[str, str]:
    """The headers `style` sends with a response (empty for `none`)."""
    reset = max(0, math.ceil(answer.reset_seconds))
    window = max(1, math.ceil(answer.window))
    limit, remaining = answer.limit, answer.remaining
    if style == "ietf":
        return {
            "RateLimit-Policy": f'"default";q={limit};w={window}',
            "RateLimit": f'"default";r={remaining};t={reset}',
        }
    if style == "ietf-dict":
        return {
            "RateLimit-Policy": f"{limit};w={window}",
            "RateLimit": f"limit={limit}, remaining={remaining}, reset={reset}",
        }
    if style == "ietf-old":
        return {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(reset),
        }
    if style == "x-ratelimit":
        wall = time.time() if wall_now is None else wall_now
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(math.ceil(wall + answer.reset_seconds)),
        }
    return {}
