"""Keyset pagination: `order_by=id`, `id[gt]=<last id seen>`, 50 records a page.

Coupa promises no order without `order_by`, and offsets shift when records are inserted or
updated during a long sync (skips and duplicates). An id cursor cannot shift. A page shorter
than 50 is the last one, so no extra empty request is made. A token may also carry an upper id
bound (`id[lt_or_eq]`), so that id ranges of one stream are read concurrently
(tap_coupa.partitions), or ask for the highest id only (the range probe).
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from singer_sdk.pagination import BaseAPIPaginator

from coupa_api.query import PAGE_SIZE
from coupa_api.responses import decode_json


@dataclass(frozen=True)
class KeysetToken:
    """One request's place in the id order."""

    #: Records with an id strictly greater than this.
    after: int = 0
    #: ...and at most this (None: no upper bound).
    upper: int | None = None
    #: The range probe: only the highest id (`order_by=id&dir=desc&limit=1&fields=["id"]`).
    newest_first: bool = False


class KeysetPaginator(BaseAPIPaginator[KeysetToken]):
    """Token = the last id of the previous page (0 before the first page)."""

    def __init__(self, start: KeysetToken | None = None, page_size: int = PAGE_SIZE) -> None:
        super().__init__(start or KeysetToken())
        self.page_size = page_size

    def has_more(self, response: requests.Response) -> bool:
        """A full page may be followed by more; a short one is the end."""
        page = decode_json(response)
        return isinstance(page, list) and len(page) >= self.page_size

    def get_next(self, response: requests.Response) -> KeysetToken | None:
        """After the highest id on the page (pages are ordered by id), same upper bound."""
        page = decode_json(response)
        if not page:
            return None
        current = self.current_value
        return KeysetToken(after=max(int(row["id"]) for row in page), upper=current.upper)
