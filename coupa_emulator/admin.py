"""The control API under `/_emulator` (docs/emulator-control.md): no auth, JSON in and out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from coupa_emulator.api import emulator_of
from coupa_emulator.config import ConfigError
from coupa_emulator.resources import RESOURCES
from coupa_emulator.timefmt import fmt, now_ts

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _json(value: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(value), content_type="application/json", charset="utf-8"
    )


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"control request body is not JSON: {exc}") from None


def _guard(handler: Handler) -> Handler:
    """Bad knob values answer 400 with a sentence, never a 500 with a traceback."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except (ConfigError, TypeError, ValueError) as exc:
            return _json({"error": str(exc)}, 400)
        except KeyError as exc:
            return _json({"error": f"missing field {exc}"}, 400)

    return wrapped


@_guard
async def reset(request: web.Request) -> web.Response:
    """POST /_emulator/reset: regenerate data from the start knobs plus the body's."""
    emu = emulator_of(request)
    body = await _body(request)
    emu.reset(**body)
    counts = {name: len(t) for name, t in emu.store.tables.items()}
    return _json({"ok": True, "counts": counts})


@_guard
async def configure(request: web.Request) -> web.Response:
    """POST /_emulator/config: change behaviour knobs, keep data."""
    return _json(emulator_of(request).configure(**(await _body(request))))


@_guard
async def add_client(request: web.Request) -> web.Response:
    """POST /_emulator/clients: add or replace an OAuth client."""
    body = await _body(request)
    scopes = body.get("scopes", [])
    client = emulator_of(request).auth.add_client(
        str(body["client_id"]), str(body["client_secret"]), scopes
    )
    return _json({"client_id": client.client_id, "scopes": sorted(client.scopes)})


@_guard
async def add_faults(request: web.Request) -> web.Response:
    """POST /_emulator/faults: append fault rules (a list, or {"rules": [...]})."""
    body = await _body(request)
    rules = body.get("rules", []) if isinstance(body, dict) else body
    if not isinstance(rules, list):
        raise ConfigError("faults must be a JSON list of rules")
    emu = emulator_of(request)
    emu.faults.add(rules)
    return _json({"rules": len(emu.faults.rules)})


@_guard
async def clear_faults(request: web.Request) -> web.Response:
    """DELETE /_emulator/faults: drop every fault rule, data and other knobs untouched."""
    emu = emulator_of(request)
    dropped = len(emu.faults.rules)
    emu.faults.rules.clear()
    return _json({"rules": 0, "dropped": dropped})


@_guard
async def issued_tokens(request: web.Request) -> web.Response:
    """GET /_emulator/tokens: every access token issued since the last reset (leak checks)."""
    return _json(sorted(emulator_of(request).auth.tokens))


@_guard
async def add_mutation(request: web.Request) -> web.Response:
    """POST /_emulator/mutations: schedule a concurrent edit."""
    body = await _body(request)
    emu = emulator_of(request)
    emu.add_mutation(
        int(body.get("after_requests", 0)),
        str(body["resource"]),
        int(body.get("update", 0)),
        int(body.get("insert", 0)),
        int(body.get("ids_above", 0)),
    )
    return _json({"pending": len(emu.mutations)})


async def expire_tokens(request: web.Request) -> web.Response:
    """POST /_emulator/tokens/expire: every issued token now answers 401."""
    emu = emulator_of(request)
    emu.auth.expire_all()
    return _json({"expired": len(emu.auth.tokens)})


async def records(request: web.Request) -> web.Response:
    """GET /_emulator/records/<resource>: ground truth, full records, id ascending.

    `?fields=id` answers the ids only, cheap at any scale (benchmarks check record sets).
    """
    name = request.match_info["resource"]
    if name not in RESOURCES:
        return _json({"error": f"unknown resource {name!r}"}, 404)
    store = emulator_of(request).store
    if request.query.get("fields") == "id":
        return _json(store.table(name).ids)
    return _json(store.all_records(name))


def _table_and_id(request: web.Request) -> tuple[Any, int] | web.Response:
    name = request.match_info["resource"]
    if name not in RESOURCES:
        return _json({"error": f"unknown resource {name!r}"}, 404)
    table = emulator_of(request).store.table(name)
    try:
        rid = int(request.match_info["id"])
    except ValueError:
        return _json(
            {"error": f"record id must be an integer, not {request.match_info['id']!r}"}, 400
        )
    if rid not in table:
        return _json({"error": f"{name} has no record {rid}"}, 404)
    return table, rid


async def delete_record(request: web.Request) -> web.Response:
    """DELETE /_emulator/records/<resource>/<id>: the record is gone, as after Coupa's DELETE."""
    found = _table_and_id(request)
    if isinstance(found, web.Response):
        return found
    table, rid = found
    table.delete(rid)
    return _json({"deleted": rid})


@_guard
async def replace_record(request: web.Request) -> web.Response:
    """PUT /_emulator/records/<resource>/<id>: the body becomes the record, saved now.

    `updated-at` is set to the emulator's clock (someone edited the record in Coupa), so a
    test can, e.g., remove a line from an invoice between two syncs.
    """
    found = _table_and_id(request)
    if isinstance(found, web.Response):
        return found
    table, rid = found
    body = await _body(request)
    if not isinstance(body, dict):
        raise ConfigError("the body must be the whole record, a JSON object")
    record = {**body, "id": rid}
    if table.spec.timestamps:
        record["updated-at"] = fmt(now_ts())
    table.put(record)
    return _json(table.get(rid))


async def stats(request: web.Request) -> web.Response:
    """GET /_emulator/stats: counters since the last reset."""
    return _json(emulator_of(request).stats())


async def requests_log(request: web.Request) -> web.Response:
    """GET /_emulator/requests: every logged request since the last reset."""
    return _json(emulator_of(request).log)


def routes() -> list[web.RouteDef]:
    """The control routes, all under /_emulator."""
    return [
        web.post("/_emulator/reset", reset),
        web.post("/_emulator/config", configure),
        web.post("/_emulator/clients", add_client),
        web.post("/_emulator/faults", add_faults),
        web.delete("/_emulator/faults", clear_faults),
        web.get("/_emulator/tokens", issued_tokens),
        web.post("/_emulator/mutations", add_mutation),
        web.post("/_emulator/tokens/expire", expire_tokens),
        web.get("/_emulator/records/{resource}", records),
        web.delete("/_emulator/records/{resource}/{id}", delete_record),
        web.put("/_emulator/records/{resource}/{id}", replace_record),
        web.get("/_emulator/stats", stats),
        web.get("/_emulator/requests", requests_log),
    ]
