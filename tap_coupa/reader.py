"""The concurrent read of one Coupa collection: first page, plan, id ranges, checkpoints.

Apart from singer-sdk: a `Reader` takes what a stream reads (`ReadSpec`: path, scope, filters,
window, `fields` selector, concurrency) and the run's `CoupaClient`, and yields pages. It reads
the first page; when it is full, one probe for the highest id splits what follows into id
ranges that workers read concurrently (tap_coupa.partitions), while pages are yielded in this
thread. Between pages it keeps the stream's resumable `backfill` entry current and says when a
STATE is due (tap_coupa.checkpoints); the bookmark cap is Coupa's clock at the start of the
read. Every request goes through the client's one route (coupa_api.client: URL, encoding,
headers, token, rate limit, retry, classification). The SDK adapter (tap_coupa.client) turns
pages into records, lines and STATE messages.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from coupa_api.client import CoupaClient
from coupa_api.errors import CoupaError, CoupaFatalError
from coupa_api.query import PAGE_SIZE, keyset_page, to_utc
from coupa_api.retry import RETRIABLE_EXCEPTIONS, is_permanent, with_retries
from tap_coupa import checkpoints
from tap_coupa.pages import array_rows
from tap_coupa.pagination import KeysetToken
from tap_coupa.partitions import PartitionedReader, RangeBoard
from tap_coupa.stats import StreamStats

REPLICATION_KEY = "updated-at"
WINDOW_KEY = f"{REPLICATION_KEY}[gt_or_eq]"
#: The range probe's parameters: the highest id only.
PROBE = {"order_by": "id", "dir": "desc", "limit": 1, "fields": '["id"]'}

Record = dict[str, Any]


@dataclass(frozen=True)
class Head:
    """A read's first page, and the newest-id probe when it was sent at the same time."""

    rows: list[Record]
    response: requests.Response
    #: `PROBE`'s answer (the highest id the read matches), what it raised, or None (not sent).
    newest: list[Record] | Exception | None = None


@dataclass(frozen=True)
class ReadSpec:
    """What one read of a stream asks Coupa for."""

    #: Stream name (messages, thread names).
    name: str
    #: `/api/<collection>`, placeholders already filled (sub-resources).
    path: str
    #: The OAuth scope the read needs (named in a 403).
    scope: str
    #: Bookmarked on `updated-at`: the read caps the bookmark at Coupa's clock.
    incremental: bool
    #: Open id ranges are saved in STATE and continued by the next run.
    resumable: bool
    #: The user's Coupa filters for this stream.
    filters: Mapping[str, str] = field(default_factory=dict)
    #: The incremental window (`updated-at[gt_or_eq]`), empty for full-table reads.
    window: Mapping[str, Any] = field(default_factory=dict)
    #: Coupa's `fields=[...]` selector, or None for full records.
    fields: str | None = None
    #: Workers reading id ranges.
    concurrency: int = 1
    #: The path as the stream declares it (`{placeholder}` unfilled), for messages.
    route: str = ""

    @property
    def what(self) -> str:
        """How errors name the read."""
        return f"Stream '{self.name}' (GET {self.route or self.path})"


class Trim:
    """Whether a stream still asks for `fields=` (one per stream: shared by its reads)."""

    def __init__(self) -> None:
        self.refused = False
        self._lock = threading.Lock()

    def refuse(self, name: str, exc: CoupaFatalError, logger: logging.Logger) -> bool:
        """Whether to retry untrimmed: Coupa answered 400 to this stream's `fields=`.

        The catalog can name a field this tenant does not have (a catalog cached from another
        tenant, a custom field since removed, a documented field the tenant's release lacks);
        Coupa then refuses the whole request. Full records hold every selected field (the SDK
        still drops deselected ones), so the run goes on untrimmed, with one warning.
        """
        if exc.status != 400:
            return False
        with self._lock:
            if not self.refused:
                self.refused = True
                logger.warning(
                    "Stream '%s': Coupa refused the trimmed request (%s); reading full records "
                    "instead. The catalog names a field this tenant does not have: run "
                    "discovery again (`--discover`) to trim requests again.",
                    name,
                    exc,
                )
        return True


class Reader:
    """Reads one `ReadSpec` through one client; `pages(state)` yields what to emit."""

    def __init__(
        self,
        spec: ReadSpec,
        client: CoupaClient,
        *,
        stats: StreamStats,
        logger: logging.Logger,
        trim: Trim | None = None,
        on_retry: Callable[[], None] | None = None,
        on_response: Callable[[requests.Response], None] | None = None,
    ) -> None:
        self.spec = spec
        self.client = client
        self.stats = stats
        self.logger = logger
        self.trim = trim or Trim()
        #: The bookmark cap of this read (set before the first page is yielded).
        self.signpost: str | None = None
        self._on_response = on_response
        self._get = with_retries(self._attempt, client.policy, logger, on_retry=on_retry)

    # -- one page -----------------------------------------------------------------------------
    def params(self, token: KeysetToken) -> dict[str, Any]:
        """Keyset page (or the probe) + `fields` trimming + the user's filters + the window."""
        spec = self.spec
        params: dict[str, Any]
        if token.newest_first:
            params = dict(PROBE)
        else:
            params = keyset_page(token.after, upper_id=token.upper)
            if spec.fields is not None and not self.trim.refused:
                params["fields"] = spec.fields
        params.update(spec.filters)
        params.update(spec.window)
        return params

    def _observe(self, response: requests.Response) -> None:
        self.stats.add(requests=1, throttled=int(response.status_code == 429))
        if self._on_response is not None:
            self._on_response(response)

    def _attempt(self, params: Mapping[str, Any]) -> tuple[list[Record], requests.Response]:
        """One attempt; a 2xx that is not an array is retried (tap_coupa.pages)."""
        spec = self.spec
        response = self.client.send(
            "GET", spec.path, params=params, scope=spec.scope, what=spec.what, observe=self._observe
        )
        return array_rows(response, what=spec.what), response

    def fetch(
        self, token: KeysetToken, *, retry: bool = True
    ) -> tuple[list[Record], requests.Response]:
        """One page with retries, or one attempt (safe to call from worker threads)."""
        get = self._get if retry else self._attempt
        params = self.params(token)
        try:
            rows, response = get(params)
        except CoupaFatalError as exc:
            trimmed = "fields" in params and not token.newest_first
            if not (trimmed and self.trim.refuse(self.spec.name, exc, self.logger)):
                raise
            rows, response = get(self.params(token))
        self.stats.add(pages=1, bytes=len(response.content))
        return rows, response

    def fetch_head(self) -> Head:
        """The first page and, at the same time, the newest-id probe `_plan` needs.

        Sent together they cost one round trip before the id ranges start instead of two
        (about 0.2 s of a 10,000-invoice read at Coupa's latency); the probe is a wasted
        request only when the first page is not full. It is one attempt, so the first page
        never waits on the probe's retries (minutes, on a tenant that keeps answering it 5xx,
        for a probe a short first page does not even need). An error that a retry could heal
        leaves it to `_plan`, which sends it again with retries as before the probe moved; any
        other error is raised by `_plan` when the page is full, where it was raised before,
        without sending it again.
        """
        newest: list[list[Record] | Exception] = []

        def probe() -> None:
            try:
                newest.append(self.fetch(KeysetToken(newest_first=True), retry=False)[0])
            except RETRIABLE_EXCEPTIONS as exc:
                if is_permanent(exc):  # no DNS name, a bad certificate: retries never heal it
                    newest.append(exc)
            except Exception as exc:  # raised by `_plan`, only if the range split needs it
                newest.append(exc)

        thread = threading.Thread(target=probe, name=f"{self.spec.name}-probe", daemon=True)
        thread.start()
        try:
            rows, response = self.fetch(KeysetToken())
        finally:
            thread.join()
        return Head(rows, response, newest[0] if newest else None)

    # -- the read -----------------------------------------------------------------------------
    @property
    def query(self) -> str:
        """The fingerprint saved cursors belong to (checkpoints.fingerprint)."""
        return checkpoints.fingerprint(self.spec.window.get(WINDOW_KEY), self.spec.filters)

    def resumes(self, state: Mapping[str, Any]) -> bool:
        """Whether `state` holds open ranges this read continues (no first page then)."""
        return self.spec.resumable and checkpoints.resume_entry(state, self.query) is not None

    def pages(
        self,
        state: dict[str, Any],
        checkpoint: Callable[[], None],
        first_page: Head | None = None,
    ) -> Iterator[list[Record]]:
        """First page, then the rest in concurrent id ranges; resumes saved ranges.

        `state` is the stream's state dict: the `backfill` entry and the signpost are kept in
        it. Code after each `yield` runs once the caller has emitted the page, so the cursors
        move, and `checkpoint` (write a STATE) is called, only for pages already written.
        `first_page`: the first page, already read (`fetch_head`, during the run's tenant
        check, tap_coupa.tenant).
        """
        spec = self.spec
        if spec.incremental:
            checkpoints.mark_resumable(state)
        query = self.query
        entry = checkpoints.resume_entry(state, query) if spec.resumable else None
        first: list[Record] = []
        board: RangeBoard | None = None
        if entry is not None:
            signpost = entry.get("signpost")
            board = RangeBoard(
                [(a, u) for a, u in entry["ranges"]], top=entry["top"], rate=self._rate
            )
            self.logger.info(
                "Resuming '%s' where the last run stopped: %d id ranges open.",
                spec.name,
                len(entry["ranges"]),
            )
        else:
            head = first_page or Head(*self.fetch(KeysetToken()))
            first = head.rows
            signpost = self._clock_cap(head.response) if spec.incremental else None
            if len(first) >= PAGE_SIZE:
                board = self._plan(first, head.newest)
        if spec.incremental and isinstance(signpost, str):
            state[checkpoints.SIGNPOST] = signpost
            self.signpost = signpost
        self.stats.add(records=len(first))
        if board is None:
            yield first
            checkpoints.close_entry(state)
            return

        def fetch_range(after: int, upper: int | None) -> list[Record]:
            rows, response = self.fetch(KeysetToken(after, upper))
            board.note_round_trip(response.elapsed.total_seconds())
            return rows

        reader = PartitionedReader(
            board,
            fetch_range,
            workers=spec.concurrency,
            name=f"{spec.name}-range",
        )
        reader.start()
        cadence = checkpoints.Cadence()
        cadence.add(len(first))
        try:
            yield first
            for page in reader.pages():
                yield page.records
                board.emitted(page)
                self.stats.add(records=len(page.records))
                known, done = board.progress()
                self.stats.set_range(known=known, done=done)
                # The cursors move only with a checkpoint, which also saves the ids the deletion
                # sweep must keep: any STATE (the SDK's own, the one it writes on SIGTERM)
                # then pairs cursors with the ids emitted before them.
                if spec.resumable and cadence.add(len(page.records)):
                    checkpoints.write_entry(
                        state,
                        query=query,
                        ranges=board.open_ranges(),
                        top=board.top,
                        signpost=signpost if isinstance(signpost, str) else None,
                        emitted=cadence.emitted,
                    )
                    checkpoint()
        finally:
            reader.close()
        checkpoints.close_entry(state)

    def _plan(
        self, first: list[Record], newest: list[Record] | Exception | None = None
    ) -> RangeBoard:
        """Split what follows a full first page into ranges, from the highest id (one probe).

        `newest`: the probe's answer (or what it raised) when `fetch_head` sent it with the
        first page.
        """
        if isinstance(newest, Exception):
            raise newest
        last = max(int(r["id"]) for r in first)
        low = min(int(r["id"]) for r in first)
        rows = newest if newest is not None else self.fetch(KeysetToken(newest_first=True))[0]
        top = max([last, *(int(r["id"]) for r in rows if "id" in r)])
        density = len(first) / max(1, last - low + 1)
        expected = (top - last) * density
        parts = max(1, min(self.spec.concurrency, math.ceil(expected / (2 * PAGE_SIZE))))
        return RangeBoard.split(last, top, parts, density=density, rate=self._rate)

    def _rate(self) -> float | None:
        """The run's request rate now (None: unpaced), which a range split is weighed against."""
        return self.client.limiter.rate

    def _clock_cap(self, response: requests.Response) -> str | None:
        """The bookmark cap: Coupa's clock at the start of the read (checkpoints module doc)."""
        when = checkpoints.coupa_clock(response)
        if when is not None:
            return checkpoints.cap_from_clock(when)
        # No Date header: the newest updated-at is a lower bound of Coupa's clock now.
        spec = self.spec
        params = {"order_by": "updated_at", "dir": "desc", "limit": 1, **spec.filters}
        try:
            rows = self.client.request("GET", spec.path, params=params, scope=spec.scope)
        except CoupaError as exc:
            self.logger.warning(
                "Stream '%s': Coupa sent no Date header and refused the newest-record probe "
                "(%s); the bookmark is not capped at the start of the read.",
                spec.name,
                exc,
            )
            return None
        values = [r.get(REPLICATION_KEY) for r in rows if isinstance(r, dict)]
        return to_utc(values[0]) if values and isinstance(values[0], str) else None
