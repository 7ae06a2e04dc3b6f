"""Each tenant's custom fields as columns of their own: `custom-fields__<name>`.

Coupa nests a tenant's custom fields in one `custom-fields` object, which a loader stores as a
single JSON column. With `custom_fields_as_columns` (default on) discovery adds one typed
top-level property per custom field it found, named `custom-fields__<name>` (the object's
name, the SDK's flattening separator `__`, the field's name: it says where it came from and
cannot collide with a Coupa attribute, which never contains `__`), and the tap copies the
values there when it emits a record. The `custom-fields` object itself stays, so a field added
after discovery still arrives, inside it, until the catalog is rediscovered.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from tap_coupa.field_types import CANONICAL, coerce

Schema = dict[str, Any]

SOURCE = "custom-fields"
PREFIX = SOURCE + "__"


def retype_custom_fields(schema: Schema, types: Mapping[str, Schema]) -> Schema:
    """`schema` with each custom field typed as `types` says (one type across streams)."""
    source = (schema.get("properties") or {}).get(SOURCE)
    if not isinstance(source, dict):
        return schema
    fields: dict[str, Schema] = source.get("properties") or {}
    for name in fields:
        if name in types:
            fields[name] = copy.deepcopy(types[name])
    return schema


def add_custom_columns(schema: Schema) -> Schema:
    """`schema` plus a top-level `custom-fields__<name>` for every custom field it types."""
    properties: dict[str, Schema] = schema.setdefault("properties", {})
    source = properties.get(SOURCE)
    if not isinstance(source, Mapping):
        return schema
    for name, field in (source.get("properties") or {}).items():
        column = copy.deepcopy(field)
        column["description"] = (
            f"Custom field '{name}' of this Coupa tenant, copied from `{SOURCE}` "
            "(custom_fields_as_columns)."
        )
        properties.setdefault(PREFIX + name, column)
    return schema


def source_fields(names: Iterable[str]) -> list[str]:
    """Property names as Coupa knows them: every custom column becomes `custom-fields`."""
    seen: dict[str, None] = {}
    for name in names:
        seen[SOURCE if name.startswith(PREFIX) else name] = None
    return list(seen)


class RowPlan:
    """What a stream does to each record before the SDK sees it (computed once per schema)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        properties = schema.get("properties") or {}
        self.columns = {name: name[len(PREFIX) :] for name in properties if name.startswith(PREFIX)}
        self.canonical = [name for name in CANONICAL if name in properties]

    def apply(self, row: dict[str, Any]) -> dict[str, Any]:
        """Copy custom fields into their columns and give canonical fields their one type."""
        if self.columns:
            source = row.get(SOURCE)
            values = source if isinstance(source, Mapping) else {}
            for column, name in self.columns.items():
                row[column] = values.get(name)
        for name in self.canonical:
            value = row.get(name)
            if value is not None:
                row[name] = coerce(name, value)
        return row


#: The attribute a stream keeps its plan in: (the schema it was computed for, the plan).
_PLAN_ATTRIBUTE = "_coupa_row_plan"


def finish_row(stream: Any, row: dict[str, Any]) -> dict[str, Any]:
    """`row` as it should be emitted by `stream` (a tap_coupa stream; its schema decides).

    The plan is computed once per schema and kept on the stream itself: this runs for every
    record, so it costs one attribute read, not a lookup in a table of streams.
    """
    schema = stream.schema
    cached = getattr(stream, _PLAN_ATTRIBUTE, None)
    if cached is None or cached[0] is not schema:
        cached = (schema, RowPlan(schema))
        setattr(stream, _PLAN_ATTRIBUTE, cached)
    return cached[1].apply(row)


def flattening_clashes(schemas: Mapping[str, Schema]) -> list[str]:
    """Streams whose schema has both the `custom-fields` object and `custom-fields__` columns.

    singer-sdk's flattening turns the object into columns of exactly those names, so it would
    stop on the duplicates; the catalog was discovered without flattening.
    """
    clashing = []
    for name, schema in schemas.items():
        properties = schema.get("properties") or {}
        nested = (properties.get(SOURCE) or {}).get("properties") or {}
        if any(PREFIX + field in properties for field in nested):
            clashing.append(name)
    return clashing
