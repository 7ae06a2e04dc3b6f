"""The write pool: batched look-ups and a bounded set of writers, keeping the target's promises.

Coupa answers one request at a time in tens to hundreds of milliseconds, and allows about 25 per
second: one invoice at a time (look-up, then write) uses a fraction of that. The pool looks
invoices up 50 per request and writes with `max_concurrency` workers, every request through the
run's one CoupaClient (token, rate limiter, retry policy). What the sequential target promised
still holds:

- **No duplicate.** Each write goes through InvoiceWriter.upsert, which never resends a write
  without looking the invoice up again.
- **Records of one invoice apply in input order.** A record whose invoice (supplier + number)
  has an earlier record still in the pool waits for it, and then looks the invoice up afresh.
- **STATE only after the records before it.** A STATE is held until every record received
  before it has an outcome (written, unchanged, conflict or dead-lettered); then the latest
  such STATE is emitted. A record that never finishes (the run stops) holds back every STATE
  after it, so a rerun resumes from before it.
- **Bounded memory.** At most `window` records are in the pool; reading waits for room.

A failure that stops the run (scope missing, Coupa unreachable past the retry budget) stops
new work at once; the reading thread re-raises it at its next call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from coupa_api.errors import CoupaError, CoupaFatalError, CoupaScopeError
from coupa_api.retry import RETRIABLE_EXCEPTIONS
from target_coupa.outcomes import Outcome
from target_coupa.payloads import InvoiceKey, InvoiceRequest
from target_coupa.writer import (
    LOOKUP_BATCH,
    UNKNOWN,
    Existing,
    InvoiceWriter,
    WriteAbortedError,
    WriteResult,
)

#: Default number of concurrent writers: enough to keep 25 requests/s busy at 150 ms per
#: request. Each keeps its connection alive in the run's CoupaClient session, which holds up to
#: coupa_api.client.POOL_SIZE (32) per host; writers beyond that still work, on connections
#: opened and closed per request.
DEFAULT_MAX_CONCURRENCY = 8
#: How long a partial batch of look-ups waits for more records before it is sent, when the
#: writers are about to run out of work (otherwise it waits to fill up: a look-up costs one
#: request whatever it holds).
LINGER_SECONDS = 0.05
#: Granularity of every wait, so that a stopped run is noticed promptly.
_TICK = 0.5

Work = Callable[[InvoiceRequest, Existing], WriteResult]


@dataclass(eq=False)
class Job:
    """One input record on its way to Coupa."""

    seq: int
    key: InvoiceKey
    request: InvoiceRequest
    done: Callable[[WriteResult], None]
    existing: Existing = UNKNOWN
    successor: Job | None = field(default=None, repr=False)


class WritePool:
    """Batched look-ups, concurrent writes, per-invoice order and STATE held back as needed."""

    def __init__(
        self,
        writer: InvoiceWriter,
        work: Work,
        *,
        emit_state: Callable[[dict[str, Any]], None],
        on_stop: Callable[[], None] | None = None,
        logger: logging.Logger,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        window: int | None = None,
    ) -> None:
        self.writer = writer
        self.work = work
        self.emit_state = emit_state
        self.on_stop = on_stop
        self._stop_reported = False
        self.logger = logger
        self.max_concurrency = max(1, max_concurrency)
        self.window = window or max(2 * LOOKUP_BATCH, 25 * self.max_concurrency)
        self._executor = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="coupa-write")
        self._cond = threading.Condition()
        self._seq = 0
        self._unfinished: set[int] = set()
        self._tails: dict[tuple[str, str, str], Job] = {}
        self._batch: list[Job] = []
        self._batch_started = 0.0
        self._states: list[tuple[int, dict[str, Any]]] = []
        self._running = 0
        self._ahead = 0  # records being looked up, or looked up and not yet written
        self._closing = False
        self._fatal: BaseException | None = None
        self._coordinator = threading.Thread(
            target=self._coordinate, name="coupa-lookups", daemon=True
        )
        self._coordinator.start()

    # -- the reading thread -------------------------------------------------------------------
    def submit(
        self, key: InvoiceKey, request: InvoiceRequest, done: Callable[[WriteResult], None]
    ) -> None:
        """Queue one record; `done` gets its result (in a worker, before it counts as done).

        Waits while the pool is full. Raises what stopped the run.
        """
        with self._cond:
            while len(self._unfinished) >= self.window and self._fatal is None:
                self._cond.wait(_TICK)
            self._raise_fatal()
            self._seq += 1
            job = Job(self._seq, key, request, done)
            self._unfinished.add(job.seq)
            earlier = self._tails.get(key.ident)
            self._tails[key.ident] = job
            if earlier is not None:
                earlier.successor = job  # runs when `earlier` is done, with a look-up of its own
                return
            if not self._batch:
                self._batch_started = time.monotonic()
            self._batch.append(job)
            if len(self._batch) >= LOOKUP_BATCH:
                self._cond.notify_all()

    def offer_state(self, state: dict[str, Any]) -> None:
        """Hold `state` until every record received before it has its outcome."""
        with self._cond:
            self._raise_fatal()
            self._states.append((self._seq, state))
            self._emit_ready_states()
            self._raise_fatal()

    def close(self) -> None:
        """Wait until every record has its outcome (or the run stopped); emit what is due."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            while (self._unfinished and self._fatal is None) or self._running:
                self._cond.wait(_TICK)
        self._coordinator.join(timeout=10)
        self._executor.shutdown(wait=True)
        with self._cond:
            self._raise_fatal()
            self._emit_ready_states()

    def _raise_fatal(self) -> None:
        """Re-raise, in the reading thread, what stopped the run (after `on_stop`, once)."""
        if self._fatal is None:
            return
        if self.on_stop is not None and not self._stop_reported:
            self._stop_reported = True
            self.on_stop()
        raise self._fatal

    # -- look-ups -------------------------------------------------------------------------------
    def _coordinate(self) -> None:
        """Send look-ups of up to 50 invoices; a partial batch after a short linger."""
        while True:
            with self._cond:
                while True:
                    if self._fatal is not None or (self._closing and not self._batch):
                        return
                    waited = time.monotonic() - self._batch_started
                    starving = self._ahead < 2 * self.max_concurrency
                    if self._batch and (
                        len(self._batch) >= LOOKUP_BATCH
                        or self._closing
                        or (starving and waited >= LINGER_SECONDS)
                    ):
                        break
                    self._cond.wait(LINGER_SECONDS if self._batch else _TICK)
                batch, self._batch = self._batch[:LOOKUP_BATCH], self._batch[LOOKUP_BATCH:]
                self._batch_started = time.monotonic()
                self._running += 1
                self._ahead += len(batch)
            self._executor.submit(self._look_up, batch)

    def _look_up(self, batch: list[Job]) -> None:
        try:
            found = self.writer.find_many([job.key for job in batch])
        except CoupaScopeError as exc:
            self._stop(exc)
            found = {}
        except RETRIABLE_EXCEPTIONS as exc:
            msg = (
                f"Coupa stayed unreachable while looking up {len(batch)} invoice(s) ({exc}); "
                "giving up. Records after the last emitted STATE were not acknowledged: run "
                "again to resume."
            )
            abort = WriteAbortedError(msg)
            abort.__cause__ = exc
            self._stop(abort)  # one sentence, not "a write worker failed" with a traceback
            found = {}
        except CoupaFatalError as exc:
            # e.g. Coupa refused the batched query: each record looks itself up
            self.logger.warning("A batched look-up was refused (%s); looking up one by one.", exc)
            found = {}
        except BaseException as exc:
            self._stop(exc)
            found = {}
        with self._cond:
            self._running -= 1
            self._ahead -= len(batch)
            if self._fatal is None:
                for job in batch:
                    job.existing = found.get(job.key.ident, UNKNOWN)
                    self._start(job)
            self._cond.notify_all()

    # -- writes ---------------------------------------------------------------------------------
    def _start(self, job: Job) -> None:
        """Hand `job` to a worker (call with the lock held)."""
        self._running += 1
        self._ahead += 1
        self._executor.submit(self._write, job)

    def _write(self, job: Job) -> None:
        result: WriteResult | None = None
        try:
            if self._fatal is None:
                result = self._attempt(job)
        except BaseException as exc:
            self._stop(exc)
        finally:
            with self._cond:
                self._running -= 1
                self._ahead -= 1
                if result is not None and self._fatal is None:
                    self._finish(job)
                self._cond.notify_all()

    def _attempt(self, job: Job) -> WriteResult:
        try:
            result = self.work(job.request, job.existing)
        except (CoupaScopeError, WriteAbortedError):
            raise
        except CoupaFatalError as exc:
            errors = tuple(exc.coupa_errors) or (str(exc),)
            result = WriteResult(Outcome.REJECTED, status=exc.status, errors=errors, stage="lookup")
        except RETRIABLE_EXCEPTIONS as exc:
            msg = (
                f"Coupa stayed unreachable while writing {job.key} ({exc}); giving up. Records "
                "after the last emitted STATE were not acknowledged: run again to resume."
            )
            raise WriteAbortedError(msg) from exc
        job.done(result)  # logged and dead-lettered before the record counts as done
        return result

    def _finish(self, job: Job) -> None:
        """Mark `job` done, start the next record of its invoice, emit due STATEs (lock held)."""
        self._unfinished.discard(job.seq)
        if job.successor is not None:
            job.successor.existing = UNKNOWN
            self._start(job.successor)
        elif self._tails.get(job.key.ident) is job:
            del self._tails[job.key.ident]
        self._emit_ready_states()

    def _emit_ready_states(self) -> None:
        """Emit the latest STATE whose records all have outcomes (lock held)."""
        oldest = min(self._unfinished) if self._unfinished else None
        ready = None
        while self._states and (oldest is None or self._states[0][0] < oldest):
            ready = self._states.pop(0)[1]
        if ready is not None:
            try:
                self.emit_state(ready)
            except Exception as exc:  # e.g. the reader of our stdout went away
                self._fatal = self._fatal or exc
                self._cond.notify_all()

    def _stop(self, exc: BaseException) -> None:
        with self._cond:
            if self._fatal is None:
                if not isinstance(exc, CoupaError | KeyboardInterrupt | SystemExit):
                    self.logger.error("A write worker failed unexpectedly.", exc_info=exc)
                self._fatal = exc
            self._cond.notify_all()
