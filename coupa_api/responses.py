"""How a Coupa response is read and classified: one table for the tap and the target.

| status | verdict |
|---|---|
| 2xx with a JSON body (or no body) | ok |
| 2xx with XML, HTML or truncated JSON | retry (a proxy or a cut connection, not Coupa's answer) |
| 3xx (a write's redirect, never followed) | fatal, naming the Location's host |
| 401 | reauthenticate: mint a new token once, then retry |
| 403 | fatal, naming the missing scope |
| 408, 429, 5xx | retry with backoff (429 honours Retry-After) |
| other 4xx | fatal, with Coupa's own error messages |
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

import orjson
import requests

from coupa_api import redirects
from coupa_api.redact import excerpt

_CACHE_ATTR = "_coupa_payload"
RETRY_STATUSES = frozenset({408, 429})


class Verdict(enum.Enum):
    """What the caller should do with a response."""

    OK = "ok"
    RETRY = "retry"
    REAUTH = "reauth"
    FATAL = "fatal"


@dataclass(frozen=True)
class Classification:
    """A verdict and, when it is not OK, a message that says what happened."""

    verdict: Verdict
    message: str = ""
    scope: str | None = None
    coupa_errors: tuple[str, ...] = ()


def body_kind(response: requests.Response) -> str:
    """Name what the body is: json, xml, html, text or empty (Coupa falls back to XML)."""
    content = response.content.lstrip()
    if not content:
        return "empty"
    ctype = response.headers.get("Content-Type", "").lower()
    head = content[:64].lower()
    if head.startswith((b"<!doctype html", b"<html")) or "html" in ctype:
        return "html"
    if head.startswith(b"<") or "xml" in ctype:
        return "xml"
    if head[:1] in (b"[", b"{") or "json" in ctype:
        return "json"
    return "text"


def decode_json(response: requests.Response) -> Any:
    """Decode the body once and cache it on the response (validation and parsing share it).

    Raises:
        ValueError: the body is not JSON (XML, HTML, truncated); the message says which.
    """
    cached = getattr(response, _CACHE_ATTR, None)
    if cached is not None:
        return cached[0]
    kind = body_kind(response)
    if kind == "empty":
        payload: Any = None
    else:
        try:
            payload = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            what = "truncated or malformed JSON" if kind == "json" else f"an {kind.upper()} body"
            msg = f"{what} ({len(response.content)} bytes): {excerpt(response.text)}"
            raise ValueError(msg) from exc
    setattr(response, _CACHE_ATTR, (payload,))
    return payload


def coupa_error_messages(response: requests.Response) -> list[str]:
    """Flatten Coupa's `{"errors": {"<resource>": [...]}}` (or XML `<error>`s) into strings."""
    try:
        payload = decode_json(response)
    except ValueError:
        text = response.text
        if "<error" in text:
            return [
                m.strip()
                for m in re.findall(r"<error>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</error>", text)
            ]
        return [excerpt(text)] if text.strip() else []
    messages: list[str] = []
    if isinstance(payload, dict):
        errors = payload.get("errors", payload.get("error"))
        if isinstance(errors, dict):
            for key, value in errors.items():
                if key == "warnings":
                    continue
                values = value if isinstance(value, list) else [value]
                messages.extend(str(v) for v in values)
        elif isinstance(errors, list):
            messages.extend(str(v) for v in errors)
        elif isinstance(errors, str):
            description = payload.get("error_description")
            messages.append(f"{errors}: {description}" if description else errors)
    return messages


def classify(  # noqa: PLR0911 - one return per row of the table above
    response: requests.Response, *, what: str
) -> Classification:
    """Classify `response` to a request described by `what` (e.g. "GET /api/invoices")."""
    status = response.status_code
    if 200 <= status < 300:
        try:
            decode_json(response)
        except ValueError as exc:
            return Classification(
                Verdict.RETRY,
                f"{what}: Coupa answered {status} with {exc}. Retrying; a proxy page or a cut "
                "connection looks like this.",
            )
        return Classification(Verdict.OK)
    if redirects.is_redirect(response):
        return Classification(Verdict.FATAL, redirects.refusal(response, what=what))
    if status == 401:
        return Classification(
            Verdict.REAUTH,
            f"{what}: Coupa answered 401 (token rejected or expired).",
        )
    if status == 403:
        scope = _scope_from_403(response)
        return Classification(Verdict.FATAL, f"{what}: Coupa answered 403.", scope=scope)
    if status in RETRY_STATUSES or status >= 500:
        return Classification(
            Verdict.RETRY,
            f"{what}: Coupa answered {status} ({body_kind(response)} body: "
            f"{excerpt(response.text, 120)}).",
        )
    errors = tuple(coupa_error_messages(response))
    detail = "; ".join(errors) if errors else excerpt(response.text)
    return Classification(
        Verdict.FATAL,
        f"{what}: Coupa answered {status}: {detail}",
        coupa_errors=errors,
    )


def _scope_from_403(response: requests.Response) -> str | None:
    try:
        payload = decode_json(response)
    except ValueError:
        return None
    if isinstance(payload, dict) and isinstance(payload.get("scope"), str):
        return str(payload["scope"])
    return None
