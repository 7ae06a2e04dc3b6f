"""A client-side token bucket so a sync stays under Coupa's documented 25 requests/s.

It sits *inside* the retry wrapper: every attempt, retries included, takes a permit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class TokenBucket:
    """Thread-safe token bucket; `rate` permits per second, at most `burst` saved up."""

    def __init__(self, rate: float | None, burst: int = 20) -> None:
        self.rate = rate if rate and rate > 0 else None
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one permit, sleeping until one is available; returns the seconds slept."""
        if self.rate is None:
            return 0.0
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if wait:
            time.sleep(wait)
        return wait

    def guard(self, func: Callable[P, T]) -> Callable[P, T]:
        """Return `func` taking a permit before each call."""

        def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
            self.acquire()
            return func(*args, **kwargs)

        return guarded
