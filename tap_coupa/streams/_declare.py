"""Helpers that keep stream declarations one line per fact."""

from __future__ import annotations

import copy
import sys
from types import ModuleType
from typing import Any

from coupa_api.scopes import ENDPOINTS
from tap_coupa.client import CoupaStream, IncrementalCoupaStream
from tap_coupa.schemas._fragments import INTEGER
from tap_coupa.subresources import SubResourceParent, SubResourceStream


def with_parent_id(line_schema: dict[str, Any], parent_id_key: str) -> dict[str, Any]:
    """A line schema plus the parent's id, which the tap adds to every line for joins."""
    schema = copy.deepcopy(line_schema)
    schema["properties"][parent_id_key] = INTEGER
    return schema


def declare(
    name: str, schema: dict[str, Any], doc: str, parent: type[CoupaStream] | None = None
) -> type[CoupaStream]:
    """A stream class for the registry entry `name` (coupa_api.scopes): path, scope, replication.

    Incremental on `updated-at` where Coupa has it, full table where not; a sub-resource
    (path with `{parent_id}`) becomes a child stream of `parent`.
    """
    endpoint = ENDPOINTS[name]
    base: type[CoupaStream] = IncrementalCoupaStream if endpoint.incremental else CoupaStream
    body: dict[str, Any] = {
        "name": name,
        "scope": endpoint.scope,
        "resource": endpoint.path.removeprefix("/api/"),
        "__doc__": f"{doc}, `{endpoint.path}`.",
        "__module__": sys._getframe(1).f_globals["__name__"],
    }
    if endpoint.parent is not None:
        if parent is None or parent.name != endpoint.parent:  # type: ignore[misc]
            msg = f"stream {name!r} is read per {endpoint.parent} record: pass parent="
            raise TypeError(msg)
        base = SubResourceStream
        body["parent_stream_type"] = parent
        key = endpoint.path[endpoint.path.index("{") + 1 : endpoint.path.index("}")]
        schema = with_parent_id(schema, key.replace("_", "-"))
    body["base_schema"] = schema
    bases: tuple[type[CoupaStream], ...] = (base,)
    if any(e.parent == name for e in ENDPOINTS.values()):
        bases = (SubResourceParent, base)
    title = "".join(part.title() for part in name.split("_")) + "Stream"
    return type(title, bases, body)


def declared_in(*modules: ModuleType) -> tuple[type[CoupaStream], ...]:
    """The streams `declare` made in `modules`, in declaration order (parents first)."""
    return tuple(
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, CoupaStream)
        and value.__module__ == module.__name__
    )
