"""Coupa's two wire formats: bare JSON arrays/objects, and Rails-style typed XML.

XML is what a client gets unless it asks for `application/json` (reference §11, INFERRED):
typed scalar elements, `nil="true"` for nulls, `type="array"` lists, and a 404 with an
`<errors>` body for an empty query result. `respond` and `errors_response` wrap a body in
the aiohttp response every route sends (Coupa's routes and a tenant's own refusals alike).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

import orjson
from aiohttp import web

from coupa_emulator.resources import singular_of
from coupa_emulator.timefmt import EMITTED

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
NO_RESULTS = "No results match your search criteria."
_DECIMAL = re.compile(r"-?\d+\.\d+")  # fullmatch: `$` accepts "\n"
_XML_NAME = re.compile(r"[A-Za-z_][\w.-]*")
JSON_TYPE = "application/json"
XML_TYPE = "application/xml"


def wants_json(accept: str | None) -> bool:
    """JSON only when asked for; everything else (missing, */*, xml) gets XML."""
    return bool(accept) and "application/json" in (accept or "").lower()


def json_array(parts: Iterable[bytes]) -> bytes:
    """Join cached record bodies into a bare JSON array without re-serializing them."""
    return b"[" + b",".join(parts) + b"]"


def json_bytes(value: Any) -> bytes:
    """Serialize any value as compact UTF-8 JSON."""
    return orjson.dumps(value)


def _scalar(tag: str, value: Any) -> str:  # noqa: PLR0911 - one per XML type
    if value is None:
        return f'<{tag} nil="true"/>'
    if isinstance(value, bool):
        return f'<{tag} type="boolean">{"true" if value else "false"}</{tag}>'
    if isinstance(value, int):
        return f'<{tag} type="integer">{value}</{tag}>'
    if isinstance(value, float):
        return f'<{tag} type="float">{value}</{tag}>'
    text = str(value)
    if text == "":
        return f"<{tag}/>"
    if EMITTED.fullmatch(text):
        return f'<{tag} type="dateTime">{text}</{tag}>'
    if _DECIMAL.fullmatch(text):
        return f'<{tag} type="decimal">{text}</{tag}>'
    return f"<{tag}>{escape(text)}</{tag}>"


def _element(tag: str, value: Any, out: list[str]) -> None:
    if not _XML_NAME.fullmatch(tag):
        tag = "attribute"
    if isinstance(value, dict):
        out.append(f"<{tag}>")
        for key, child in value.items():
            _element(key, child, out)
        out.append(f"</{tag}>")
    elif isinstance(value, list):
        out.append(f'<{tag} type="array">')
        item = singular_of(tag)
        for child in value:
            _element(item, child, out)
        out.append(f"</{tag}>")
    else:
        out.append(_scalar(tag, value))


def xml_document(root: str, value: Any) -> bytes:
    """One record (`root` = item name) or a list (`root` = list name) as Coupa XML."""
    out: list[str] = [XML_HEAD]
    if isinstance(value, list):
        item = singular_of(root)
        out.append(f'<{root} type="array">')
        for child in value:
            _element(item, child, out)
        out.append(f"</{root}>")
    else:
        _element(root, value, out)
    return "".join(out).encode()


def xml_list(list_name: str, item_name: str, records: list[Any]) -> bytes:
    """A list response with the resource's own list and item element names."""
    out: list[str] = [XML_HEAD, f'<{list_name} type="array">']
    for record in records:
        _element(item_name, record, out)
    out.append(f"</{list_name}>")
    return "".join(out).encode()


def xml_errors(messages: Iterable[str]) -> bytes:
    """Coupa's XML error document."""
    inner = "".join(f"<error>{escape(m)}</error>" for m in messages)
    return f"{XML_HEAD}<errors>{inner}</errors>".encode()


def respond(request: web.Request, status: int, body: bytes, *, as_json: bool) -> web.Response:
    """A body with Coupa's content type for the negotiated format."""
    return web.Response(
        status=status,
        body=body,
        content_type=JSON_TYPE if as_json else XML_TYPE,
        charset="utf-8",
    )


def errors_response(
    request: web.Request, status: int, messages: list[str], key: str = "error"
) -> web.Response:
    """Coupa's error shapes: `{"errors": {key: [...]}}` or `<errors><error>...</error></errors>`."""
    if wants_json(request.headers.get("Accept")):
        return respond(request, status, json_bytes({"errors": {key: messages}}), as_json=True)
    return respond(request, status, xml_errors(messages), as_json=False)
