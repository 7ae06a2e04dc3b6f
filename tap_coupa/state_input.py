"""The --state a run starts from: Meltano's wrapped form read, another tap's bookmarks named.

singer-sdk copies every bookmark of the input state into the tap's state, and so into every
STATE the run emits. Bookmarks for streams tap-coupa does not have, or kept on another
replication key, mean the file is another tap's (or an old layout): they are dropped, with one
warning that lists them, and the streams concerned are read from `start_date` (nothing is
skipped on a bookmark this tap did not write).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def foreign_bookmarks(
    state: Mapping[str, Any], streams: Iterable[tuple[str, str | None]]
) -> tuple[dict[str, Any], str | None]:
    """`state` without the bookmarks tap-coupa cannot use, and the warning that names them.

    `streams` gives each stream's name and replication key (None: read in full every run).
    """
    keys = dict(streams)
    bookmarks = state.get("bookmarks")
    if not isinstance(bookmarks, Mapping):
        return dict(state), None
    unknown: list[str] = []
    rekeyed: list[str] = []
    kept: dict[str, Any] = {}
    for name, bookmark in bookmarks.items():
        if name not in keys:
            unknown.append(str(name))
            continue
        used = _replication_keys(bookmark)
        if used and used != {keys[name]}:
            shown = ", ".join(sorted(repr(k) for k in used))
            rekeyed.append(f"{name} (bookmarked on {shown}, tap-coupa uses {keys[name]!r})")
            continue
        kept[name] = bookmark
    if not unknown and not rekeyed:
        return dict(state), None
    parts = []
    if unknown:
        parts.append(f"streams tap-coupa does not have: {', '.join(sorted(unknown))}")
    if rekeyed:
        parts.append(f"streams bookmarked on another replication key: {'; '.join(rekeyed)}")
    warning = (
        f"The input state holds bookmarks tap-coupa did not write ({' and '.join(parts)}). Is "
        "it another tap's state? They are dropped, not passed on to this run's STATE"
        + (", and those tap-coupa streams are read from `start_date`." if rekeyed else ".")
        + " Give the state this tap's runs wrote (`meltano state get <state id>`)."
    )
    return {**state, "bookmarks": kept}, warning


def _replication_keys(bookmark: Any) -> set[str | None]:
    """The replication keys a stream's bookmark (and its partitions) were kept on."""
    if not isinstance(bookmark, Mapping):
        return set()
    found: set[str | None] = set()
    for entry in [bookmark, *(bookmark.get("partitions") or [])]:
        if not isinstance(entry, Mapping):
            continue
        if "replication_key" in entry:
            found.add(entry["replication_key"])
        elif entry.get("replication_key_value") is not None:
            found.add(None)  # a value without its key: not a bookmark singer-sdk wrote
    return found
