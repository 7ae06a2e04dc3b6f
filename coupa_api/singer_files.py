"""The shape of a --state or --catalog file: one sentence for what singer-sdk would trip over.

A file can be valid JSON and still not be a Singer state or catalog (`"bookmarks": []`, a stream
without `tap_stream_id`); singer-sdk would then stop with a KeyError or AttributeError
traceback deep inside its parser. These checks name the first thing to fix instead. A state as
`meltano state get` prints it (`{"singer_state": {...}}`) is read as the state it wraps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The key `meltano state get` wraps a Singer state in.
MELTANO_STATE_KEY = "singer_state"


def unwrap_meltano_state(state: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The Singer state inside Meltano's `{"singer_state": {...}}`, and whether it was wrapped."""
    inner = state.get(MELTANO_STATE_KEY)
    if isinstance(inner, Mapping) and "bookmarks" not in state:
        return dict(inner), True
    return dict(state), False


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    names |= {int: "a number", float: "a number"}
    return names.get(type(value), "null" if value is None else f"a {type(value).__name__}")


def state_problem(state: Mapping[str, Any], source: str = "--state") -> str | None:
    """Why `state` (already unwrapped) is not a Singer state, or None."""
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, Mapping):
        return (
            f"{source}: `bookmarks` is {_kind(bookmarks)}, not an object of stream name to "
            'bookmark (e.g. {"bookmarks": {"invoices": {...}}}); give a STATE the tap wrote.'
        )
    for stream, bookmark in bookmarks.items():
        if not isinstance(bookmark, Mapping):
            return (
                f"{source}: the bookmark of stream {str(stream)[:80]!r} is {_kind(bookmark)}, "
                "not an object; give a STATE the tap wrote."
            )
        partitions = bookmark.get("partitions", [])
        if not isinstance(partitions, list) or not all(
            isinstance(p, Mapping) and isinstance(p.get("context", {}), Mapping) for p in partitions
        ):
            return (
                f"{source}: `partitions` of stream {str(stream)[:80]!r} must be a list of "
                "objects with a `context` object; give a STATE the tap wrote."
            )
    return None


def catalog_problem(  # noqa: PLR0911 - one sentence per problem
    catalog: Mapping[str, Any], source: str = "--catalog"
) -> str | None:
    """Why `catalog` is not a Singer catalog singer-sdk can read, or None."""
    streams = catalog.get("streams")
    if not isinstance(streams, list):
        return (
            f"{source}: `streams` is {_kind(streams)}, not a list of stream entries; give the "
            "catalog `--discover` wrote (with your selection)."
        )
    for index, entry in enumerate(streams):
        where = f"{source}: streams[{index}]"
        if not isinstance(entry, Mapping):
            return f"{where} is {_kind(entry)}, not a stream entry (an object)."
        stream_id = entry.get("tap_stream_id")
        if not isinstance(stream_id, str) or not stream_id:
            return f"{where} has no `tap_stream_id` (the stream's name); every entry needs one."
        where = f"{source}: stream {stream_id[:80]!r}"
        if not isinstance(entry.get("schema", {}), Mapping):
            return f"{where}: `schema` is {_kind(entry['schema'])}, not a JSON schema object."
        for key in ("key_properties",):
            if entry.get(key) is not None and not isinstance(entry[key], list):
                return f"{where}: `{key}` is {_kind(entry[key])}, not a list of field names."
        metadata = entry.get("metadata", [])
        if not isinstance(metadata, list):
            return f"{where}: `metadata` is {_kind(metadata)}, not a list."
        for item in metadata:
            if not (
                isinstance(item, Mapping)
                and isinstance(item.get("breadcrumb"), list)
                and isinstance(item.get("metadata"), Mapping)
            ):
                return (
                    f"{where}: every `metadata` entry needs a `breadcrumb` list and a "
                    '`metadata` object, e.g. {"breadcrumb": [], "metadata": {"selected": true}}.'
                )
    return None
