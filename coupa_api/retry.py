"""One retry policy for every Coupa call: exponential backoff with jitter, Retry-After honoured.

Coupa documents 25 requests/s with a burst of 20 and usually answers 429 *without* Retry-After,
so the fallback wait matters as much as the header. The total time is bounded (`max_time`) so a
run fails with a clear message instead of hanging on a Coupa outage.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import backoff
import requests
from urllib3.util import parse_url

from coupa_api.errors import CoupaRetriableError, RetriableAPIError
from coupa_api.ratelimit_headers import retry_after_seconds as parse_retry_after
from coupa_api.redact import excerpt

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
                return min(after, self.max_wait_seconds, self.max_time_seconds)
        ceiling = min(self.max_wait_seconds, self.base_seconds * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)


def retry_after_seconds(response: requests.Response) -> float | None:
    """Read Retry-After as seconds or as an HTTP date; None when absent or unreadable.

    Never raises: garbage, negative numbers and impossible dates are None. A huge value is
    returned as it is (maybe inf); every wait built on it is capped (`wait_for`, the rate
    controller's `max_pause`).
    """
    return parse_retry_after(response.headers.get("Retry-After"), time.time())


#: What a transport failure means for the run.
DNS, REFUSED, TLS = "dns", "refused", "tls"
#: https:// to a port that answers plain HTTP, or http:// to a port that speaks TLS.
SCHEME_MISMATCH = "scheme-mismatch"
_DNS_MARKERS = ("NameResolutionError", "Name or service not known", "nodename nor servname")
_TLS_MARKERS = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed")
#: OpenSSL's words when the "TLS record" it read was plain text (an HTTP answer): 1.1/3.0 say
#: WRONG_VERSION_NUMBER, 3.2+ may say record layer failure or a too long packet.
_PLAINTEXT_MARKERS = (
    "WRONG_VERSION_NUMBER",
    "wrong version number",
    "PACKET_LENGTH_TOO_LONG",
    "packet length too long",
    "RECORD_LAYER_FAILURE",
    "record layer failure",
    "HTTP_REQUEST",
)
#: What a TLS server's first bytes (an alert record, 0x15 0x03) look like to an HTTP client.
_TLS_ALERT_PREFIX = "\\x15\\x03"
#: How long the one-off TLS probe of an http:// port that hung up may take.
_PROBE_SECONDS = 3.0


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
    if _scheme_mismatch(exc, chain, text):
        return SCHEME_MISMATCH
    if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain) or any(
        marker in text for marker in _TLS_MARKERS
    ):
        return TLS
    if any(marker in text for marker in _DNS_MARKERS):
        return DNS
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "Connection refused" in text:
        return REFUSED
    return None


def _scheme_mismatch(
    exc: requests.exceptions.ConnectionError, chain: list[BaseException], text: str
) -> bool:
    """https:// met plain HTTP, or http:// met a TLS server (probed once, loopback only)."""
    url = str(getattr(getattr(exc, "request", None), "url", "") or "")
    scheme = parse_url(url).scheme if url else None
    if isinstance(exc, requests.exceptions.SSLError) or any(
        isinstance(e, ssl.SSLError) for e in chain
    ):
        return scheme != "http" and any(marker in text for marker in _PLAINTEXT_MARKERS)
    if scheme != "http":
        return False
    if _TLS_ALERT_PREFIX in text:
        return True  # the TLS server answered our plain request with an alert record
    # Python's ssl server hangs up without a byte (RemoteDisconnected) or, when our request
    # is still unread, with a TCP reset (ConnectionResetError), depending on timing.
    hung_up = any(isinstance(e, ConnectionResetError) for e in chain) or any(
        marker in text for marker in ("RemoteDisconnected", "BadStatusLine", "Connection reset")
    )
    parts = parse_url(url)
    return hung_up and bool(parts.host) and _speaks_tls(str(parts.host), parts.port or 80)


@functools.lru_cache(maxsize=32)
def _speaks_tls(host: str, port: int) -> bool:
    """Whether `host:port` completes a TLS handshake (certificate not checked: only the protocol).

    Asked only after an http:// request was hung up on without an answer, which is what TLS
    servers do with plain text; plain http is allowed only for loopback hosts. Asked once per
    port and run: a port does not change protocol, and a flaky plain server is probed once.
    """
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host.strip("[]"), port), timeout=_PROBE_SECONDS) as raw,
            context.wrap_socket(raw, server_hostname=None),
        ):
            return True
    except (OSError, ValueError):
        return False


def is_permanent(exc: BaseException | None) -> bool:
    """A transport error that never heals: no DNS name, a bad certificate, the wrong scheme.

    Retrying would only delay, by minutes, the message that `base_url` (or the CA bundle) is
    wrong.
    """
    return transport_failure(exc) in {DNS, TLS, SCHEME_MISMATCH}


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
    if kind == SCHEME_MISMATCH:
        return _scheme_mismatch_message(parts.scheme or "https", str(parts.host), parts.port)
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


def _scheme_mismatch_message(scheme: str, host: str, port: int | None) -> str:
    """The sentence for a TLS protocol mismatch, suggesting the scheme the port speaks."""
    netloc = host + (f":{port}" if port else "")
    if scheme == "https":
        fix = (
            f"if it is the local emulator (or another plain-HTTP server), write http://{netloc} "
            "(plain http is accepted only for 127.0.0.1/localhost)"
            if is_loopback(host)
            else "check the port in `base_url` (Coupa serves https on 443) and any proxy between"
        )
        return (
            f"{netloc} answered in plain HTTP, not TLS, so `base_url` https://{netloc} cannot "
            f"work; retrying cannot fix that, so the run stops: {fix}."
        )
    return (
        f"{netloc} speaks TLS (https), and hung up on the plain-HTTP request, so `base_url` "
        f"http://{netloc} cannot work; retrying cannot fix that, so the run stops: write "
        f"https://{netloc}."
    )


def is_loopback(host: str) -> bool:
    """Loopback host (as coupa_api.settings decides it), without importing settings here."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


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
        if isinstance(exc, BaseException) and _response_status(exc) == TOO_MANY_REQUESTS:
            # The sentence replaces the exception (below); the run's error log says it once.
            with contextlib.suppress(AttributeError, TypeError):
                exc.__dict__[_GAVE_UP] = (details.get("tries", 0), details.get("elapsed", 0.0))
            return
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

    def explained(*args: Any, **kwargs: Any) -> T:
        try:
            return decorated(*args, **kwargs)
        except RetriableAPIError as exc:
            given_up = exc.__dict__.pop(_GAVE_UP, None)
            if given_up is None:
                raise
            tries, elapsed = given_up
            raise CoupaRetriableError(
                throttled_sentence(exc, policy, tries, elapsed), exc.response
            ) from exc

    return explained


#: HTTP 429 Too Many Requests.
TOO_MANY_REQUESTS = 429
#: Where `with_retries` notes (tries, elapsed) on a 429 it gave up on.
_GAVE_UP = "_coupa_gave_up"


def _response_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return response.status_code if isinstance(response, requests.Response) else None


def throttled_sentence(exc: BaseException, policy: RetryPolicy, tries: int, elapsed: float) -> str:
    """What to do when Coupa (or a gateway) kept answering 429 until the retry budget ran out.

    A Retry-After longer than the budget is named: the run stops after `max_retry_seconds`
    instead of holding every worker for as long as the header asks.
    """
    response = getattr(exc, "response", None)
    what = "A request to Coupa"
    raw_after: str | None = None
    after: float | None = None
    if isinstance(response, requests.Response):
        request = response.request
        if request is not None and request.url:
            what = f"{request.method} {parse_url(str(request.url)).path}"
        raw_after = response.headers.get("Retry-After")
        after = retry_after_seconds(response)
    budget = policy.max_time_seconds
    if after is not None and after > budget:
        asked = f"{after:,.0f} s" if after < 1e12 else "longer than any run lasts"
        return (
            f"{what}: Coupa answered 429 (rate limited) and asked to wait {asked} "
            f"(Retry-After: {excerpt(raw_after or '', 40)}), longer than `max_retry_seconds` "
            f"({budget:g} s) lets one request retry, so the run stops after {elapsed:.0f} s "
            "instead of holding every worker that long; run again later, or raise "
            "`max_retry_seconds` (each pause lasts at most 60 s, and the request is retried "
            "until that budget is spent)."
        )
    return (
        f"{what}: Coupa answered 429 (rate limited) {tries} times in {elapsed:.0f} s, all that "
        f"`max_retries` ({policy.max_tries}) and `max_retry_seconds` ({budget:g} s) allow, so "
        "the run stops; lower `max_requests_per_second` if other integrations share this "
        "OAuth client, or raise `max_retries` / `max_retry_seconds`."
    )
