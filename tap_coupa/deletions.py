"""Records deleted in Coupa reach the warehouse: an opt-in id sweep (`detect_deletes`).

Coupa's API has no feed of deletions: a deleted expense report, remit-to address or attachment
simply stops being listed. For each stream named in `detect_deletes`, after its normal sync,
the tap lists the ids Coupa still has (`fields=["id"]`, keyset pages of 50 by id, the stream's
own `filters`, through the run's token, retry policy and rate controller: one request per 50
ids) and emits every id the warehouse holds but Coupa no longer lists as a record carrying only
`id` and `_sdc_deleted_at`, the convention Singer loaders honour (`hard_delete`).

Which ids does the warehouse hold? A tap cannot ask it, so STATE keeps the ids of the last sweep
(`deletion_sweep`, packed by tap_coupa.idset: a few bytes per run of consecutive ids, at most
about one byte per id; sweeps stop above MAX_TRACKED_IDS). With P the ids listed now, S the
stored ids and E the ids the stream emitted in this run, the sweep emits (S | E) - P and stores
P & (S | E): never an id the warehouse never received (no phantom rows), and a record created
and deleted between two runs without ever being emitted produces nothing. The first sweep, or
one after the stream's `filters` changed, stores P as its baseline and emits nothing: deletions
before it are not detected (a full refresh covers them). Records that leave a stream's
`filters` count as deleted from that stream. docs/deletions.md has the loader semantics.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from singer_sdk.helpers._util import utc_now
from singer_sdk.mapper import RemoveRecordTransform, SameRecordTransform
from singer_sdk.singerlib import RecordMessage

from coupa_api.query import PAGE_SIZE, fields_param, keyset_page
from tap_coupa import checkpoints, idset

if TYPE_CHECKING:
    from tap_coupa.client import CoupaStream

DELETED_AT = "_sdc_deleted_at"
STATE_KEY = "deletion_sweep"
VERSION = 1
#: Above this many ids a stream's sweep is skipped with a warning: STATE stays small (the worst
#: case, no two ids consecutive, packs 2 million ids in about 2.7 MB) and the sweep's cost in
#: requests (40,000 at this size) stays a deliberate choice.
MAX_TRACKED_IDS = 2_000_000
MARKER_SCHEMA: dict[str, Any] = {
    "type": ["string", "null"],
    "format": "date-time",
    "description": "Set when Coupa no longer lists the record (detect_deletes); else null.",
}


def configured(config: Mapping[str, Any]) -> set[str]:
    """Stream names whose deletions are swept: a list of names, or {name: true}."""
    value = config.get("detect_deletes") or []
    if isinstance(value, Mapping):
        return {str(name) for name, on in value.items() if on is True}
    if isinstance(value, list):
        return {str(name) for name in value}
    return set()


def problems(config: Mapping[str, Any], streams: Iterable[Any]) -> list[str]:
    """One sentence per `detect_deletes` entry that cannot work."""
    value = config.get("detect_deletes")
    if value is None:
        return []
    if not isinstance(value, list | Mapping):
        return [
            f"`detect_deletes` is {value!r}; give a list of stream names, e.g. "
            '["expense_reports"], or an object such as {"expense_reports": true}.'
        ]
    if isinstance(value, Mapping) and any(not isinstance(v, bool) for v in value.values()):
        return ["`detect_deletes` maps stream names to true or false; other values mean nothing."]
    streams = list(streams)
    top = {cls.name for cls in streams if getattr(cls, "parent_stream_type", None) is None}
    lines = {cls.name for cls in streams if getattr(cls, "lines_key", None) is not None}
    parents = {
        cls.name: cls.parent_stream_type.name
        for cls in streams
        if getattr(cls, "parent_stream_type", None) is not None
    }
    found: list[str] = []
    for name in sorted(configured(config)):
        if name in lines:
            found.append(
                f"`detect_deletes` names {name!r}, which comes inside its document's payload: "
                "its removed rows drop out with the document's new version (docs/deletions.md, "
                "section 1), no sweep needed."
            )
        elif name in parents:
            found.append(
                f"`detect_deletes` names {name!r}, a sub-resource read once per record of "
                f"{parents[name]!r}: the sweep lists top-level collections only (here it would "
                f"cost a request per record of {parents[name]!r} on every run)."
            )
        elif name not in top:
            found.append(
                f"`detect_deletes` names stream {name!r}, which tap-coupa does not have; "
                f"streams: {', '.join(sorted(top))}."
            )
    return found


def add_marker_column(streams: Collection[CoupaStream], config: Mapping[str, Any]) -> None:
    """Give every swept stream's schema the `_sdc_deleted_at` column (before SCHEMA is sent)."""
    names = configured(config)
    for stream in streams:
        if stream.name in names:
            stream.schema.setdefault("properties", {})[DELETED_AT] = dict(MARKER_SCHEMA)


def around(stream: CoupaStream, rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """`rows` unchanged; then, when the stream is swept, the sweep (after its last record)."""
    swept = stream.name in configured(stream.tap_config) and stream.parent_stream_type is None
    if not swept or not stream.selected:  # read only for its line streams: nothing to report
        yield from rows
        return
    sweep = Sweep(stream)
    for row in rows:
        sweep.saw(row)
        yield row
    sweep.run()


class Sweep:
    """One stream's deletion sweep in one run."""

    def __init__(self, stream: CoupaStream) -> None:
        self.stream = stream
        self.emitted: list[int] = []
        self.requests = 0

    def saw(self, row: Mapping[str, Any]) -> None:
        """Remember the id of a record that the stream map lets through to the warehouse."""
        rid = row.get("id")
        if isinstance(rid, int) and self.stream.stream_maps[0].get_filter_result(dict(row)):
            self.emitted.append(rid)

    def present_ids(self) -> list[int]:
        """Every id Coupa lists now (with the stream's filters), one request per 50 ids."""
        stream = self.stream
        ids: list[int] = []
        after = 0
        while True:
            params = {**keyset_page(after), "fields": fields_param(["id"])}
            params.update(stream.filter_params)
            page = stream.coupa.request("GET", stream.path, params=params, scope=stream.scope)
            self.requests += 1
            rows = page if isinstance(page, list) else []
            found = [int(r["id"]) for r in rows if isinstance(r, dict) and "id" in r]
            ids.extend(found)
            if len(rows) < PAGE_SIZE or not found:
                return ids
            after = max(found)

    def run(self) -> None:
        """List, compare with what the warehouse holds, emit the deleted, store the new list."""
        stream = self.stream
        state = stream.get_context_state(None)
        query = checkpoints.fingerprint(None, stream.filter_params)
        stored = state.get(STATE_KEY)
        previous: list[int] | None = None
        same = (
            isinstance(stored, Mapping)
            and stored.get("version") == VERSION
            and stored.get("query") == query
        )
        if same and isinstance(stored, Mapping) and isinstance(stored.get("ids"), str):
            try:
                previous = idset.decode(stored["ids"])
            except ValueError:
                previous = None
        known = stored.get("count") if same and isinstance(stored, Mapping) else None
        if isinstance(known, int) and known > MAX_TRACKED_IDS:
            self._skip(known)
            return
        present = self.present_ids()
        stream.stats.add(requests=self.requests, pages=self.requests)
        if len(present) > MAX_TRACKED_IDS:
            self._skip(len(present))
            state[STATE_KEY] = {"version": VERSION, "query": query, "count": len(present)}
            return
        now = set(present)
        if previous is None:
            # Baseline: every listed id is in the warehouse, unless a stream map filters
            # records out; then only what this run emitted is known to be there.
            unfiltered = isinstance(stream.stream_maps[0], SameRecordTransform)
            keep = now if unfiltered else now.intersection(self.emitted)
            deleted: list[int] = []
        else:
            held = set(previous).union(self.emitted)
            deleted = sorted(held - now)
            keep = now & held
        self._emit(deleted)
        state[STATE_KEY] = {
            "version": VERSION,
            "query": query,
            "count": len(keep),
            "ids": idset.encode(keep),
        }
        stream.logger.info(
            "Deletion sweep of '%s': %d requests (1 per %d ids) listed %d ids; %s.",
            stream.name,
            self.requests,
            PAGE_SIZE,
            len(present),
            f"{len(deleted)} deleted records emitted with {DELETED_AT}"
            if previous is not None
            else "first sweep (or new filters): baseline stored, nothing emitted",
        )

    def _skip(self, count: int) -> None:
        self.stream.logger.warning(
            "Deletion sweep of '%s' skipped: %d ids exceed the %d the tap tracks in STATE (it "
            "would cost about %d requests). Remove the stream from `detect_deletes` or narrow "
            "it with `filters`.",
            self.stream.name,
            count,
            MAX_TRACKED_IDS,
            math.ceil(count / PAGE_SIZE),
        )

    def _emit(self, deleted: list[int]) -> None:
        """One marker per deleted id, to every alias the stream maps write (never filtered)."""
        stream = self.stream
        stamp = utc_now().isoformat()
        for rid in deleted:
            marker = {"id": rid, DELETED_AT: stamp}
            for stream_map in stream.stream_maps:
                if isinstance(stream_map, RemoveRecordTransform):
                    continue
                stream._tap.write_message(
                    RecordMessage(
                        stream=stream_map.stream_alias,
                        record=dict(marker),
                        version=stream._stream_version,
                        time_extracted=utc_now(),
                    )
                )
