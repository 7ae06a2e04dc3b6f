"""Request handlers for Coupa's own routes: the token endpoint and `/api/...`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web

from coupa_emulator import tenant
from coupa_emulator.auth import AuthFailure
from coupa_emulator.query import QueryError, parse_query, parse_shaping, select_ids, shape
from coupa_emulator.render import (
    NO_RESULTS,
    errors_response,
    json_array,
    json_bytes,
    respond,
    wants_json,
    xml_document,
    xml_errors,
    xml_list,
)
from coupa_emulator.resources import INVOICE_WRITE_SCOPES, RESOURCES, ResourceSpec
from coupa_emulator.state import Emulator
from coupa_emulator.writes import ERROR_KEY, TRANSITIONS, InvoiceWriter, WriteError

EMULATOR_KEY: web.AppKey[Emulator] = web.AppKey("emulator", Emulator)
CLIENT_KEY: web.RequestKey[str | None] = web.RequestKey("client_id", str)


def emulator_of(request: web.Request) -> Emulator:
    """The emulator state serving this request."""
    return request.app[EMULATOR_KEY]


def auth_response(request: web.Request, failure: AuthFailure) -> web.Response:
    """An OAuth failure: JSON for JSON clients and the token endpoint, else XML."""
    if wants_json(request.headers.get("Accept")) or request.path.startswith("/oauth2/"):
        response = respond(request, failure.status, json_bytes(failure.body), as_json=True)
    else:
        message = str(failure.body.get("error_description") or failure.body["error"])
        response = respond(request, failure.status, xml_errors([message]), as_json=False)
    if failure.www_authenticate:
        response.headers["WWW-Authenticate"] = failure.www_authenticate
    return response


# ---- OAuth ---------------------------------------------------------------------------------
async def token(request: web.Request) -> web.Response:
    """POST /oauth2/token: credentials in the form body, HTTP Basic, or the query string."""
    emu = emulator_of(request)
    form: dict[str, str] = {}
    if request.content_type == "application/x-www-form-urlencoded" or request.can_read_body:
        try:
            form = {k: str(v) for k, v in (await request.post()).items()}
        except ValueError:
            form = {}
    fields = {**dict(request.query), **form}
    client_id, secret = fields.get("client_id"), fields.get("client_secret")
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ":"
        user, _, password = decoded.partition(":")
        client_id, secret = unquote(user), unquote(password)
    request[CLIENT_KEY] = client_id
    result = emu.auth.mint(
        client_id,
        secret,
        fields.get("grant_type"),
        fields.get("scope"),
        settle_seconds=emu.config.settle_seconds,
        expires_in=emu.config.expires_in,
    )
    if isinstance(result, AuthFailure):
        return auth_response(request, result)
    response = respond(request, 200, json_bytes(result), as_json=True)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- reads ---------------------------------------------------------------------------------
def _spec_or_404(request: web.Request) -> ResourceSpec:
    spec = RESOURCES.get(request.match_info["resource"])
    if spec is None:
        raise web.HTTPNotFound(text="Not Found")
    return spec


def _authorize(request: web.Request, scopes: str | tuple[str, ...]) -> web.Response | None:
    emu = emulator_of(request)
    result = emu.auth.authorize(request.headers.get("Authorization"), scopes)
    if isinstance(result, AuthFailure):
        return auth_response(request, result)
    request[CLIENT_KEY] = result.client_id
    return None


def _params(request: web.Request) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in request.query.items()]


async def list_records(request: web.Request) -> web.Response:
    """GET /api/<resource>: filtered, ordered, paged, shaped; bare array or typed XML."""
    spec = _spec_or_404(request)
    if spec.url != spec.name:
        raise web.HTTPNotFound(text="Not Found")
    return _list(request, spec, [])


def list_route(spec: ResourceSpec) -> web.RouteDef:
    """GET on a path that is not `/api/<name>`: nested (`asn/headers`) or a sub-resource.

    A sub-resource (`suppliers/{parent_id}/addresses`) lists the records whose `parent_key`
    is the URL's parent id, with the query language, paging and shaping of any collection;
    when that parent does not exist (or was just deleted, `vanishing_parents`) it answers 404,
    as Coupa does for a record it cannot find.
    """

    async def handler(request: web.Request) -> web.Response:
        extra: list[tuple[str, str]] = []
        if spec.parent_key is not None:
            parent_id = request.match_info["parent_id"]
            denied = _authorize(request, spec.scope)
            if denied is not None:
                return denied
            if tenant.parent_is_gone(emulator_of(request), spec, parent_id):
                return errors_response(request, 404, [NO_RESULTS])
            extra = [(spec.parent_key, parent_id)]
        return _list(request, spec, extra)

    return web.get(f"/api/{spec.url}", handler)


def _list(request: web.Request, spec: ResourceSpec, extra: list[tuple[str, str]]) -> web.Response:
    denied = _authorize(request, spec.scope)
    if denied is not None:
        return denied
    emu = emulator_of(request)
    as_json = wants_json(request.headers.get("Accept"))
    try:
        query = parse_query(_params(request) + extra, emu.schema(spec.name))
    except QueryError as exc:
        return errors_response(request, 400, [str(exc)], "query")
    table = emu.store.table(spec.name)
    salt = emu.config.seed * 1_000_003 + emu.requests
    ids = select_ids(table, query, salt, emu.config.stable_order)
    if as_json:
        if not query.shaped:
            return respond(request, 200, json_array(table.get_bytes(i) for i in ids), as_json=True)
        shaped = [shape(table.get(i), query) for i in ids]
        return respond(request, 200, json_bytes(shaped), as_json=True)
    if not ids:
        return respond(request, 404, xml_errors([NO_RESULTS]), as_json=False)
    records = [shape(table.get(i), query) for i in ids]
    return respond(request, 200, xml_list(spec.xml_list, spec.xml_item, records), as_json=False)


def _record_id(request: web.Request) -> int | None:
    try:
        return int(request.match_info["id"])
    except ValueError:
        return None


async def show_record(request: web.Request) -> web.Response:
    """GET /api/<resource>/<id>: one bare object, 404 when absent."""
    spec = _spec_or_404(request)
    if spec.url != spec.name:
        raise web.HTTPNotFound(text="Not Found")
    denied = _authorize(request, spec.scope)
    if denied is not None:
        return denied
    emu = emulator_of(request)
    table = emu.store.table(spec.name)
    rid = _record_id(request)
    if rid is None or rid not in table:
        return errors_response(request, 404, [NO_RESULTS])
    try:
        query = parse_query(
            [(k, v) for k, v in _params(request) if k in {"fields", "return_object"}],
            emu.schema(spec.name),
        )
    except QueryError as exc:
        return errors_response(request, 400, [str(exc)], "query")
    as_json = wants_json(request.headers.get("Accept"))
    if as_json and not query.shaped:
        return respond(request, 200, table.get_bytes(rid), as_json=True)
    record = shape(table.get(rid), query)
    if as_json:
        return respond(request, 200, json_bytes(record), as_json=True)
    return respond(request, 200, xml_document(spec.xml_item, record), as_json=False)


# ---- invoice writes ------------------------------------------------------------------------
async def _json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return None
    if "json" not in (request.content_type or ""):
        raise WriteError(
            [f"Content-Type must be application/json (got {request.content_type or 'none'})"],
            status=415,
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise WriteError([f"Request body is not valid JSON: {exc}"]) from None


def _write_response(
    request: web.Request, status: int, record: dict[str, Any], params: Iterable[tuple[str, str]]
) -> web.Response:
    emu = emulator_of(request)
    _, return_object = parse_shaping(params)
    as_json = wants_json(request.headers.get("Accept"))
    if return_object == "none":
        return web.Response(status=status, body=b"")
    query = parse_query(
        [(k, v) for k, v in params if k in {"fields", "return_object"}],
        emu.schema("invoices"),
        writes=True,
    )
    shaped = shape(record, query)
    if as_json:
        return respond(request, status, json_bytes(shaped), as_json=True)
    return respond(request, status, xml_document("invoice-header", shaped), as_json=False)


async def _write(request: web.Request, op: str) -> web.Response:
    denied = _authorize(request, INVOICE_WRITE_SCOPES[op])
    if denied is not None:
        return denied
    emu = emulator_of(request)
    writer = InvoiceWriter(emu.store)
    params = _params(request)
    try:
        parse_shaping(params)
        body = await _json_body(request)
        if op == "create":
            record, status = writer.create(body), 201
        else:
            rid = _record_id(request)
            if rid is None:
                return errors_response(request, 404, [NO_RESULTS])
            if op == "update":
                exported = dict(params).get("exported")
                record, status = writer.update(rid, body, exported=exported), 200
            else:
                record, status = writer.action(rid, op), 200
        return _write_response(request, status, record, params)
    except WriteError as exc:
        return errors_response(request, exc.status, exc.messages, ERROR_KEY)
    except QueryError as exc:
        return errors_response(request, 400, [str(exc)], "query")


async def create_invoice(request: web.Request) -> web.Response:
    """POST /api/invoices: a draft invoice, 201 with the full record."""
    return await _write(request, "create")


async def update_invoice(request: web.Request) -> web.Response:
    """PUT /api/invoices/<id>: header and line edits while draft/new."""
    return await _write(request, "update")


async def invoice_action(request: web.Request) -> web.Response:
    """PUT /api/invoices/<id>/<submit|void|abandon>."""
    action = request.match_info["action"]
    if action not in TRANSITIONS:
        raise web.HTTPNotFound(text="Not Found")
    return await _write(request, action)


#: Collections Coupa documents a DELETE for (reference §4), with the scope it needs.
DELETABLE: dict[str, str] = {"expense_reports": "core.expense.write"}


async def delete_record(request: web.Request) -> web.Response:
    """DELETE /api/<resource>/<id> where Coupa has it: 200 with the deleted record."""
    spec = _spec_or_404(request)
    scope = DELETABLE.get(spec.name)
    if scope is None:
        raise web.HTTPMethodNotAllowed("DELETE", ["GET"])
    denied = _authorize(request, scope)
    if denied is not None:
        return denied
    table = emulator_of(request).store.table(spec.name)
    rid = _record_id(request)
    if rid is None or rid not in table:
        return errors_response(request, 404, [NO_RESULTS])
    record = table.get(rid)
    table.delete(rid)
    as_json = wants_json(request.headers.get("Accept"))
    if as_json:
        return respond(request, 200, json_bytes(record), as_json=True)
    return respond(request, 200, xml_document(spec.xml_item, record), as_json=False)


def routes() -> list[web.RouteDef]:
    """Coupa's own routes (OAuth and /api)."""
    return [
        web.post("/oauth2/token", token),
        web.post("/oauth2/access_tokens", token),
        web.post("/api/invoices", create_invoice),
        web.put("/api/invoices/{id}", update_invoice),
        web.patch("/api/invoices/{id}", update_invoice),
        web.put("/api/invoices/{id}/{action}", invoice_action),
        *(list_route(spec) for spec in RESOURCES.values() if spec.url != spec.name),
        web.get("/api/{resource}", list_records),
        web.get("/api/{resource}/{id}", show_record),
        web.delete("/api/{resource}/{id}", delete_record),
    ]
