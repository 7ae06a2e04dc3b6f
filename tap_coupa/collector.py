"""The cyclic garbage collector while a stream is read: out of the way of pages in flight.

Coupa pages are big trees of small objects (50 invoices, ~80 dicts and lists each, decoded by
orjson) that live until their records are written and then die by reference counting: none
of them is cyclic garbage. With CPython's default generation-0 threshold (700 net container
allocations) the collector ran several times while one page was decoded and walked each
half-built page, which then survived into older generations and was walked again there.

So, while a stream reads:
- what was alive when the read began (the SDK, the schemas, the catalog) is frozen out of the
  collector's sight (`gc.freeze`), so no collection walks it again;
- a collection of the youngest generation waits for `READ_THRESHOLD` net allocations, more
  than a page holds, so pages are usually freed before the collector ever sees them.

Measured with valgrind's callgrind over 20,000 invoices at 0 ms latency (instructions, which
the noise of this shared machine does not move; `benchmarks/throughput.py` counts them): 13.42 G
instructions with the default threshold, 12.82 G with this one (-4.5%), peak RSS unchanged
(67 against 68 MB). Cyclic garbage is still collected: a collection runs every
`READ_THRESHOLD` net allocations (tests/tap/test_collector.py), and the default threshold is
back when the read ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Net container allocations between two collections of the youngest generation during a
#: read (CPython's default is 700). Above a page's ~4,000 containers; 10,000 and 1,000,000
#: measured the same.
READ_THRESHOLD = 10_000


#: Reads open now: a sub-resource stream is read inside its parent's read, once per parent
#: record, and only the outermost read freezes, unfreezes and sets the threshold.
_open: list[None] = []


@contextmanager
def reading() -> Iterator[None]:
    """Freeze what is alive and raise the youngest generation's threshold, until the read ends.

    A read inside another leaves both alone: unfreezing at its end would hand everything the
    outer read froze back to the collector (before, each sub-resource read did that).
    """
    if _open:
        _open.append(None)
        try:
            yield
        finally:
            _open.pop()
        return
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(READ_THRESHOLD, before[0]), *before[1:])
    _open.append(None)
    try:
        yield
    finally:
        _open.pop()
        gc.set_threshold(*before)
        gc.unfreeze()
