"""One retry policy for every Coupa call: exponential backoff with jitter, Retry-After honoured.

Coupa documents 25 requests/s with a burst of 20 and usually answers 429 *without* Retry-After,
so the fallback wait matters as much as the header. The total time is bounded (`max_time`) so a
run fails with a clear message instead of hanging on a Coupa outage.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import backoff
import requests

from coupa_api.errors import RetriableAPIError

T = TypeVar("T")

#: Failures worth another attempt: transient HTTP answers and transport errors.
RETRIABLE_EXCEPTIONS: tuple[type[Exception], ...] = (
    RetriableAPIError,
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; shared by reads and writes."""

    max_tries: int = 8
    base_seconds: float = 1.0
    max_wait_seconds: float = 60.0
    max_time_seconds: float = 600.0
    reauth_wait_seconds: float = 0.0

    def waits(self) -> Generator[float, Any, None]:
        """A backoff wait generator: `send(exc)` returns the wait before the next attempt."""
        attempt = 0
        exc = yield 0.0  # primed by backoff with send(None)
        while True:
            attempt += 1
            exc = yield self.wait_for(exc, attempt)

    def wait_for(self, exc: BaseException | None, attempt: int) -> float:
        """Seconds to wait after `exc` on the given attempt (1-based)."""
        response = getattr(exc, "response", None)
        if isinstance(response, requests.Response):
            if response.status_code == 401:
                return self.reauth_wait_seconds
            after = retry_after_seconds(response)
            if after is not None:
                return min(after, self.max_wait_seconds)
        ceiling = min(self.max_wait_seconds, self.base_seconds * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


def retry_after_seconds(response: requests.Response) -> float | None:
    """Read Retry-After as seconds or as an HTTP date; None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return max(0.0, float(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def is_permanent(exc: BaseException) -> bool:
    """A transport error that will not heal in seconds: the host name does not resolve.

    Retrying would only delay, by minutes, the message that `base_url` is wrong.
    """
    text = repr(exc)
    return isinstance(exc, requests.exceptions.ConnectionError) and any(
        marker in text
        for marker in ("NameResolutionError", "Name or service not known", "nodename nor servname")
    )


def with_retries(
    func: Callable[..., T],
    policy: RetryPolicy,
    logger: logging.Logger,
    *,
    giveup: Callable[[BaseException], bool] | None = None,
) -> Callable[..., T]:
    """Wrap `func` so that RETRIABLE_EXCEPTIONS are retried under `policy`."""

    def log_retry(details: Any) -> None:
        exc = details.get("exception")
        logger.warning(
            "Retrying in %.1f s (attempt %d of %d): %s",
            details.get("wait", 0.0),
            details.get("tries", 0),
            policy.max_tries,
            exc,
        )

    def log_giveup(details: Any) -> None:
        if is_permanent(details.get("exception")):
            return  # the caller turns it into a sentence about base_url
        logger.error(
            "Giving up after %d attempts in %.0f s: %s",
            details.get("tries", 0),
            details.get("elapsed", 0.0),
            details.get("exception"),
        )

    decorated: Callable[..., T] = backoff.on_exception(
        policy.waits,
        RETRIABLE_EXCEPTIONS,
        max_tries=policy.max_tries,
        max_time=policy.max_time_seconds,
        jitter=None,
        giveup=lambda exc: is_permanent(exc) or (giveup is not None and giveup(exc)),
        on_backoff=log_retry,
        on_giveup=log_giveup,
        raise_on_giveup=True,
        logger=None,
    )(func)
    return decorated
