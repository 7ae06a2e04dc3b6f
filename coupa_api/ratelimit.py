"""One rate controller per run, shared by every worker, stream and the target.

Coupa documents 25 requests/s with a burst of 20 per client and usually answers 429 *without*
Retry-After. The controller is a token bucket that starts at that rate and adapts (AIMD):

- every attempt (retries included) takes a permit: it sits *inside* the retry wrapper;
- a 429 halves the rate and empties the saved-up burst, so the workers back off together
  instead of each finding out with its own 429;
- each second without a 429 gives back `max_rate / RECOVERY_SECONDS` requests/s, up to the
  configured rate;
- a Retry-After pauses every worker until it has passed, not only the one that received it.

It also counts requests, 429s and retries for the end-of-run log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

#: Coupa's documented limit: 25 requests/s per client, with a burst of 20.
DEFAULT_RATE = 25.0
DEFAULT_BURST = 20
#: Seconds without a 429 to climb from zero back to the configured rate (additive increase).
RECOVERY_SECONDS = 3.0
#: The rate never drops below this (requests/s), so a 429 storm still makes progress.
MIN_RATE = 0.5
#: 429s closer together than this halve the rate once (they answer requests sent together).
CUT_SPACING_SECONDS = 0.5


@dataclass(frozen=True)
class RateCounters:
    """A consistent snapshot of what the controller has seen."""

    requests: int
    throttled: int
    retries: int
    rate: float | None
    paused_seconds: float


class RateController:
    """Thread-safe adaptive token bucket; `rate` None (or 0) turns pacing off, not counting."""

    def __init__(self, rate: float | None = DEFAULT_RATE, burst: int = DEFAULT_BURST) -> None:
        self.max_rate = rate if rate and rate > 0 else None
        self.rate = self.max_rate
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._updated = time.monotonic()
        self._paused_until = 0.0
        self._last_cut = float("-inf")
        self._lock = threading.Lock()
        self.requests = 0
        self.throttled = 0
        self.retries = 0
        self.paused_seconds = 0.0

    # -- pacing -------------------------------------------------------------------------------
    def acquire(self) -> float:
        """Take one permit, sleeping until one is available; returns the seconds slept."""
        slept = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                pause = self._paused_until - now
                if pause <= 0:
                    self.requests += 1
                    if self.rate is None:
                        return slept
                    self._refill(now)
                    self._tokens -= 1.0
                    wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
                    break
            time.sleep(pause)  # a Retry-After: everybody waits, then competes for permits
            slept += pause
        if wait:
            time.sleep(wait)
            slept += wait
        # A Retry-After that arrived while we waited for the permit holds this request too.
        while (pause := self._paused_until - time.monotonic()) > 0:
            time.sleep(pause)
            slept += pause
        return slept

    def _refill(self, now: float) -> None:
        assert self.rate is not None  # noqa: S101 - callers check
        assert self.max_rate is not None  # noqa: S101
        elapsed = now - self._updated
        self._updated = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        # Additive increase: the rate climbs back linearly while Coupa accepts what we send.
        self.rate = min(self.max_rate, self.rate + elapsed * self.max_rate / RECOVERY_SECONDS)

    def guard(self, func: Callable[P, T]) -> Callable[P, T]:
        """Return `func` taking a permit before each call."""

        def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
            self.acquire()
            return func(*args, **kwargs)

        return guarded

    # -- feedback -----------------------------------------------------------------------------
    def observe(self, status: int, retry_after: float | None = None) -> None:
        """Feed back one response: a 429 halves the rate; a Retry-After pauses every worker."""
        if status != 429:
            return
        with self._lock:
            self.throttled += 1
            now = time.monotonic()
            if self.rate is not None:
                self._refill(now)
                self._tokens = min(self._tokens, 0.0)
                # 429s to requests that were in flight together are one signal, not several.
                if now - self._last_cut >= CUT_SPACING_SECONDS:
                    self.rate = max(MIN_RATE, self.rate / 2)
                    self._last_cut = now
            if retry_after:
                until = now + retry_after
                if until > self._paused_until:
                    self.paused_seconds += until - max(now, self._paused_until)
                    self._paused_until = until

    def note_retry(self) -> None:
        """Count one retried attempt (any cause: 429, 5xx, timeout, dropped connection)."""
        with self._lock:
            self.retries += 1

    def counters(self) -> RateCounters:
        """A snapshot for logs and progress reports."""
        with self._lock:
            return RateCounters(
                requests=self.requests,
                throttled=self.throttled,
                retries=self.retries,
                rate=self.rate,
                paused_seconds=self.paused_seconds,
            )

    def summary(self) -> str:
        """One sentence for the end-of-run log."""
        c = self.counters()
        return (
            f"{c.requests} requests to Coupa, {c.throttled} answered 429 (rate limited), "
            f"{c.retries} retried"
            + (f", {c.paused_seconds:.1f} s paused by Retry-After" if c.paused_seconds else "")
            + "."
        )
