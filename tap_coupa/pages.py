"""What a page of a Coupa collection must be: a JSON array, checked inside the retry loop.

A 2xx that is HTML, XML or truncated JSON is already retried by the shared classification
(coupa_api.responses). A 2xx that decodes to something else (a JSON object, no body at all) is
not a page either: a gateway, a proxy or a half-configured instance answers like that, and a
reader that took it for an empty last page would end its listing early. Both the main read
(tap_coupa.reader) and the deletion sweep call this before a page is used, so
the same bodies are retried and then fail the run.
"""

from __future__ import annotations

from typing import Any

import requests

from coupa_api.errors import CoupaRetriableError
from coupa_api.responses import decode_json


def array_rows(response: requests.Response, *, what: str) -> list[Any]:
    """The page's rows; CoupaRetriableError when the body is not a JSON array."""
    payload = decode_json(response)
    if isinstance(payload, list):
        return payload
    body = "no body" if payload is None else f"a JSON {type(payload).__name__}"
    msg = (
        f"{what}: Coupa answered {response.status_code} with {body} where it returns an array "
        "of records. Retrying; a gateway or a proxy page looks like this. If it persists, "
        "check that `base_url` points at a Coupa instance."
    )
    raise CoupaRetriableError(msg, response)
