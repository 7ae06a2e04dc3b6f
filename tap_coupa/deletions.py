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

**Never a live record.** Every page of the listing must be a JSON array of `{"id": n}` with ids
above the page's cursor; anything else (a JSON object, no body, HTML, XML, truncated JSON) is
retried like a page of the main read and then fails the run. Markers are emitted only after
the last page, so a listing that did not complete reports nothing and leaves the stored ids
as they were.

**Never a missed deletion.** E is the records as emitted: the ids the stream map's first
mapping wrote (after post-processing, so a `__filter__` on a `custom-fields__<name>` column
sees it). While a backfill runs, every STATE that carries its cursors also carries E so far
(`pending`, a few packed chunks, tap_coupa.idset), so a run killed partway keeps, in the STATE
the next run resumes from, every id it emitted; the next sweep adds them to S.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.mapper import RemoveRecordTransform, SameRecordTransform
from singer_sdk.singerlib import RecordMessage

from coupa_api.errors import CoupaError, CoupaFatalError, CoupaRetriableError, CoupaScopeError
from coupa_api.query import PAGE_SIZE, fields_param, keyset_page
from coupa_api.retry import with_retries
from tap_coupa import checkpoints, idset
from tap_coupa.pages import array_rows

if TYPE_CHECKING:
    from tap_coupa.client import CoupaStream

DELETED_AT = "_sdc_deleted_at"
STATE_KEY = "deletion_sweep"
VERSION = 1
#: Above this many ids a stream's sweep is skipped with a warning: STATE stays small (the worst
#: case, no two ids consecutive, packs 2 million ids in about 2.7 MB) and the sweep's cost in
#: requests (40,000 at this size) stays a deliberate choice.
MAX_TRACKED_IDS = idset.MAX_IDS
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
    """`rows` unchanged; then, when the stream is swept, the sweep (after its last record).

    While the rows flow, `stream.sweep` is set: the stream tells it each id it emits and asks it
    to save the emitted ids with every checkpoint.
    """
    swept = stream.name in configured(stream.tap_config) and stream.parent_stream_type is None
    if not swept or not stream.selected:  # read only for its line streams: nothing to report
        yield from rows
        return
    sweep = Sweep(stream)
    stream.sweep = sweep
    try:
        yield from rows
        sweep.run()
    finally:
        stream.sweep = None


class Pending:
    """The ids emitted in this run (and carried from an interrupted one), packed for STATE.

    A checkpoint packs only the ids emitted since the last one, as a new chunk; a chunk at
    least half the size of the one before merges into it. Each id is packed O(log n) times
    over a run and STATE holds O(log n) chunks, instead of every id again at every checkpoint.
    """

    def __init__(self, carried: list[int]) -> None:
        self.chunks: list[tuple[list[int], str]] = []
        self.fresh: list[int] = list(carried)

    def add(self, rid: int) -> None:
        """One more emitted id."""
        self.fresh.append(rid)

    def ids(self) -> set[int]:
        """Every id held, packed or not."""
        held = set(self.fresh)
        for ids, _ in self.chunks:
            held.update(ids)
        return held

    def packed(self) -> list[str]:
        """The chunks for STATE, the ids since the last call packed in."""
        if self.fresh:
            new = sorted(set(self.fresh))
            self.fresh = []
            self.chunks.append((new, idset.encode(new)))
            while len(self.chunks) > 1 and 2 * len(self.chunks[-1][0]) >= len(self.chunks[-2][0]):
                newer, _ = self.chunks.pop()
                older, _ = self.chunks.pop()
                merged = sorted(set(older).union(newer))
                self.chunks.append((merged, idset.encode(merged)))
        return [text for _, text in self.chunks]


class Sweep:
    """One stream's deletion sweep in one run."""

    def __init__(self, stream: CoupaStream) -> None:
        self.stream = stream
        self.requests = 0
        self.state = stream.get_context_state(None)
        self.query = checkpoints.fingerprint(None, stream.filter_params)
        stored = self.state.get(STATE_KEY)
        self.stored: Mapping[str, Any] = stored if isinstance(stored, Mapping) else {}
        self.pending = Pending(self._carried())

    def _carried(self) -> list[int]:
        """Ids an interrupted run emitted (its last STATE): the warehouse holds them."""
        chunks = self.stored.get("pending")
        if not chunks:
            return []
        ids: list[int] = []
        try:
            if not isinstance(chunks, list) or not all(isinstance(c, str) for c in chunks):
                raise ValueError("not a list of id sets")
            for chunk in chunks:
                ids.extend(idset.decode(chunk, limit=MAX_TRACKED_IDS - len(ids)))
        except ValueError as exc:
            self._refuse("the ids an interrupted run emitted", exc)
            return []
        return ids

    def saw(self, rid: Any) -> None:
        """The stream emitted the record with id `rid` (its first mapping let it through)."""
        if isinstance(rid, int) and not isinstance(rid, bool):
            self.pending.add(rid)

    def save(self, state: dict[str, Any]) -> None:
        """Put the ids emitted so far in `state` (with the checkpoint that moves the cursors)."""
        stored = state.get(STATE_KEY)
        entry = dict(stored) if isinstance(stored, Mapping) else {}
        entry["pending"] = self.pending.packed()
        state[STATE_KEY] = entry

    def _previous(self) -> list[int] | None:
        """The stored ids S, or None for a baseline (none yet, other filters, unusable)."""
        stored = self.stored
        if stored.get("version") != VERSION or stored.get("query") != self.query:
            return None
        text = stored.get("ids")
        if not isinstance(text, str):
            return None
        try:
            return idset.decode(text, limit=MAX_TRACKED_IDS)
        except ValueError as exc:
            self._refuse("the ids of the last sweep", exc)
            return None

    def _refuse(self, what: str, exc: ValueError) -> None:
        self.stream.logger.warning(
            "Deletion sweep of '%s': %s, stored in STATE under `%s`, cannot be used (%s); a "
            "fresh baseline is stored instead, and deletions before this run are not reported "
            "(a full refresh of the stream covers them).",
            self.stream.name,
            what,
            STATE_KEY,
            exc,
        )

    def _list_page(self, after: int) -> list[int]:
        """One page of ids above `after`; a page that is not one is an error (retried)."""
        stream = self.stream
        params = {**keyset_page(after), "fields": fields_param(["id"])}
        params.update(stream.filter_params)
        self.requests += 1
        response = stream.coupa.send("GET", stream.path, params=params, scope=stream.scope)
        what = f"Deletion sweep of '{stream.name}' (GET {stream.path}, ids above {after})"
        return page_ids(response, what=what, after=after)

    def present_ids(self) -> list[int]:
        """Every id Coupa lists now (with the stream's filters), one request per 50 ids.

        Raises:
            CoupaFatalError: a page could not be read (after the retries): the listing is
                incomplete, so nothing may be concluded from it.
        """
        stream = self.stream
        page = with_retries(
            self._list_page, stream.coupa.policy, stream.logger, on_retry=stream._retried
        )
        ids: list[int] = []
        after = 0
        try:
            while True:
                found = page(after)
                ids.extend(found)
                if len(found) < PAGE_SIZE:
                    return ids
                after = found[-1]
        except CoupaScopeError:
            raise
        except (CoupaError, requests.RequestException) as exc:
            msg = (
                f"Deletion sweep of '{stream.name}' stopped after listing {len(ids)} ids: {exc} "
                "No deletion was reported and the stored ids are unchanged; the next run "
                "sweeps again."
            )
            raise CoupaFatalError(msg, status=getattr(exc, "status", None)) from exc

    def run(self) -> None:
        """List, compare with what the warehouse holds, emit the deleted, store the new list."""
        stream = self.stream
        state = self.state
        stored = self.stored
        same = stored.get("version") == VERSION and stored.get("query") == self.query
        known = stored.get("count")
        if same and "ids" not in stored and isinstance(known, int) and known > MAX_TRACKED_IDS:
            self._skip(known)  # the skip marker a sweep above the limit stored
            return
        previous = self._previous()
        present = self.present_ids()
        stream.stats.add(requests=self.requests, pages=self.requests)
        if len(present) > MAX_TRACKED_IDS:
            self._skip(len(present))
            state[STATE_KEY] = {
                "version": VERSION,
                "query": self.query,
                "count": len(present),
                "pending": [],
            }
            return
        now = set(present)
        emitted = self.pending.ids()
        if previous is None:
            # Baseline: every listed id is in the warehouse, unless a stream map filters
            # records out; then only what was emitted is known to be there.
            unfiltered = isinstance(stream.stream_maps[0], SameRecordTransform)
            keep = now if unfiltered else now & emitted
            deleted: list[int] = []
        else:
            held = emitted.union(previous)
            deleted = sorted(held - now)
            keep = now & held
        self._emit(deleted)
        state[STATE_KEY] = {
            "version": VERSION,
            "query": self.query,
            "count": len(keep),
            "ids": idset.encode(keep),
            "pending": [],  # present, not absent: Meltano's merge would bring stale ones back
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
        stamp = dt.datetime.now(dt.UTC).isoformat()
        for rid in deleted:
            marker = {"id": rid, DELETED_AT: stamp}
            for stream_map in stream.stream_maps:
                if isinstance(stream_map, RemoveRecordTransform):
                    continue
                stream.coupa_tap.write_message(
                    RecordMessage(
                        stream=stream_map.stream_alias,
                        record=dict(marker),
                        version=stream.stream_version,
                        time_extracted=dt.datetime.now(dt.UTC),
                    )
                )


def page_ids(response: requests.Response, *, what: str, after: int) -> list[int]:
    """The ids of one listing page, ascending; CoupaRetriableError for anything else.

    A row without an integer id, or with one not above the cursor, is not what Coupa sends for
    `id[gt]` ordered by id: concluding anything from such a page could report live records.
    """
    rows = array_rows(response, what=what)
    ids: list[int] = []
    last = after
    for row in rows:
        rid = row.get("id") if isinstance(row, dict) else None
        if not isinstance(rid, int) or isinstance(rid, bool) or rid <= last:
            msg = (
                f"{what}: Coupa answered {response.status_code} with a row that is not an id "
                f"above {last} in ascending order ({str(row)[:80]}). Retrying; a proxy or a "
                "gateway that rewrote the page looks like this."
            )
            raise CoupaRetriableError(msg, response)
        ids.append(rid)
        last = rid
    return ids
