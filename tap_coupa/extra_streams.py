"""Streams declared in configuration (`extra_streams`): rows of the stream table from config.

A tenant's custom objects (`/api/custom_objects/<definition id>/object_instances`), or a
collection Coupa added after this release, become streams without a fork. Each entry is a
row of the same table the built-in streams come from (tap_coupa.streams.specs), built by the
same factory, so it can be what a built-in stream is:

- a collection: name, path, read scope, key, replication key (`updated-at`, or none for a
  full-table read);
- a sub-resource: a path with one `{placeholder}` and the `parent` stream whose record ids
  fill it, read in full once per parent record, each row carrying the parent's id;
- an embedded array: `parent` and `array`, the keys to walk down the parent's records (no
  request, the parent's scope), each row carrying the parent's id and version.

Discovery samples their schema as it does custom fields, and they are read like every
built-in stream: keyset pages of 50 by id, the run's token, retries, rate limit and
resumable state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any

from singer_sdk import typing as th

from tap_coupa.client import REPLICATION_KEY, CoupaStream
from tap_coupa.schemas._fragments import DATETIME, record
from tap_coupa.streams.specs import FULL_TABLE, INCREMENTAL, SPECS, StreamSpec

SETTING = "extra_streams"
#: Matched with `fullmatch`: `$` in `match` also accepts a trailing newline ("audits\n"), which
#: would become a table name, a requested path or a scope with a newline in it.
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_PATH = re.compile(r"/api(/[A-Za-z0-9_-]+)+")
#: A sub-resource's path: segments and exactly one `{placeholder}` (checked apart).
_SUB_PATH = re.compile(r"/api(/[A-Za-z0-9_-]+|/\{[a-z][a-z0-9_]*\})+")
_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}")
_KEYS = {"name", "path", "scope", "primary_keys", "replication_key", "parent", "array",
         "parent_id_key"}  # fmt: skip
_SCOPE = re.compile(r"core(\.[a-z_]+)+\.(read|read_write)")

EXTRA_STREAMS_PROPERTY = th.Property(
    SETTING,
    th.ArrayType(
        th.ObjectType(
            th.Property("name", th.StringType, required=True),
            # Required unless `array` is given: checked in extra_stream_problems, in a sentence.
            th.Property("path", th.StringType),
            th.Property("scope", th.StringType),
            th.Property("primary_keys", th.ArrayType(th.StringType)),
            th.Property("replication_key", th.StringType),
            th.Property("parent", th.StringType),
            th.Property("array", th.ArrayType(th.StringType)),
            th.Property("parent_id_key", th.StringType),
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


def _parent_problems(label: str, parent: Any, parents: Collection[str]) -> list[str]:
    if isinstance(parent, str) and parent in parents:
        return []
    return [
        f"{label} has parent {parent!r}{_spaces(parent)}; give the name of a stream with a "
        "collection of its own (a built-in one such as 'suppliers', or an `extra_streams` "
        "entry above this one)."
    ]


def _path_problems(label: str, entry: Mapping[str, Any], parent: Any) -> list[str]:
    problems: list[str] = []
    path = entry.get("path")
    placeholders = re.findall(r"\{", path) if isinstance(path, str) else []
    if isinstance(path, str) and placeholders and _SUB_PATH.fullmatch(path):
        if parent is None:
            problems.append(
                f"{label} has path {path!r} with placeholders but no parent; give `parent`, "
                "the stream whose record ids fill it, or a path without placeholders."
            )
        elif len(placeholders) > 1:
            problems.append(
                f"{label} has path {path!r}; a sub-resource path takes one {{placeholder}} "
                "(the parent's id)."
            )
    elif not isinstance(path, str) or not _PATH.fullmatch(path):
        problems.append(
            f"{label} has path {path!r}{_spaces(path)}; give the collection's path under /api/ "
            "without query string or placeholders, e.g. /api/custom_objects/7/object_instances "
            "(with `parent`, one {parent_id} placeholder)."
        )
    elif parent is not None:
        problems.append(
            f"{label} has a parent but path {path!r} has no {{placeholder}} for its id; put "
            "one where the parent's id goes, e.g. /api/suppliers/{supplier_id}/contacts."
        )
    scope = entry.get("scope")
    if not isinstance(scope, str) or not _SCOPE.fullmatch(scope):
        problems.append(
            f"{label} has scope {scope!r}{_spaces(scope)}; give the Coupa read scope of that "
            "collection, e.g. core.common.read (custom objects)."
        )
    return problems


def _array_problems(label: str, entry: Mapping[str, Any], parent: Any) -> list[str]:
    problems: list[str] = []
    array = entry.get("array")
    if parent is None:
        problems.append(f"{label} has `array` but no `parent`; give the stream whose records "
                        "carry the array.")  # fmt: skip
    if (
        not isinstance(array, list)
        or not array
        or not all(isinstance(k, str) and _KEY.fullmatch(k) for k in array)
    ):
        problems.append(
            f"{label} has array {array!r}; give the keys to walk down the parent's record, "
            'e.g. ["invoice-lines", "account-allocations"].'
        )
    for key in ("path", "scope"):
        if key in entry:
            problems.append(
                f"{label} is an embedded array: it costs no request and needs its parent's "
                f"scope, so remove `{key}`."
            )
    column = entry.get("parent_id_key")
    if column is not None and (not isinstance(column, str) or not _KEY.fullmatch(column)):
        problems.append(
            f"{label} has parent_id_key {column!r}; give a column name such as 'invoice-id'."
        )
    return problems


def _name_problems(
    where: str, label: str, name: Any, builtin: Collection[str], seen: set[str]
) -> list[str]:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return [
            f"{where} has name {name!r}{_spaces(name)}; give lower-case letters, digits and "
            "underscores, starting with a letter (it becomes the table name)."
        ]
    if name in builtin:
        return [
            f"{label}: {name!r} is a built-in stream; select that stream instead, or pick "
            "another name."
        ]
    if name in seen:
        return [f"{label}: the name {name!r} is declared twice; names must be unique."]
    seen.add(name)
    return []


def _entry_problems(
    i: int, entry: Any, builtin: Collection[str], seen: set[str], parents: set[str]
) -> list[str]:
    where = f"`{SETTING}[{i}]`"
    if not isinstance(entry, Mapping):
        return [f"{where} must be an object with name, path and scope (or parent and array)."]
    name = entry.get("name")
    label = f"{where} ({name!r})" if isinstance(name, str) else where
    problems = _name_problems(where, label, name, builtin, seen)
    parent = entry.get("parent")
    if parent is not None:
        problems += _parent_problems(label, parent, parents)
    if "array" in entry:
        problems += _array_problems(label, entry, parent)
    else:
        problems += _path_problems(label, entry, parent)
    keys = entry.get("primary_keys", ["id"])
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        problems.append(f"{label} has primary_keys {keys!r}; give a list of field names.")
    replication = entry.get("replication_key")
    if replication not in (None, REPLICATION_KEY):
        problems.append(
            f"{label} has replication_key {replication!r}; tap-coupa reads incrementally on "
            f"{REPLICATION_KEY} only: give {REPLICATION_KEY!r} or leave it out (full read)."
        )
    elif replication is not None and parent is not None:
        problems.append(
            f"{label} is read from its parent {parent!r} (in full per parent record, or with "
            "the parent's bookmark for an embedded array): leave replication_key out."
        )
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        problems.append(f"{label} has unknown keys {', '.join(unknown)}; remove them.")
    if isinstance(name, str) and _NAME.fullmatch(name) and not problems and parent is None:
        parents.add(name)
    return problems


def extra_stream_problems(config: Mapping[str, Any], builtin: Collection[str]) -> list[str]:
    """One sentence per `extra_streams` entry that cannot work."""
    entries = config.get(SETTING)
    if entries is None:
        return []
    if not isinstance(entries, list):
        return [f"`{SETTING}` must be a list of objects with name, path and scope."]
    return [p for problems in _problems_per_entry(entries, builtin) for p in problems]


def _problems_per_entry(entries: list[Any], builtin: Collection[str]) -> list[list[str]]:
    seen: set[str] = set()
    parents = {s.name for s in SPECS if s.kind == "collection"}
    return [_entry_problems(i, e, builtin, seen, parents) for i, e in enumerate(entries)]


def valid_entries(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The `extra_streams` entries that can work (check_config names the others)."""
    entries = config.get(SETTING)
    if not isinstance(entries, list):
        return []
    builtin = [s.name for s in SPECS]
    problems = _problems_per_entry(entries, builtin)
    return [entry for entry, found in zip(entries, problems, strict=True) if not found]


def _singular_id(name: str) -> str:
    """`purchase_orders` / `invoice-lines` -> `purchase-order-id` / `invoice-line-id`."""
    return name.replace("_", "-").removesuffix("s") + "-id"


def extra_specs(config: Mapping[str, Any]) -> list[StreamSpec]:
    """A stream-table row per valid `extra_streams` entry, in the order given."""
    specs: list[StreamSpec] = []
    for entry in valid_entries(config):
        name, parent = entry["name"], entry.get("parent")
        common: dict[str, Any] = {
            "primary_keys": tuple(entry.get("primary_keys") or ("id",)),
            "class_name": f"Extra_{name}",
            "parent": parent,
        }
        if "array" in entry:
            array = tuple(entry["array"])
            doc = f"Declared in `{SETTING}`: `{'[].'.join(array)}[]` of each {parent} record"
            specs.append(
                StreamSpec(
                    name,
                    record(updated_at=DATETIME),
                    doc,
                    lines=(array,),
                    parent_id_key=entry.get("parent_id_key") or _singular_id(str(parent)),
                    ancestor_ids=tuple((key, _singular_id(key)) for key in array[:-1]),
                    **common,
                )
            )
            continue
        incremental = entry.get("replication_key") == REPLICATION_KEY
        specs.append(
            StreamSpec(
                name,
                record(updated_at=DATETIME) if incremental else record(),
                f"Declared in `{SETTING}`",
                path=str(entry["path"]),
                replication=INCREMENTAL if incremental else FULL_TABLE,
                scope=str(entry["scope"]),
                **common,
            )
        )
    return specs


def stream_classes(config: Mapping[str, Any]) -> list[type[CoupaStream]]:
    """Every stream class of a run: the built-in ones, then those `extra_streams` declares."""
    return list(_classes(json.dumps(valid_entries(config), sort_keys=True)))


def extra_stream_classes(config: Mapping[str, Any]) -> list[type[CoupaStream]]:
    """The classes of the (valid) `extra_streams` entries, in the order given."""
    names = {entry["name"] for entry in valid_entries(config)}
    return [cls for cls in stream_classes(config) if cls.name in names]  # type: ignore[misc]


@lru_cache(maxsize=8)
def _classes(entries: str) -> tuple[type[CoupaStream], ...]:
    """Built once per distinct `extra_streams` value (the tap asks several times a run)."""
    from tap_coupa.streams import STREAMS  # noqa: PLC0415 - the package imports this one's table
    from tap_coupa.streams.factory import build_streams  # noqa: PLC0415
    from tap_coupa.subresources import SubResourceParent  # noqa: PLC0415

    extras = extra_specs({SETTING: json.loads(entries)})
    if not extras:
        return STREAMS
    builtin = {cls.name: cls for cls in STREAMS}  # type: ignore[misc]
    adopted = {
        s.parent
        for s in extras
        if s.kind == "sub-resource"
        and s.parent in builtin
        and not issubclass(builtin[s.parent], SubResourceParent)
    }
    if adopted:
        # A built-in stream becomes a parent of sub-resources: its class and those of its
        # children are built again with the declared rows, so the SDK links them.
        return build_streams((*SPECS, *extras), "tap_coupa.streams")
    return (*STREAMS, *build_streams(extras, __name__, known=builtin))
