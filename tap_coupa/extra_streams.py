"""Streams declared in configuration (`extra_streams`): collections tap-coupa does not build in.

A tenant's custom objects (`/api/custom_objects/<definition id>/object_instances`), or a
collection Coupa added after this release, become streams without a fork: each entry gives a
name, the path, the read scope, the key and the replication key (`updated-at`, or none for a
full-table read). Discovery samples their schema as it does custom fields, and they are read
like every built-in stream: keyset pages of 50 by id, the run's token, retries, rate limit
and resumable state.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from singer_sdk import typing as th

from tap_coupa.client import REPLICATION_KEY, CoupaStream, IncrementalCoupaStream
from tap_coupa.schemas._fragments import DATETIME, record

SETTING = "extra_streams"
#: Matched with `fullmatch`: `$` in `match` also accepts a trailing newline ("audits\n"), which
#: would become a table name, a requested path or a scope with a newline in it.
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_PATH = re.compile(r"/api(/[A-Za-z0-9_-]+)+")
_SCOPE = re.compile(r"core(\.[a-z_]+)+\.(read|read_write)")

EXTRA_STREAMS_PROPERTY = th.Property(
    SETTING,
    th.ArrayType(
        th.ObjectType(
            th.Property("name", th.StringType, required=True),
            th.Property("path", th.StringType, required=True),
            th.Property("scope", th.StringType, required=True),
            th.Property("primary_keys", th.ArrayType(th.StringType)),
            th.Property("replication_key", th.StringType),
        )
    ),
    title="Extra streams",
    description=(
        "Collections that are not built in, as streams: a list of {name, path, scope, "
        'primary_keys (default ["id"]), replication_key ("updated-at", or omit for a full '
        'read)}, e.g. [{"name": "vendor_scorecards", "path": '
        '"/api/custom_objects/7/object_instances", "scope": "core.common.read", '
        '"replication_key": "updated-at"}]. Discovery samples their columns.'
    ),
)


def _spaces(value: Any) -> str:
    """A hint when the only problem may be invisible: a newline or space at either end."""
    if isinstance(value, str) and value != value.strip():
        return " (it starts or ends with a newline or a space: remove it)"
    return ""


def _entry_problems(i: int, entry: Any, builtin: Collection[str], seen: set[str]) -> list[str]:
    where = f"`{SETTING}[{i}]`"
    if not isinstance(entry, Mapping):
        return [f"{where} must be an object with name, path and scope."]
    problems: list[str] = []
    name = entry.get("name")
    label = f"{where} ({name!r})" if isinstance(name, str) else where
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        problems.append(
            f"{where} has name {name!r}{_spaces(name)}; give lower-case letters, digits and "
            "underscores, starting with a letter (it becomes the table name)."
        )
    elif name in builtin:
        problems.append(
            f"{label}: {name!r} is a built-in stream; select that stream instead, or pick "
            "another name."
        )
    elif name in seen:
        problems.append(f"{label}: the name {name!r} is declared twice; names must be unique.")
    else:
        seen.add(name)
    path = entry.get("path")
    if not isinstance(path, str) or not _PATH.fullmatch(path):
        problems.append(
            f"{label} has path {path!r}{_spaces(path)}; give the collection's path under /api/ "
            "without query string or placeholders, e.g. /api/custom_objects/7/object_instances."
        )
    scope = entry.get("scope")
    if not isinstance(scope, str) or not _SCOPE.fullmatch(scope):
        problems.append(
            f"{label} has scope {scope!r}{_spaces(scope)}; give the Coupa read scope of that "
            "collection, e.g. core.common.read (custom objects)."
        )
    keys = entry.get("primary_keys", ["id"])
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        problems.append(f"{label} has primary_keys {keys!r}; give a list of field names.")
    replication = entry.get("replication_key")
    if replication not in (None, REPLICATION_KEY):
        problems.append(
            f"{label} has replication_key {replication!r}; tap-coupa reads incrementally on "
            f"{REPLICATION_KEY} only: give {REPLICATION_KEY!r} or leave it out (full read)."
        )
    unknown = sorted(set(entry) - {"name", "path", "scope", "primary_keys", "replication_key"})
    if unknown:
        problems.append(f"{label} has unknown keys {', '.join(unknown)}; remove them.")
    return problems


def extra_stream_problems(config: Mapping[str, Any], builtin: Collection[str]) -> list[str]:
    """One sentence per `extra_streams` entry that cannot work."""
    entries = config.get(SETTING)
    if entries is None:
        return []
    if not isinstance(entries, list):
        return [f"`{SETTING}` must be a list of objects with name, path and scope."]
    seen: set[str] = set()
    return [p for i, e in enumerate(entries) for p in _entry_problems(i, e, builtin, seen)]


def extra_stream_classes(config: Mapping[str, Any]) -> list[type[CoupaStream]]:
    """A stream class per (valid) `extra_streams` entry, in the order given."""
    classes: list[type[CoupaStream]] = []
    for entry in config.get(SETTING) or []:
        incremental = entry.get("replication_key") == REPLICATION_KEY
        base: type[CoupaStream] = IncrementalCoupaStream if incremental else CoupaStream
        schema = record(updated_at=DATETIME) if incremental else record()
        body = {
            "name": entry["name"],
            "scope": entry["scope"],
            "resource": str(entry["path"]).removeprefix("/api/"),
            "primary_keys": tuple(entry.get("primary_keys") or ("id",)),
            "base_schema": schema,
            "__doc__": f"Declared in `{SETTING}`: `{entry['path']}`.",
            "__module__": __name__,
        }
        classes.append(type(f"Extra_{entry['name']}", (base,), body))
    return classes
