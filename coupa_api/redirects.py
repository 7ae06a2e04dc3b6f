"""Redirects: followed for reads, never for writes.

`requests` follows a 307 or 308 by sending the same method and body to the Location, wherever it
points, and a 301/302/303 by turning the POST into a GET. Either way a write would be re-posted
to, or silently lost at, an address nobody configured (an invoice posted to another host,
reported "created", with nothing in Coupa). So a POST, PUT, PATCH or DELETE is sent with
redirects off, and a 3xx answer to it is an error whose sentence names the Location's host;
nothing is sent anywhere else. Reads (GET, HEAD) still follow redirects as before; requests drops
the Authorization header when a redirect leaves the host.
"""

from __future__ import annotations

import requests
from urllib3.util import parse_url

from coupa_api.redact import redact

#: Methods whose redirects are followed: they change nothing, so re-sending them is harmless.
FOLLOWED = frozenset({"GET", "HEAD", "OPTIONS"})


def follows_redirects(method: str) -> bool:
    """Whether a request with `method` may follow a redirect."""
    return method.upper() in FOLLOWED


def is_redirect(response: requests.Response) -> bool:
    """A 3xx answer (what a write never follows)."""
    return 300 <= response.status_code < 400


def location_host(response: requests.Response) -> str | None:
    """The host (and port) the Location header points at; None when absent or unreadable.

    A relative Location points at the host that answered.
    """
    location = response.headers.get("Location", "").strip()
    if not location:
        return None
    try:
        parts = parse_url(location)
    except ValueError:
        return None
    if parts.netloc:
        return str(parts.netloc)
    if parts.path is not None and location.startswith("/"):
        answered = parse_url(str(response.url or ""))
        return str(answered.netloc) if answered.netloc else None
    return None


def refusal(response: requests.Response, *, what: str) -> str:
    """The sentence for a 3xx that was not followed (always, for a write)."""
    host = location_host(response)
    location = response.headers.get("Location", "").strip()
    if host:
        where = f"to host {host}"
    elif location:
        where = f"to {redact(location[:120])}"
    else:
        where = "without a Location"
    method = str(getattr(response.request, "method", "") or "")
    why = (
        "A write is never re-sent to another address, so nothing was written there or here."
        if method and not follows_redirects(method)
        else "It could not be followed."
    )
    return (
        f"{what}: Coupa answered {response.status_code}, a redirect {where}. {why} If Coupa "
        "moved, set `base_url` to the address the API is served from (the one the redirect "
        "names, if you trust it); otherwise look for a proxy or load balancer rewriting requests."
    )
