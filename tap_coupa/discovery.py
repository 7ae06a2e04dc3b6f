"""Per-instance schema discovery: sample recent records and type every key they carry.

Each Coupa tenant has its own custom fields, under `custom-fields` and (legacy) as top-level
keys, and newer releases add attributes. Discovery reads one page of the most recently updated
records per stream and adds every key the static schema lacks, typed from the values seen, so
the catalog has a column for everything the API returns. Documented fields keep their static
types (decimals stay strings even when a sample happens to look numeric).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from coupa_api.client import CoupaClient
from coupa_api.errors import (
    CoupaAuthError,
    CoupaFatalError,
    CoupaRetriableError,
    CoupaScopeError,
)
from coupa_api.query import PAGE_SIZE
from tap_coupa import embedded, tenant
from tap_coupa.custom_fields import SOURCE, add_custom_columns, retype_custom_fields
from tap_coupa.field_types import documented_types, harmonise, tree_copy, typed
from tap_coupa.subresources import SubResourceStream, sample_children

Schema = dict[str, Any]
#: Streams sampled at the same time during discovery.
SAMPLE_WORKERS = 8
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


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
    schema = tree_copy(base)
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
    if kind == "string" and all(_TIMESTAMP.fullmatch(v) for v in seen):
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
            # A documented type (another stream's stub) still gains the keys seen here.
            declared = properties[key] = typed(key, values, known, infer(values, known))
        if "object" in _types(declared) and "properties" in declared:
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

    A stream this tenant cannot serve (its scope not granted, its module not licensed, no
    such collection, server errors past the retries: tap_coupa.tenant) keeps its documented
    schema, with one warning naming it and the streams read from it: it cannot be synced
    as things are, but the rest of the catalog is still useful. Every column name gets one
    type across streams (tap_coupa.field_types) and, with `custom_columns`, each custom field
    a column of its own (tap_coupa.custom_fields).
    """
    streams = list(streams)
    known = documented_types(cls.base_schema for cls in streams)
    schemas: dict[str, Schema] = {}
    samples: dict[str, list[dict[str, Any]]] = {}
    unavailable: dict[str, BaseException] = {}
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
        rows_of = {name: _outcome(future, name, unavailable) for name, future in pending.items()}
    _refuse_if_nothing_answered(rows_of, unavailable)
    for cls in streams:
        if getattr(cls, "parent_stream_type", None) is None:
            rows = rows_of[cls.name] or []
            samples[cls.name] = rows
            schemas[cls.name] = extend_schema(cls.base_schema, rows, known)
    for cls in streams:
        parent = getattr(cls, "parent_stream_type", None)
        if parent is not None:
            parents = samples.get(parent.name, [])
            if issubclass(cls, SubResourceStream):
                try:
                    lines = sample_children(client, cls, parents, sample)
                except (CoupaFatalError, CoupaRetriableError) as exc:
                    if tenant.lack_of(exc) is None:
                        raise
                    unavailable[cls.name] = exc
                    lines = []
            else:
                lines = [line for row in parents for line in embedded.elements(cls, row)]
            samples[cls.name] = lines
            schemas[cls.name] = extend_schema(cls.base_schema, lines, known)
    _warn_unavailable(streams, unavailable, logger)
    custom = custom_field_types(samples.values(), known)
    for name, schema in schemas.items():
        harmonise(schema)
        retype_custom_fields(schema, custom)
        if custom_columns:
            schemas[name] = add_custom_columns(schema)
    return schemas


def _outcome(
    future: Future[list[dict[str, Any]]], name: str, unavailable: dict[str, BaseException]
) -> list[dict[str, Any]] | None:
    """The sample, or None (noted in `unavailable`) when the tenant cannot serve it."""
    try:
        return future.result()
    except (CoupaFatalError, CoupaRetriableError) as exc:
        if tenant.lack_of(exc) is None:
            raise
        unavailable[name] = exc
        return None


def _refuse_if_nothing_answered(
    rows_of: Mapping[str, list[dict[str, Any]] | None], unavailable: Mapping[str, BaseException]
) -> None:
    """No collection at all answered, and not for want of scopes: `base_url` or Coupa is wrong.

    One collection a tenant lacks is a tenant difference; every one of them missing or failing
    is an instance that is not there (a `base_url` pointing at another server, an outage), and
    a catalog of documented schemas only would hide it.
    """
    if any(rows is not None for rows in rows_of.values()):
        return
    broken = [
        (name, exc)
        for name, exc in unavailable.items()
        if tenant.lack_of(exc) is not tenant.Lack.FORBIDDEN
    ]
    if broken:
        name, exc = broken[0]
        msg = (
            f"Discovery could not sample any of the {len(rows_of)} collections: "
            f"{len(broken)} answered 404 or server errors (e.g. '{name}': {exc}). Check that "
            "`base_url` is your Coupa instance and that it is up, then run again."
        )
        raise CoupaFatalError(msg)


def _warn_unavailable(
    streams: Sequence[Any], unavailable: Mapping[str, BaseException], logger: logging.Logger
) -> None:
    """One warning per collection this tenant cannot serve, naming every stream read from it."""
    for cls in streams:
        exc = unavailable.get(cls.name)
        lack = tenant.lack_of(exc) if exc is not None else None
        if exc is None or lack is None:
            continue
        below = [c.name for c in streams if c.name not in unavailable and _reads_from(c, cls)]
        also = f" (and {', '.join(below)}, read from it)" if below else ""
        logger.warning(
            "Discovery kept the documented schema of '%s'%s: %s. A run that selects it stops "
            "before reading anything.",
            cls.name,
            also,
            tenant.what_happened(lack, exc),
        )


def _reads_from(cls: Any, source: Any) -> bool:
    """`cls` is a line, array or sub-resource stream below `source`."""
    parent = getattr(cls, "parent_stream_type", None)
    while parent is not None:
        if parent is source:
            return True
        parent = getattr(parent, "parent_stream_type", None)
    return False


def custom_field_types(
    samples: Iterable[list[dict[str, Any]]], known: Mapping[str, Schema]
) -> dict[str, Schema]:
    """One type per custom field name, from its values in every stream's sample at once.

    Typed per stream, a field rarely filled on one object (all nulls: a string) or holding a
    lookup value there (an object) got another type than on the next stream, so the same
    `custom-fields__<name>` column differed between tables.
    """
    values: dict[str, list[Any]] = {}
    for rows in samples:
        for row in rows:
            fields = row.get(SOURCE)
            if isinstance(fields, Mapping):
                for name, value in fields.items():
                    values.setdefault(name, []).append(value)
    return {name: typed(name, seen, known, infer(seen, known)) for name, seen in values.items()}
