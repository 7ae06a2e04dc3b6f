"""A tenant that differs from the documentation (reference, addendum: "Tenants differ").

Coupa licenses modules separately, so a documented collection can be absent on one tenant
(404 with Rails' "No route matches" message), forbidden because the module is not licensed
(403, whatever the token's scopes), or broken there (a 5xx on every request). And a record can
be deleted between a client's read of its page and the read of its sub-resources; Coupa then
answers 404 for `/api/suppliers/<id>/addresses`, as it does for any missing parent.

The knobs (`missing_collections`, `unlicensed_collections`, `failing_collections`,
`vanishing_parents`) are documented in docs/emulator.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from aiohttp import web

from coupa_emulator.faults import FaultRule, fault_body
from coupa_emulator.render import errors_response
from coupa_emulator.resources import RESOURCES, ResourceSpec
from coupa_emulator.state import Emulator

_PLACEHOLDER = re.compile(r"\\\{\w+\\\}")


def _pattern(path: str) -> re.Pattern[str]:
    """`/api/suppliers/{id}/addresses` matches that collection and its members, any parent id."""
    return re.compile(_PLACEHOLDER.sub(r"[^/]+", re.escape(path.rstrip("/"))) + r"(/.*)?")


def _matches(paths: Iterable[str], request_path: str) -> bool:
    return any(_pattern(p).fullmatch(request_path) for p in paths)


def answer(emu: Emulator, request: web.Request) -> web.Response | None:
    """The tenant's own answer to an `/api/` request, or None to serve it as documented."""
    config = emu.config
    path = request.path
    if _matches(config.missing_collections, path):
        # Rails routes before it authenticates: the same 404 with or without a token.
        return errors_response(request, 404, [f'No route matches [{request.method}] "{path}"'])
    if _matches(config.failing_collections, path):
        body, content_type = fault_body(FaultRule(kind="status", status=503))
        return web.Response(status=503, body=body, content_type=content_type)
    if _matches(config.unlicensed_collections, path) and emu.auth.client_of(
        request.headers.get("Authorization")
    ):
        return errors_response(
            request, 403, ["You are not authorized to access this module on this instance."]
        )
    return None


def parent_of(spec: ResourceSpec) -> str | None:
    """The collection a sub-resource's `{parent_id}` names (`suppliers`), when it has records."""
    if spec.parent_key is None:
        return None
    name = spec.url.split("/", 1)[0]
    parent = RESOURCES.get(name)
    return name if parent is not None and parent.url == name else None


def parent_is_gone(emu: Emulator, spec: ResourceSpec, parent_id: str) -> bool:
    """True when the sub-resource's parent does not exist (deleted now if it is vanishing)."""
    name = parent_of(spec)
    if name is None:
        return False
    try:
        rid = int(parent_id)
    except ValueError:
        return True
    table = emu.store.table(name)
    if rid in table and rid in emu.config.vanishing_parents.get(name, []):
        table.delete(rid)  # deleted by someone between the client's two reads
    return rid not in table
