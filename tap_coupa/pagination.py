"""Keyset pagination: `order_by=id`, `id[gt]=<last id seen>`, 50 records a page.

Coupa promises no order without `order_by`, and offsets shift when records are inserted or
updated during a long sync (skips and duplicates). An id cursor cannot shift. A page shorter
than 50 is the last one, so no extra empty request is made.
"""

from __future__ import annotations

import requests
from singer_sdk.pagination import BaseAPIPaginator

from coupa_api.query import PAGE_SIZE
from coupa_api.responses import decode_json


class KeysetPaginator(BaseAPIPaginator[int]):
    """Token = the last id of the previous page (0 before the first page)."""

    def __init__(self, start_after: int = 0, page_size: int = PAGE_SIZE) -> None:
        super().__init__(start_after)
        self.page_size = page_size

    def has_more(self, response: requests.Response) -> bool:
        """A full page may be followed by more; a short one is the end."""
        page = decode_json(response)
        return isinstance(page, list) and len(page) >= self.page_size

    def get_next(self, response: requests.Response) -> int | None:
        """The highest id on the page (pages are ordered by id)."""
        page = decode_json(response)
        return max(int(row["id"]) for row in page) if page else None
