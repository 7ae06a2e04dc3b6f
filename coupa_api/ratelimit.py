"""One rate controller per run, shared by every worker, stream and the target.

Coupa documents 25 requests/s with a burst of 20 per client and usually answers 429 *without*
Retry-After. The controller is a token bucket that starts at the configured rate and adapts
(AIMD), and it bounds itself:

- the burst scales with the rate (`burst_for`): 20 at Coupa's 25/s, 2 at 2/s, so a client
  configured for 2 requests/s never opens with 20;
- every attempt (retries included) takes a permit: it sits *inside* the retry wrapper;
- a 429 empties the saved-up burst, so the workers back off together instead of each finding
  out with its own 429, and cuts the rate to `DECREASE` (0.7) of itself, unless it is a lone
  429 at the configured rate (none in the `LONE_429_SECONDS` before it, and no Retry-After,
  the server's word to slow down). Pacing at exactly Coupa's rate, both buckets run empty,
  and a request that took a little less time on the wire than the first one lands before
  the server's bucket holds its permit: jitter, not a lower limit. Emptying the burst is all
  it calls for; a cut costs about 3 requests' time while the rate climbs back (one 429 in
  most 10,000-invoice reads, benchmarks/throughput.py). The next 429 cuts;
- each second without a 429 gives back `max_rate / RECOVERY_SECONDS` requests/s, up to the
  configured rate;
- a Retry-After pauses every worker until it has passed, not only the one that received it,
  but never longer than `max_pause` (`MAX_PAUSE_SECONDS`, or `max_retry_seconds` if shorter);
- no permit accrues during a pause: afterwards the workers resume at the paced rate, one
  permit at a time, instead of all at once into the next 429;
- when responses carry rate-limit headers (coupa_api.ratelimit_headers), the requests left in
  the server's window are counted down, requests still in flight included, and every worker
  waits for the reset when none is left, before any 429. Nothing requires such headers.

It also counts requests, 429s, retries and pauses for the end-of-run log.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from coupa_api.ratelimit_headers import Quota

P = ParamSpec("P")
T = TypeVar("T")

#: Coupa's documented limit: 25 requests/s per client, with a burst of 20.
DEFAULT_RATE = 25.0
DEFAULT_BURST = 20
#: The burst is this many seconds' worth of the rate (Coupa's 20 at 25/s), at most 20.
BURST_SECONDS = 0.8
#: A 429 multiplies the rate by this (the multiplicative decrease). 0.7 is CUBIC's factor, the
#: one the AWS SDKs' adaptive retry mode uses, rather than TCP Reno's halving: pacing at exactly
#: Coupa's documented rate, the usual 429 answers timing jitter at the bucket's edge, not a lower
#: limit, and halving cost about 4 % of a 10,000-invoice read in benchmarks/throughput.py. A
#: tenant whose real limit is lower still gets there: each 429 half a second apart cuts again.
DECREASE = 0.7
#: Seconds without a 429 to climb from zero back to the configured rate (additive increase).
RECOVERY_SECONDS = 3.0
#: A 429 with none this many seconds before it, at the configured rate, does not cut the rate.
#: A tenant whose limit is below the configured rate answers 429 again within a second or two.
LONE_429_SECONDS = 10.0
#: The rate never drops below this (requests/s), so a 429 storm still makes progress.
MIN_RATE = 0.5
#: 429s closer together than this cut the rate once (they answer requests sent together).
CUT_SPACING_SECONDS = 0.5
#: The longest one pause (Retry-After, or a rate-limit window to wait out) may last. Longer
#: requests are waited in pieces by the retry policy, within `max_retry_seconds`.
MAX_PAUSE_SECONDS = 60.0
#: Two quota reports whose resets are this close describe the same window of the server's.
SAME_WINDOW_SECONDS = 1.5


def burst_for(rate: float | None) -> int:
    """The burst that goes with `rate`: 0.8 s of it, between 1 and Coupa's 20."""
    if not rate or not math.isfinite(rate) or rate <= 0:
        return DEFAULT_BURST
    return min(DEFAULT_BURST, max(1, round(rate * BURST_SECONDS)))


@dataclass(frozen=True)
class RateCounters:
    """A consistent snapshot of what the controller has seen."""

    requests: int
    throttled: int
    retries: int
    rate: float | None
    paused_seconds: float
    quota_waits: int = 0


class RateController:
    """Thread-safe adaptive token bucket; `rate` None (or 0) turns pacing off, not counting.

    With pacing off, Retry-After and rate-limit headers are still honoured: they are the
    server's word, not a guess of ours.
    """

    def __init__(
        self,
        rate: float | None = DEFAULT_RATE,
        burst: int | None = None,
        *,
        max_pause: float = MAX_PAUSE_SECONDS,
    ) -> None:
        self.max_rate = rate if rate and rate > 0 else None
        self.rate = self.max_rate
        self.burst = max(1, burst if burst is not None else burst_for(self.max_rate))
        self.max_pause = max(0.0, min(max_pause, MAX_PAUSE_SECONDS))
        self._tokens = float(self.burst)
        self._updated = time.monotonic()
        self._paused_until = 0.0
        self._last_cut = float("-inf")
        self._last_429 = float("-inf")
        self._lock = threading.Lock()
        self._in_flight = 0
        #: Requests the server's current window still allows (None: unknown), and its reset.
        self._quota_left: float | None = None
        self._quota_reset_at = 0.0
        self.requests = 0
        self.throttled = 0
        self.retries = 0
        self.paused_seconds = 0.0
        self.quota_waits = 0

    # -- pacing -------------------------------------------------------------------------------
    def acquire(self) -> float:
        """Take one permit, sleeping until one is available; returns the seconds slept.

        Waiting threads look again after each sleep instead of holding a reserved slot, so a
        pause that begins while they wait holds them too, and after it they are paced anew.
        """
        slept = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                wait = self._paused_until - now
                if wait <= 0:
                    wait = self._permit_wait(now)
                    if wait <= 0:
                        self._take(now)
                        return slept
            time.sleep(wait)
            slept += wait

    @contextmanager
    def permit(self) -> Iterator[float]:
        """Hold a permit while one request is on the wire (counted as in flight)."""
        slept = self.acquire()
        with self._lock:
            self._in_flight += 1
        try:
            yield slept
        finally:
            with self._lock:
                self._in_flight -= 1

    def _permit_wait(self, now: float) -> float:
        """Seconds until the bucket holds a whole permit (0 when it does, or pacing is off)."""
        if self.rate is None:
            return 0.0
        self._refill(now)
        missing = 1.0 - self._tokens
        return 0.0 if missing <= 1e-9 else missing / self.rate

    def _take(self, now: float) -> None:
        self.requests += 1
        if self.rate is not None:
            self._tokens -= 1.0
        if self._quota_left is None:
            return
        if now >= self._quota_reset_at:
            self._quota_left = None  # a new window: the next response says how much is left
            return
        self._quota_left -= 1.0
        if self._quota_left < 1.0:
            # This request takes the window's last one: the others wait for the reset.
            self._pause(self._quota_reset_at - now, now)
            self.quota_waits += 1
            self._quota_left = None

    def _refill(self, now: float) -> None:
        assert self.rate is not None  # noqa: S101 - callers check
        assert self.max_rate is not None  # noqa: S101
        elapsed = now - self._updated
        if elapsed <= 0:
            return  # inside a pause: nothing accrues until it is over
        self._updated = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        # Additive increase: the rate climbs back linearly while Coupa accepts what we send.
        self.rate = min(self.max_rate, self.rate + elapsed * self.max_rate / RECOVERY_SECONDS)

    def _pause(self, seconds: float, now: float) -> None:
        """Hold every worker for `seconds` (at most `max_pause`); no permit accrues meanwhile."""
        seconds = min(seconds, self.max_pause)
        if not seconds > 0:  # also NaN
            return
        until = now + seconds
        if until > self._paused_until:
            self.paused_seconds += until - max(now, self._paused_until)
            self._paused_until = until
        if self.rate is not None:
            self._refill(now)
            self._tokens = min(self._tokens, 0.0)
            self._updated = max(self._updated, self._paused_until)

    def guard(self, func: Callable[P, T]) -> Callable[P, T]:
        """Return `func` holding a permit during each call."""

        def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
            with self.permit():
                return func(*args, **kwargs)

        return guarded

    # -- feedback -----------------------------------------------------------------------------
    def observe(
        self, status: int, retry_after: float | None = None, quota: Quota | None = None
    ) -> None:
        """Feed back one response.

        A 429 empties the saved-up burst and cuts the rate (`DECREASE`), unless it is a lone one
        at the configured rate (module doc); its Retry-After pauses every worker (bounded by
        `max_pause`).
        A `quota` read from rate-limit headers is counted down; when it is spent every worker
        waits for the window's reset (bounded likewise).
        """
        with self._lock:
            now = time.monotonic()
            if quota is not None:
                self._observe_quota(quota, now)
            if status != 429:
                return
            self.throttled += 1
            if self.rate is not None:
                self._refill(now)
                self._tokens = min(self._tokens, 0.0)
                lone = (
                    retry_after is None
                    and self.rate == self.max_rate
                    and now - self._last_429 >= LONE_429_SECONDS
                )
                # 429s to requests that were in flight together are one signal, not several.
                if not lone and now - self._last_cut >= CUT_SPACING_SECONDS:
                    self.rate = max(MIN_RATE, self.rate * DECREASE)
                    self._last_cut = now
            self._last_429 = now
            if retry_after is not None and retry_after > 0:
                self._pause(retry_after, now)

    def _observe_quota(self, quota: Quota, now: float) -> None:
        if quota.remaining is None or quota.reset is None:
            return  # without a reset there is nothing to wait for: 429 handling applies
        # Requests on the wire besides this one may not be counted in `remaining` yet.
        left = quota.remaining - max(0, self._in_flight - 1)
        reset_at = now + quota.reset
        known = self._quota_left is not None and now < self._quota_reset_at
        if known and abs(reset_at - self._quota_reset_at) < SAME_WINDOW_SECONDS:
            assert self._quota_left is not None  # noqa: S101 - known
            left = min(left, self._quota_left)  # answers arrive out of order: the lowest holds
            reset_at = max(reset_at, self._quota_reset_at)
        if left < 1.0:
            self._quota_left = None
            if reset_at > self._paused_until:
                self.quota_waits += 1
            self._pause(reset_at - now, now)
        else:
            self._quota_left = left
            self._quota_reset_at = reset_at

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
                quota_waits=self.quota_waits,
            )

    def summary(self) -> str:
        """One sentence for the end-of-run log."""
        c = self.counters()
        return (
            f"{c.requests} requests to Coupa, {c.throttled} answered 429 (rate limited), "
            f"{c.retries} retried"
            + (
                f", {c.paused_seconds:.1f} s paused by Retry-After or rate-limit headers"
                if c.paused_seconds
                else ""
            )
            + (f" ({c.quota_waits} quota resets waited for)" if c.quota_waits else "")
            + "."
        )
