"""Keyset pagination: `order_by=id`, `id[gt]=<last id seen>`, 50 records a page.

Coupa promises no order without `order_by`, and offsets shift when records are inserted or
updated during a long sync (skips and duplicates). An id cursor cannot shift. A token may carry
an upper id bound (`id[lt_or_eq]`), so that id ranges of one stream are read concurrently
(tap_coupa.partitions), or ask for the highest id only (the range probe). The reader
(tap_coupa.reader) turns a token into query parameters; a range ends at its first page shorter
than 50 or at its upper bound (tap_coupa.partitions.RangeBoard).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeysetToken:
    """One request's place in the id order."""

    #: Records with an id strictly greater than this.
    after: int = 0
    #: ...and at most this (None: no upper bound).
    upper: int | None = None
    #: The range probe: only the highest id (`order_by=id&dir=desc&limit=1&fields=["id"]`).
    newest_first: bool = False
