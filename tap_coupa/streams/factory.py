"""The one factory: a stream class per row of the stream table (tap_coupa.streams.specs).

Built-in rows and the rows `extra_streams` declares go through `build_streams` alike, so a
declared stream can be what a built-in one is: a collection, a sub-resource read per parent
record, or arrays embedded in its parent's records. A class's `base_schema` is built the first
time it is read (discovery, or the stream's construction), not at import: `--about` and
`--help` build none of the 76.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from coupa_api.scopes import read_scope
from tap_coupa.client import CoupaStream, IncrementalCoupaStream
from tap_coupa.embedded import document_updated_key
from tap_coupa.lines import EmbeddedLinesStream
from tap_coupa.schemas._fragments import DATETIME, INTEGER
from tap_coupa.streams.specs import INCREMENTAL, StreamSpec
from tap_coupa.subresources import SubResourceParent, SubResourceStream

Schema = dict[str, Any]


class LazySchema:
    """A class attribute (`base_schema`) computed on first read, then kept."""

    def __init__(self, build: Callable[[], Schema]) -> None:
        self._build = build
        self._value: Schema | None = None

    def __get__(self, instance: object, owner: type | None = None) -> Schema:
        if self._value is None:
            self._value = self._build()
        return self._value


def resolve_schema(ref: str | Schema) -> Schema:
    """A row's schema: `"procurement.INVOICE"` is `tap_coupa.schemas.procurement.INVOICE`."""
    if isinstance(ref, dict):
        return ref
    module, _, attribute = ref.partition(".")
    schema: Schema = getattr(importlib.import_module(f"tap_coupa.schemas.{module}"), attribute)
    return schema


def with_parent_id(schema: Schema, parent_id_key: str) -> Schema:
    """A row schema plus the parent's id, which the tap adds to every row for joins."""
    schema = copy.deepcopy(schema)
    schema["properties"][parent_id_key] = INTEGER
    return schema


def line_schema(schema: Schema, parent_id_key: str, *ancestors: str) -> Schema:
    """An embedded row's schema plus the columns the tap adds: document id and version, ids."""
    schema = with_parent_id(schema, parent_id_key)
    properties = schema["properties"]
    properties[document_updated_key(parent_id_key)] = DATETIME
    for column in ancestors:
        properties[column] = INTEGER
    return schema


def build_streams(
    specs: Iterable[StreamSpec],
    module: str = __name__,
    known: Mapping[str, type[CoupaStream]] | None = None,
) -> tuple[type[CoupaStream], ...]:
    """A class per row, in order; a row's parent comes before it, or is in `known` (built)."""
    specs = tuple(specs)
    parents = {s.parent for s in specs if s.kind == "sub-resource"}
    built: dict[str, type[CoupaStream]] = dict(known or {})
    for spec in specs:
        if spec.name in built:
            msg = f"stream {spec.name!r} is in the stream table twice"
            raise ValueError(msg)
        parent = None
        if spec.parent is not None:
            parent = built.get(spec.parent)
            if parent is None:
                msg = f"stream {spec.name!r} needs its parent {spec.parent!r} before it"
                raise ValueError(msg)
        built[spec.name] = build_stream(
            spec, parent, module, parent_of_sub_resources=spec.name in parents
        )
    return tuple(built[spec.name] for spec in specs)


def build_stream(
    spec: StreamSpec,
    parent: type[CoupaStream] | None,
    module: str = __name__,
    *,
    parent_of_sub_resources: bool = False,
) -> type[CoupaStream]:
    """The class of one row (`parent`: the class built for `spec.parent`)."""
    body: dict[str, Any] = {"name": spec.name, "__module__": module}
    if spec.primary_keys != ("id",):
        body["primary_keys"] = spec.primary_keys
    if spec.kind == "embedded":
        return _embedded(spec, _required(spec, parent), body)
    if spec.kind == "sub-resource" and spec.replication == INCREMENTAL:
        msg = f"stream {spec.name!r} is read in full per parent record: give full table"
        raise ValueError(msg)
    body["scope"] = spec.scope or _documented_scope(spec)
    body["resource"] = spec.api_path.removeprefix("/api/")
    body["__doc__"] = f"{spec.doc}, `{spec.api_path}`."
    bases: tuple[type[CoupaStream], ...]
    if spec.kind == "sub-resource":
        body["parent_stream_type"] = _required(spec, parent)
        key = spec.placeholder.replace("_", "-")
        body["base_schema"] = LazySchema(lambda: with_parent_id(resolve_schema(spec.schema), key))
        bases = (SubResourceStream,)
    else:
        body["base_schema"] = LazySchema(lambda: resolve_schema(spec.schema))
        base = IncrementalCoupaStream if spec.replication == INCREMENTAL else CoupaStream
        bases = (base,)
    if parent_of_sub_resources:
        bases = (SubResourceParent, *bases)
    return type(spec.title, bases, body)


def _documented_scope(spec: StreamSpec) -> str:
    try:
        return read_scope(spec.api_path)
    except KeyError:
        msg = f"stream {spec.name!r}: add {spec.api_path} and its scope to coupa_api.scopes"
        raise ValueError(msg) from None


def _required(spec: StreamSpec, parent: type[CoupaStream] | None) -> type[CoupaStream]:
    if parent is None:
        msg = f"stream {spec.name!r} is read from its parent's records: give its parent"
        raise ValueError(msg)
    return parent


def _embedded(
    spec: StreamSpec, parent: type[CoupaStream], body: dict[str, Any]
) -> type[EmbeddedLinesStream]:
    """Rows at the end of `spec.lines` in the parent's records: its scope, no request."""
    ancestors = dict(spec.ancestor_ids)
    body["__doc__"] = f"{spec.doc} (from `{parent.name}` pages, no extra request)."  # type: ignore[misc]
    body["lines_key"] = spec.lines[0][0]
    body["parent_id_key"] = spec.parent_id_key
    body["paths"] = spec.lines
    body["ancestor_ids"] = ancestors
    columns = dict.fromkeys(ancestors.values())
    body["base_schema"] = LazySchema(
        lambda: line_schema(resolve_schema(spec.schema), spec.parent_id_key, *columns)
    )
    cls: type[EmbeddedLinesStream] = type(spec.title, (EmbeddedLinesStream,), body)
    # Set after the class exists: EmbeddedLinesStream.__init_subclass__ would otherwise build
    # the schema now (to add the document's version column, which line_schema adds lazily).
    cls.parent_stream_type = parent
    cls.scope = parent.scope
    return cls
