"""Where a line stream's rows sit inside its parent's record: paths of arrays to walk.

A line stream (tap_coupa.lines) reads one array of its parent's records (`invoice-lines`).
Analysts also join on arrays nested deeper: the account allocations of each invoice line
(`invoice-lines[].account-allocations[]`), the charges of an invoice and their allocations, the
tax lines of an invoice, of its lines and of its charges. A stream declares them as data, not
code: `paths`, the arrays to walk from the parent record down (several when the same kind of
row sits at several levels, as tax lines do), and `ancestor_ids`, the column each intermediate
level's id becomes (`{"invoice-lines": "invoice-line-id"}`). Every row then carries its
document's id (`<parent>-id`), the ids of the levels it sits under (null where a path does not
pass them), and the document's `updated-at` as `<parent>-updated-at`: all rows of one read of
a document share it, so the warehouse can keep only the rows of each document's latest version
(docs/deletions.md). The walk runs on the parent's page already in memory: no request.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

Path = tuple[str, ...]


def paths_of(stream: Any) -> tuple[Path, ...]:
    """The arrays a line stream walks: its `paths`, or its one `lines_key`."""
    declared: tuple[Path, ...] | None = getattr(stream, "paths", None)
    return declared or ((stream.lines_key,),)


def source_keys(stream: Any) -> list[str]:
    """The parent's top-level keys a line stream needs (what a `fields=` trim must keep)."""
    return list(dict.fromkeys(path[0] for path in paths_of(stream)))


def document_updated_key(parent_id_key: str) -> str:
    """`invoice-id` -> `invoice-updated-at`: the column carrying the document's version."""
    return parent_id_key.removesuffix("-id") + "-updated-at"


def walk(stream: Any, record: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(element, ancestor id columns) for every element at the end of each of `stream`'s paths."""
    names: Mapping[str, str] = getattr(stream, "ancestor_ids", None) or {}
    blank = dict.fromkeys(names.values())
    for path in paths_of(stream):
        yield from _descend(record, path, names, blank)


def _descend(
    node: Mapping[str, Any], path: Path, names: Mapping[str, str], ids: dict[str, Any]
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    key, rest = path[0], path[1:]
    for item in node.get(key) or []:
        if not isinstance(item, Mapping):
            continue
        if not rest:
            yield dict(item), ids
            continue
        below = ids
        if key in names:
            below = {**ids, names[key]: item.get("id")}
        yield from _descend(item, rest, names, below)


def elements(stream: Any, record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The raw elements a line stream would emit from `record` (discovery samples these)."""
    return [element for element, _ in walk(stream, record)]


def with_document_version(schema: dict[str, Any], parent_id_key: str) -> dict[str, Any]:
    """`schema` with the `<parent>-updated-at` column every line stream's rows carry."""
    key = document_updated_key(parent_id_key)
    if key in schema.get("properties", {}):
        return schema
    schema = copy.deepcopy(schema)
    schema["properties"][key] = {"type": ["string", "null"], "format": "date-time"}
    return schema
