"""Coupa's query language, encoded in one place: filters, keyset pages, `fields`, instants.

Coupa accepts `attr[op]=value` filters, `order_by`/`dir`, `limit` (at most 50) and `offset`, and a
JSON `fields=[...]` selector (reference/coupa-api.md §6). Brackets and commas are left readable in
the query string; `:` and `+` are percent-encoded, as Coupa requires for timestamps.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import orjson

PAGE_SIZE = 50
SAFE_QUERY_CHARS = "[],"
OPERATORS = frozenset(
    {
        "gt", "gt_or_eq", "lt", "lt_or_eq", "not_eq", "in", "not_in",
        "contains", "starts_with", "ends_with", "blank",
    }
)  # fmt: skip
#: Used with `fullmatch` (`$` under `match` accepts a final newline, which Coupa would receive).
_FILTER_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]*(\[[A-Za-z0-9_-]+\])*")

FieldSpec = Sequence["str | Mapping[str, Any]"]


def encode(params: Mapping[str, Any]) -> str:
    """Encode query parameters the way every Coupa call in this project does."""
    pairs: list[tuple[str, Any]] = []
    for key, value in params.items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, v) for v in values if v is not None)
    return urlencode(pairs, safe=SAFE_QUERY_CHARS)


def instant(value: dt.datetime) -> str:
    """An aware datetime as the UTC ISO-8601 string Coupa filters accept."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def to_utc(value: str) -> str:
    """Normalise a Coupa timestamp (local offset, e.g. -08:00) to UTC, second precision.

    singer-sdk compares replication values as strings, and Coupa's offsets change at daylight
    saving, so `2024-11-03T01:30:00-07:00` sorts after `2024-11-03T01:10:00-08:00` although it
    happened 40 minutes earlier. In UTC, string order is time order.

    The text is `datetime.isoformat()`'s (`+00:00`, microseconds only when there are some),
    written by orjson: this runs for every record, and isoformat's printf-style formatting was
    the larger part of its cost (tests/wire/test_properties.py compares the two texts).
    """
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return orjson.dumps(parsed.astimezone(dt.UTC))[1:-1].decode()


def keyset_page(after_id: int, *, upper_id: int | None = None) -> dict[str, Any]:
    """Parameters for one keyset page: `order_by=id`, ids strictly after `after_id`.

    Offsets shift when records are inserted or updated during a long sync; an id cursor does
    not. `upper_id` bounds the range so that several ranges can be read concurrently.
    """
    params: dict[str, Any] = {"order_by": "id", "dir": "asc", "limit": PAGE_SIZE}
    params["id[gt]"] = after_id
    if upper_id is not None:
        params["id[lt_or_eq]"] = upper_id
    return params


def fields_param(spec: FieldSpec) -> str:
    """Coupa's `fields` selector as compact JSON, e.g. `["id",{"supplier":["id","name"]}]`."""
    return orjson.dumps(list(spec)).decode()


def fields_for(
    properties: Mapping[str, Any], selected: Iterable[str]
) -> list[str | dict[str, Any]]:
    """Build a `fields` spec from a JSON schema's properties, keeping only `selected` top keys.

    Nested objects and arrays of objects are asked for in full (their own properties, and
    `{"custom_fields": {}}` for every custom field).
    """
    spec: list[str | dict[str, Any]] = []
    for name in selected:
        if name == "custom-fields":
            spec.append({"custom_fields": {}})
            continue
        schema = properties.get(name, {})
        nested = _nested_fields(schema)
        spec.append({name: nested} if nested else name)
    return spec


def _nested_fields(schema: Mapping[str, Any]) -> list[str | dict[str, Any]]:
    if "items" in schema:
        schema = schema["items"]
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if not props:
        return []
    return fields_for(props, props.keys())


#: Operators users reach for that Coupa does not have (any other bracket may be an association).
NOT_OPERATORS = frozenset({"eq", "ne", "neq", "gte", "lte", "like", "ilike", "null", "is"})


def filter_key_problem(key: str) -> str | None:
    """Why `key` is not a Coupa filter parameter (None when it is one)."""
    if not _FILTER_KEY.fullmatch(key):
        hint = " (it starts or ends with a newline or a space)" if key != key.strip() else ""
        return f"{key!r}{hint} is not of the form attribute or attribute[operator]"
    brackets = re.findall(r"\[([A-Za-z0-9_-]+)\]", key)
    if brackets and brackets[-1] in NOT_OPERATORS:
        return (
            f"{key!r} uses [{brackets[-1]}], which Coupa does not have; use one of "
            f"{sorted(OPERATORS)}"
        )
    return None
