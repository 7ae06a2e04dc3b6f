"""One retry policy for every Coupa call: exponential backoff with jitter, Retry-After honoured.

Coupa documents 25 requests/s with a burst of 20 and usually answers 429 *without* Retry-After,
so the fallback wait matters as much as the header. The total time is bounded (`max_time`) so a
run fails with a clear message instead of hanging on a Coupa outage.
"""

from __future__ import annotations

import email.utils
import logging
import random
import ssl
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import backoff
import requests
from urllib3.util import parse_url

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


#: What a transport failure means for the run.
DNS, REFUSED, TLS = "dns", "refused", "tls"
_DNS_MARKERS = ("NameResolutionError", "Name or service not known", "nodename nor servname")
_TLS_MARKERS = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it wraps: requests -> urllib3 MaxRetryError -> reason -> OS error."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 32:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [getattr(current, "reason", None), current.__cause__, current.__context__]
        nested += list(current.args)
        todo.extend(e for e in nested if isinstance(e, BaseException))


def transport_failure(exc: BaseException | None) -> str | None:
    """DNS, REFUSED or TLS when `exc` is a connection that could not be made, else None.

    A name that does not resolve and a certificate that does not verify never heal by
    retrying. A refused connection may (a restart); the caller decides (see `with_retries`).
    """
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return None
    chain = list(_chain(exc))
    text = " ".join(repr(e) for e in chain)
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain) or any(
        marker in text for marker in _TLS_MARKERS
    ):
        return TLS
    if any(marker in text for marker in _DNS_MARKERS):
        return DNS
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "Connection refused" in text:
        return REFUSED
    return None


def is_permanent(exc: BaseException | None) -> bool:
    """A transport error that never heals: a host name that does not resolve, a bad certificate.

    Retrying would only delay, by minutes, the message that `base_url` (or the CA bundle) is
    wrong.
    """
    return transport_failure(exc) in {DNS, TLS}


def transport_message(exc: BaseException, url: str) -> str | None:
    """The sentence for a connection to `url` that could not be made, or None for others."""
    kind = transport_failure(exc)
    if kind is None:
        return None
    parts = parse_url(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if kind == DNS:
        return (
            f"Cannot resolve {parts.host}, the host in `base_url` ({origin}). Check the instance "
            "name, e.g. https://acme.coupahost.com or https://acme.coupacloud.com."
        )
    if kind == TLS:
        reason = next(
            (
                str(e.verify_message)
                for e in _chain(exc)
                if isinstance(e, ssl.SSLCertVerificationError)
            ),
            "certificate verify failed",
        )
        return (
            f"The TLS certificate of {parts.host} could not be verified ({reason}); retrying "
            "cannot fix that, so the run stops. Check that `base_url` names your Coupa instance "
            f"({origin}) rather than a proxy or an address the certificate does not cover; behind "
            "a TLS-inspecting proxy, point REQUESTS_CA_BUNDLE at your organisation's CA bundle."
        )
    return (
        f"Nothing accepts connections at {parts.netloc} (`base_url` {origin}): the connection "
        "was refused before the run had any answer from Coupa. Check the host and port in "
        "`base_url` and that the instance (or the emulator) is running."
    )


def with_retries(
    func: Callable[..., T],
    policy: RetryPolicy,
    logger: logging.Logger,
    *,
    giveup: Callable[[BaseException], bool] | None = None,
    on_retry: Callable[[], None] | None = None,
) -> Callable[..., T]:
    """Wrap `func` so that RETRIABLE_EXCEPTIONS are retried under `policy`.

    `on_retry` is told of every retried attempt (the run's counters).
    """

    def log_retry(details: Any) -> None:
        exc = details.get("exception")
        if on_retry is not None:
            on_retry()
        logger.warning(
            "Retrying in %.1f s (attempt %d of %d): %s",
            details.get("wait", 0.0),
            details.get("tries", 0),
            policy.max_tries,
            exc,
        )

    def log_giveup(details: Any) -> None:
        exc = details.get("exception")
        if is_permanent(exc) or (giveup is not None and giveup(exc)):
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
