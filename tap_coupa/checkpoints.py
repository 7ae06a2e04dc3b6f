"""What a stream's STATE carries while it runs: resumable cursors and Coupa's clock.

**Resume.** While a stream is read in id ranges (tap_coupa.partitions), its state holds a
`backfill` entry: the open ranges as `[emitted, upper]` pairs (at most a few per worker), the
highest id known and the query they belong to. A run started with that state continues each
range after its `emitted` cursor instead of starting over. The entry is tied to the query
(`since` = the `updated-at[gt_or_eq]` lower bound, and the user's filters): if either changed,
the cursors mean nothing and the stream starts over. When the stream completes, the entry is
emptied rather than removed, because Meltano's `merge` state strategy merges dictionaries key
by key and would otherwise bring back a stale entry (see `close_entry`).

**Cadence.** STATE goes out at page boundaries, after the page's records (and lines), when
`STATE_EVERY_SECONDS` have passed or enough records have gone out since the last one (the
larger of `STATE_EVERY_RECORDS` and `STATE_EVERY_SHARE` of the records so far): under 1,000
records, or 10 %, are read again after a `kill -9`. The replication-key bookmark itself still
moves only when the stream completes (the SDK's progress markers).

**Clock.** The bookmark is capped (SDK "signpost") at Coupa's clock when the read began, taken
from the `Date` header of the stream's first response minus a margin, never from the tap
host's clock: a host clock ahead of Coupa's would let the bookmark pass updates made during the
run in ranges already read.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import time
from collections.abc import Mapping
from typing import Any

import orjson
import requests

ENTRY = "backfill"
SIGNPOST = "replication_key_signpost"
PROGRESS = "progress_markers"
VERSION = 1
#: Coupa's Date minus this is the cap: a page can take seconds to render, and app servers'
#: clocks may differ from the front end's by a little.
CLOCK_MARGIN = dt.timedelta(seconds=60)
#: STATE at least this often (seconds) while records flow, and after this many records...
STATE_EVERY_SECONDS = 2.0
STATE_EVERY_RECORDS = 900
#: ...or this share of the records emitted so far, whichever is larger.
STATE_EVERY_SHARE = 0.09
#: Replaces the SDK's "Progress is not resumable if interrupted" note: it is resumable now.
RESUMABLE_NOTE = "Bookmark promoted when the stream completes; `backfill` holds the cursors."


def fingerprint(since: str | None, filters: Mapping[str, Any]) -> str:
    """Identifies the query the cursors belong to."""
    blob = orjson.dumps({"since": since, "filters": dict(filters)}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()[:16]


def resume_entry(state: Mapping[str, Any], query: str) -> dict[str, Any] | None:
    """The open ranges to continue, or None to start over (none saved, or another query)."""
    entry = state.get(ENTRY)
    if not isinstance(entry, Mapping) or entry.get("version") != VERSION:
        return None
    ranges = entry.get("ranges")
    if entry.get("query") != query or not isinstance(ranges, list):
        return None
    valid = all(
        isinstance(r, list)
        and len(r) == 2
        and isinstance(r[0], int)
        and (r[1] is None or isinstance(r[1], int))
        for r in ranges
    )
    return dict(entry) if valid and isinstance(entry.get("top"), int) else None


def write_entry(
    state: dict[str, Any],
    *,
    query: str,
    ranges: list[list[int | None]],
    top: int,
    signpost: str | None,
    emitted: int,
) -> None:
    """Record the open ranges (complete every time: Meltano may merge it over an older one)."""
    state[ENTRY] = {
        "version": VERSION,
        "query": query,
        "ranges": ranges,
        "top": top,
        "signpost": signpost,
        "emitted": emitted,
    }


def close_entry(state: dict[str, Any]) -> None:
    """The stream completed: no cursors to resume (an empty entry, not absent; see module doc).

    Not null either: Meltano's merge descends into a key whose new value is a dict, and fails
    on a stored null (`'NoneType' object does not support item assignment`) the next time a
    backfill starts. Every leaf of the entry is a scalar or a list, which merge replaces whole.
    """
    if ENTRY in state:
        state[ENTRY] = {
            "version": VERSION,
            "query": None,
            "ranges": [],
            "top": None,
            "signpost": None,
            "emitted": 0,
        }


def mark_resumable(state: dict[str, Any]) -> None:
    """Open the SDK's progress markers ourselves, so it does not warn they are not resumable."""
    markers = state.get(PROGRESS)
    if not isinstance(markers, dict):
        state[PROGRESS] = {"Note": RESUMABLE_NOTE}
    else:
        markers["Note"] = RESUMABLE_NOTE


def coupa_clock(response: requests.Response) -> dt.datetime | None:
    """Coupa's time when it answered (`Date` header), None when absent or unreadable."""
    value = response.headers.get("Date")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC)


def cap_from_clock(when: dt.datetime) -> str:
    """The bookmark cap for a read that began at Coupa time `when` (UTC ISO, like bookmarks)."""
    return (when - CLOCK_MARGIN).astimezone(dt.UTC).replace(microsecond=0).isoformat()


class Cadence:
    """Decides when the next STATE is due (records and seconds since the last one)."""

    def __init__(self) -> None:
        self.emitted = 0
        self.since_state = 0
        self.last = time.monotonic()

    def add(self, records: int) -> bool:
        """Count emitted records; True when a STATE should go out now."""
        self.emitted += records
        self.since_state += records
        threshold = max(STATE_EVERY_RECORDS, int(self.emitted * STATE_EVERY_SHARE))
        due = self.since_state >= threshold or (
            self.since_state > 0 and time.monotonic() - self.last >= STATE_EVERY_SECONDS
        )
        if due:
            self.since_state = 0
            self.last = time.monotonic()
        return due
