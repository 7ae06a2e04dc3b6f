"""Per-stream counters that a progress reporter can read while a sync runs.

Workers (fetching pages) and the main thread (emitting records) both add to them, so every
update and every read takes the stream's lock. Read with `snapshot()`: a frozen copy, consistent
within one stream. The run-wide 429/retry totals live in the rate controller
(`CoupaClient.limiter.counters()`); these are the same events, attributed to a stream.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StreamProgress:
    """What one stream has done so far (a snapshot)."""

    stream: str
    records: int
    pages: int
    requests: int
    throttled: int
    retries: int
    bytes: int
    #: Parents deleted between their page and this sub-resource's read (their rows skipped).
    skipped: int
    #: Size of the id range being read (highest id - lowest id), None until it is known or for
    #: streams read in one pass.
    ids_known: int | None
    #: How much of that id range has been read and emitted.
    ids_done: int
    started: float | None
    finished: float | None

    @property
    def fraction_done(self) -> float | None:
        """Share of the id range done (0..1), when the range is known."""
        if not self.ids_known:
            return None
        return min(1.0, self.ids_done / self.ids_known)


@dataclass
class StreamStats:
    """Thread-safe counters of one stream (`add` from any thread, `snapshot` to read)."""

    stream: str
    records: int = 0
    pages: int = 0
    requests: int = 0
    throttled: int = 0
    retries: int = 0
    bytes: int = 0
    skipped: int = 0
    ids_known: int | None = None
    ids_done: int = 0
    started: float | None = None
    finished: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(
        self,
        *,
        records: int = 0,
        pages: int = 0,
        requests: int = 0,
        throttled: int = 0,
        retries: int = 0,
        bytes: int = 0,
        skipped: int = 0,
    ) -> None:
        """Add to the counters (any thread)."""
        with self._lock:
            if self.started is None:
                self.started = time.monotonic()
            self.records += records
            self.pages += pages
            self.requests += requests
            self.throttled += throttled
            self.retries += retries
            self.bytes += bytes
            self.skipped += skipped

    def set_range(self, *, known: int | None, done: int) -> None:
        """Record the id range's size and how much of it is done."""
        with self._lock:
            self.ids_known = known
            self.ids_done = done

    def finish(self) -> None:
        """Mark the stream complete."""
        with self._lock:
            self.finished = time.monotonic()
            if self.ids_known is not None:
                self.ids_done = self.ids_known

    def snapshot(self) -> StreamProgress:
        """A consistent copy of the counters."""
        with self._lock:
            return StreamProgress(
                stream=self.stream,
                records=self.records,
                pages=self.pages,
                requests=self.requests,
                throttled=self.throttled,
                retries=self.retries,
                bytes=self.bytes,
                skipped=self.skipped,
                ids_known=self.ids_known,
                ids_done=self.ids_done,
                started=self.started,
                finished=self.finished,
            )
