"""Read one page ahead: fetch page k+1 while page k's records are being written.

A sequential tap waits for every page (latency L) and then spends CPU on its 50 records; the two
can overlap because the keyset cursor of the next page is known as soon as a page is parsed.
A producer thread runs the SDK's own request loop (auth, retries, limiter, paginator unchanged)
and hands over whole pages through a bounded queue, so it is never more than `depth` pages
ahead and memory stays flat. Errors reach the consumer unchanged; if the consumer stops early
(an exception, a record limit), the producer is told to stop and exits at its next hand-over.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_DONE = object()
_POLL_SECONDS = 0.2


def read_ahead(
    source: Iterable[T], *, chunk: int, depth: int = 1, name: str = "prefetch"
) -> Iterator[T]:
    """Yield `source`'s items, produced in a background thread up to `depth` chunks ahead."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=_POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        batch: list[T] = []
        try:
            for item in source:
                batch.append(item)
                if len(batch) >= chunk:
                    if not put(batch):
                        return
                    batch = []
            if batch and not put(batch):
                return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises
            if not batch or put(batch):  # the items before the error still count
                put(exc)

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stop.set()
        worker.join(timeout=5)
