"""Concurrent keyset partitions of one stream: id ranges read by a bounded pool of workers.

One page at a time leaves 95 % of Coupa's request budget unused (each page waits ~150 ms or
more). The stream's id range is split into ranges, each a keyset cursor
(`id[gt]=<after>&id[lt_or_eq]=<upper>&order_by=id`); up to `workers` threads read them through
the run's one client (token, retries, rate controller). A worker whose range is exhausted
splits the largest remaining range in two (work stealing): ids are skewed and a filtered range
can be empty, so an even first split is only a starting point. A split costs one request (two
ranges end in a short page where one did), so under a rate limit it waits until it pays: until
the largest range, read one page after another, would take longer than the limit needs for all
that is left (`RangeBoard.rate`, `note_round_trip`).

Workers only fetch. Pages go through a bounded queue to the caller's thread, which emits them
(singer-sdk's message writing is not thread-safe) and then calls `RangeBoard.emitted`: each
range keeps two cursors, `after` (fetched) and `emitted`. Only `emitted` goes into STATE, so a
resumed run never skips a record that was fetched but not written. The last range has no upper
bound, so records inserted during the sync (higher ids) are read too.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from coupa_api.query import PAGE_SIZE

Record = dict[str, Any]
#: `fetch(after, upper)`: one page of records with after < id <= upper, ascending by id.
Fetch = Callable[[int, "int | None"], list[Record]]

_POLL_SECONDS = 0.2
#: How much one round trip moves the smoothed one (`RangeBoard.note_round_trip`).
ROUND_TRIP_WEIGHT = 0.2
#: The caller waited this long for a page: one more worker would help.
SPAWN_AFTER_SECONDS = 0.02


@dataclass(eq=False)
class KeyRange:
    """One id range (`after`, `upper`] of a stream; `upper` None is open-ended."""

    after: int
    upper: int | None
    emitted: int
    start: int
    claimed: bool = False
    exhausted: bool = False
    pending: int = 0
    fetched: int = 0

    def span(self, top: int) -> int:
        """Ids left to fetch (an open range counts up to the highest id known)."""
        end = self.upper if self.upper is not None else max(top, self.after)
        return max(0, end - self.after)


@dataclass(frozen=True)
class Page:
    """Records of one range, fetched by a worker, to be emitted in the caller's thread."""

    key_range: KeyRange
    records: list[Record]


class RangeBoard:
    """The open ranges of one stream, shared by its workers; every method takes the lock."""

    def __init__(
        self,
        ranges: Sequence[tuple[int, int | None]],
        *,
        top: int,
        density: float = 1.0,
        rate: Callable[[], float | None] | None = None,
    ) -> None:
        self.top = top
        self.density = min(1.0, max(density, 1e-6))
        self.ranges = [KeyRange(after=a, upper=u, emitted=a, start=a) for a, u in ranges]
        self.low = min((a for a, _ in ranges), default=0)
        #: The requests per second the run may send now (None: unpaced); no `rate`, every
        #: split that leaves two pages on each side is made at once.
        self.rate = rate
        #: A page's round trip, smoothed (`note_round_trip`); 0 until one is known.
        self.round_trip = 0.0
        #: Every method holds it; a worker waiting for a split to pay waits on it too.
        self._lock = threading.Condition()

    @classmethod
    def split(
        cls,
        after: int,
        top: int,
        parts: int,
        *,
        density: float = 1.0,
        rate: Callable[[], float | None] | None = None,
    ) -> RangeBoard:
        """(`after`, top] in `parts` even ranges, the last one open-ended."""
        parts = max(1, min(parts, top - after)) if top > after else 1
        step = (top - after) / parts
        bounds = [after + round(step * i) for i in range(parts)] + [None]
        ranges = [(bounds[i], bounds[i + 1]) for i in range(parts)]
        return cls(ranges, top=top, density=density, rate=rate)  # type: ignore[arg-type]

    # -- workers ------------------------------------------------------------------------------
    def claim(self, stop: threading.Event | None = None) -> KeyRange | None:
        """A range to read: an unclaimed one, else half of the largest remaining (stealing).

        None when nothing is left worth splitting. A split that does not pay yet (`_pays`) is
        waited for while `stop` is given and not set: each page fetched elsewhere brings it
        closer, and a range that ends leaves nothing to wait for.
        """
        with self._lock:
            while True:
                for key_range in self.ranges:
                    if not key_range.claimed and not key_range.exhausted:
                        key_range.claimed = True
                        return key_range
                busy = [r for r in self.ranges if r.claimed and not r.exhausted]
                victim = max(busy, key=self._remaining, default=None)
                if victim is None or not self._splittable(victim):
                    return None
                if self._pays(victim, busy):
                    return self._steal(victim)
                if stop is None or stop.is_set():
                    return None
                self._lock.wait(_POLL_SECONDS)

    def note_round_trip(self, seconds: float) -> None:
        """One page's time on the wire (not its wait for a permit), for `_pays`."""
        with self._lock:
            smoothed = self.round_trip or seconds
            self.round_trip = smoothed + ROUND_TRIP_WEIGHT * (seconds - smoothed)

    def _remaining(self, key_range: KeyRange) -> float:
        covered = key_range.after - key_range.start
        density = key_range.fetched / covered if covered > 0 else self.density
        return key_range.span(self.top) * density

    def _splittable(self, victim: KeyRange) -> bool:
        return self._remaining(victim) >= 2 * PAGE_SIZE and victim.span(self.top) >= 2

    def _pays(self, victim: KeyRange, busy: list[KeyRange]) -> bool:
        """Whether splitting `victim` ends the read sooner than the extra request costs.

        Paced at `rate`, what is left takes `pages / rate` however it is split; `victim` alone
        takes its pages times a round trip. While the first is longer, the rate limit is the
        bottleneck and a split only adds a request (a 10,000-invoice read sent 2-5 more than
        the ideal reader of benchmarks/throughput.py, 40 ms each at Coupa's rate).
        """
        rate = self.rate() if self.rate is not None else None
        if not rate or self.round_trip <= 0:
            return True

        def pages(key_range: KeyRange) -> int:
            return math.ceil(self._remaining(key_range) / PAGE_SIZE)

        return pages(victim) * self.round_trip > sum(map(pages, busy)) / rate

    def _steal(self, victim: KeyRange) -> KeyRange:
        mid = victim.after + victim.span(self.top) // 2
        stolen = KeyRange(after=mid, upper=victim.upper, emitted=mid, start=mid, claimed=True)
        victim.upper = mid
        self.ranges.insert(self.ranges.index(victim) + 1, stolen)
        return stolen

    def cursor(self, key_range: KeyRange) -> tuple[int, int | None]:
        """The next request's bounds (`upper` may have shrunk since the last page)."""
        with self._lock:
            return key_range.after, key_range.upper

    def fetched(self, key_range: KeyRange, rows: list[Record]) -> Page:
        """Keep the rows still inside the range and move its fetch cursor past them.

        A steal may have lowered `upper` while the request was in flight: rows above it belong
        to the thief. A short page, or a page reaching past `upper`, exhausts the range.
        """
        with self._lock:
            upper = key_range.upper
            kept = rows if upper is None else [r for r in rows if int(r["id"]) <= upper]
            if kept:
                key_range.after = max(key_range.after, *(int(r["id"]) for r in kept))
            key_range.fetched += len(kept)
            key_range.pending += 1
            if (
                len(rows) < PAGE_SIZE
                or len(kept) < len(rows)
                or (upper is not None and key_range.after >= upper)
            ):
                key_range.exhausted = True
            self._lock.notify_all()  # a waiting split weighs again (`claim`)
            return Page(key_range, kept)

    # -- the emitting thread ------------------------------------------------------------------
    def emitted(self, page: Page) -> None:
        """Every record of `page` has been written: move the range's resumable cursor."""
        with self._lock:
            key_range = page.key_range
            key_range.pending -= 1
            if page.records:
                key_range.emitted = max(key_range.emitted, int(page.records[-1]["id"]))
            if key_range.exhausted and key_range.pending == 0 and key_range in self.ranges:
                self.ranges.remove(key_range)

    def open_ranges(self) -> list[list[int | None]]:
        """[emitted, upper] of every unfinished range: where a resumed run continues."""
        with self._lock:
            return [[r.emitted, r.upper] for r in self.ranges]

    def progress(self) -> tuple[int, int]:
        """(ids in the whole range, ids done) for progress reports."""
        with self._lock:
            known = max(0, self.top - self.low)
            left = sum(
                max(0, (r.upper if r.upper is not None else self.top) - r.emitted)
                for r in self.ranges
            )
            return known, max(0, known - left)


class PartitionedReader:
    """Runs `workers` threads over a RangeBoard; `pages()` yields their pages as they come.

    The queue holds at most `depth` pages, so memory stays flat however far the workers could
    run ahead. The first worker error stops the others and is raised in the caller's thread.
    If the caller stops early (an error, a record limit), the workers stop at their next page.
    """

    def __init__(
        self,
        board: RangeBoard,
        fetch: Fetch,
        *,
        workers: int,
        depth: int | None = None,
        name: str = "partition",
    ) -> None:
        self.board = board
        self.fetch = fetch
        self.workers = max(1, workers)
        self.handoff: queue.Queue[Any] = queue.Queue(maxsize=depth or 2 * self.workers)
        self.stop = threading.Event()
        self.name = name
        self._threads: list[threading.Thread] = []
        #: Workers started at once; more join while the caller waits for pages.
        self.initial = 2

    def _put(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.handoff.put(item, timeout=_POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def _work(self) -> None:
        try:
            key_range = self.board.claim(self.stop)
            while key_range is not None and not self.stop.is_set():
                after, upper = self.board.cursor(key_range)
                page = self.board.fetched(key_range, self.fetch(after, upper))
                if not self._put(page):
                    return
                if key_range.exhausted:
                    key_range = self.board.claim(self.stop)
        except BaseException as exc:  # handed to the caller, which re-raises it
            self._put(exc)
        finally:
            self._put(_WorkerDone)

    def start(self) -> None:
        """Start the first workers (they fetch while the caller emits what it already has)."""
        while len(self._threads) < min(self.initial, self.workers):
            self._spawn()

    def _spawn(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def pages(self) -> Iterator[Page]:
        """Pages in arrival order (per range, in id order).

        Workers are added one at a time, up to `workers`, whenever the caller has waited
        `SPAWN_AFTER_SECONDS` for a page, and every `SPAWN_AFTER_SECONDS` until the first page
        arrives: when Coupa is slow (pages take ~150 ms) all of them run within a page's time
        (one per page received left the run's burst unused for its first second); when the
        caller is the bottleneck (a fast Coupa), two suffice and the others would only fight
        over the GIL (and hold pages in memory).
        """
        self.start()
        done = 0
        arrived = False
        try:
            while done < len(self._threads):
                try:
                    item = self.handoff.get(timeout=SPAWN_AFTER_SECONDS)
                except queue.Empty:
                    if len(self._threads) < self.workers:
                        self._spawn()
                        if not arrived:
                            continue  # no page yet: Coupa is slow, one more every 20 ms
                    item = self.handoff.get()
                arrived = True
                if item is _WorkerDone:
                    done += 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers (each stops at its next page) and wait for them briefly."""
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


class _WorkerDone:
    """Sentinel: one worker has nothing left to read."""
