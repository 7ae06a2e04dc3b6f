"""Per-instance schema discovery: sample recent records and type every key they carry.

Each Coupa tenant has its own custom fields, under `custom-fields` and (legacy) as top-level
keys, and newer releases add attributes. Discovery reads one page of the most recently updated
records per stream and adds every key the static schema lacks, typed from the values seen, so
the catalog has a column for everything the API returns. Documented fields keep their static
types (decimals stay strings even when a sample happens to look numeric).
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from coupa_api.client import CoupaClient
from coupa_api.errors import CoupaAuthError, CoupaFatalError, CoupaScopeError
from coupa_api.query import PAGE_SIZE
from tap_coupa import embedded
from tap_coupa.custom_fields import add_custom_columns
from tap_coupa.field_types import documented_types, harmonise, typed
from tap_coupa.subresources import SubResourceStream, sample_children

Schema = dict[str, Any]
#: Streams sampled at the same time during discovery.
SAMPLE_WORKERS = 8
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def sample(
    client: CoupaClient, path: str, scope: str, *, ordered_by_update: bool
) -> list[dict[str, Any]]:
    """One page of the most recently updated records (or highest ids, without timestamps).

    Whether every Coupa resource accepts `order_by=updated_at` is not documented: if Coupa
    refuses the ordering (400), the sample falls back to the first page in Coupa's own order.
    """
    order = "updated_at" if ordered_by_update else "id"
    params: dict[str, Any] = {"limit": PAGE_SIZE, "order_by": order, "dir": "desc"}
    try:
        page = client.request("GET", path, params=params, scope=scope)
    except (CoupaScopeError, CoupaAuthError):
        raise  # a 400 from the token endpoint is not the ordering: never re-post the secret
    except CoupaFatalError as exc:
        if exc.status != 400:
            raise
        page = client.request("GET", path, params={"limit": PAGE_SIZE}, scope=scope)
    return [row for row in page if isinstance(row, dict)] if isinstance(page, list) else []


def extend_schema(
    base: Schema, rows: Iterable[Mapping[str, Any]], known: Mapping[str, Schema] | None = None
) -> Schema:
    """`base` plus a typed property for every key seen in `rows` that `base` lacks.

    `known` maps names other streams document to their types (tap_coupa.field_types), so a
    key keeps one type across streams even when this sample holds only nulls.
    """
    schema = copy.deepcopy(base)
    rows = list(rows)
    if rows:
        _extend_object(schema, rows, known or {})
    return schema


_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),  # before int: bool is an int subclass
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (Mapping, "object"),
    (list, "array"),
)


def _kind(value: Any) -> str | None:
    for cls, kind in _KINDS:
        if isinstance(value, cls):
            return kind
    return None


def infer(values: Iterable[Any], known: Mapping[str, Schema] | None = None) -> Schema:
    """A nullable JSON schema that admits every value seen (all-null -> nullable string)."""
    by_kind: dict[str, list[Any]] = {}
    for value in values:
        kind = _kind(value)
        if kind is not None:
            by_kind.setdefault(kind, []).append(value)
    if "integer" in by_kind and "number" in by_kind:
        by_kind["number"] += by_kind.pop("integer")
    if not by_kind:
        return {"type": ["string", "null"]}
    if len(by_kind) > 1:
        # Mixed shapes: keep the value as JSON rather than guess (nothing is dropped).
        return {}
    kind, seen = by_kind.popitem()
    if kind == "object":
        schema: Schema = {
            "type": ["object", "null"],
            "properties": {},
            "additionalProperties": True,
        }
        _extend_object(schema, seen, known or {})
        return schema
    if kind == "array":
        items = [item for value in seen for item in value]
        return {"type": ["array", "null"], "items": infer(items, known) if items else {}}
    schema = {"type": [kind, "null"]}
    if kind == "string" and all(_TIMESTAMP.match(v) for v in seen):
        schema["format"] = "date-time"
    return schema


def _extend_object(
    schema: Schema, rows: list[Mapping[str, Any]], known: Mapping[str, Schema]
) -> None:
    properties: dict[str, Schema] = schema.setdefault("properties", {})
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    for key in keys:
        values = [row.get(key) for row in rows if isinstance(row, Mapping)]
        declared = properties.get(key)
        if declared is None:
            properties[key] = typed(key, values, known, infer(values, known))
        elif "object" in _types(declared) and "properties" in declared:
            _extend_object(declared, [v for v in values if isinstance(v, Mapping)], known)
        elif "array" in _types(declared) and isinstance(declared.get("items"), dict):
            nested = [i for v in values if isinstance(v, list) for i in v if isinstance(i, Mapping)]
            if nested and "properties" in declared["items"]:
                _extend_object(declared["items"], nested, known)


def _types(schema: Schema) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def discover_schemas(
    client: CoupaClient,
    streams: Iterable[Any],
    logger: logging.Logger,
    *,
    custom_columns: bool = True,
) -> dict[str, Schema]:
    """Schemas for every stream class, extended from samples of this instance.

    A stream whose scope the client lacks keeps its static schema, with a warning: it cannot be
    synced until the scope is granted, but the rest of the catalog is still useful. Every
    column name gets one type across streams (tap_coupa.field_types) and, with
    `custom_columns`, each custom field a column of its own (tap_coupa.custom_fields).
    """
    streams = list(streams)
    known = documented_types(cls.base_schema for cls in streams)
    schemas: dict[str, Schema] = {}
    samples: dict[str, list[dict[str, Any]]] = {}
    # Sample every stream at once: the run's rate controller paces the requests.
    with ThreadPoolExecutor(SAMPLE_WORKERS, thread_name_prefix="discovery") as pool:
        pending = {
            cls.name: pool.submit(
                sample,
                client,
                f"/api/{cls.resource or cls.name}",
                cls.scope,
                ordered_by_update=isinstance(getattr(cls, "replication_key", None), str),
            )
            for cls in streams
            if getattr(cls, "parent_stream_type", None) is None
        }
    for cls in streams:
        parent = getattr(cls, "parent_stream_type", None)
        if parent is None:
            try:
                rows = pending[cls.name].result()
            except CoupaScopeError as exc:
                logger.warning(
                    "Discovery of '%s' used its documented schema only: %s", cls.name, exc
                )
                rows = []
            samples[cls.name] = rows
            schemas[cls.name] = extend_schema(cls.base_schema, rows, known)
    for cls in streams:
        parent = getattr(cls, "parent_stream_type", None)
        if parent is not None:
            parents = samples.get(parent.name, [])
            if issubclass(cls, SubResourceStream):
                lines = sample_children(client, cls, parents, sample)
            else:
                lines = [line for row in parents for line in embedded.elements(cls, row)]
            schemas[cls.name] = extend_schema(cls.base_schema, lines, known)
    for name, schema in schemas.items():
        harmonise(schema)
        if custom_columns:
            schemas[name] = add_custom_columns(schema)
    return schemas
