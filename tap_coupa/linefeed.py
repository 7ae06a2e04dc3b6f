"""The parent's side of line streams: lines set aside per page, emitted after the page.

`invoice_lines`, `purchase_order_lines`, ... cost no request: the parent's records carry them
(`invoice-lines`, ...). A parent stream's `LineFeed` collects the lines of every record the
parent's stream map keeps (as singer-sdk does for child streams) and, once the page's last
record has been written, hands them to each line stream, which emits them as one child sync.
Pages are emitted in one thread (tap_coupa.reader), so however many workers fetch the parent's
pages, each line is emitted once, right after its parent's page, before the STATE that covers
it. The line streams themselves are in tap_coupa.lines; this module imports no stream class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_coupa.progress import CHILD_SYNC_KEY, quiet_child_syncs

if TYPE_CHECKING:
    from tap_coupa.client import CoupaStream
    from tap_coupa.lines import EmbeddedLinesStream


class LineFeed:
    """The parent's side: buffers lines per line stream until the page is written."""

    def __init__(self, parent: CoupaStream, children: list[EmbeddedLinesStream]) -> None:
        self.parent = parent
        self.children = children
        self.buffers: dict[str, list[dict[str, Any]]] = {c.name: [] for c in children}
        self.pages = 0
        #: The parent's bookmark cap (Coupa's clock), applied to the lines' bookmarks too.
        self.signpost: str | None = None
        for child in children:
            child.feed = self
            quiet_child_syncs(child.logger)

    def collect(self, row: dict[str, Any]) -> None:
        """Set aside the lines of a parent record the parent's stream map keeps."""
        if not self.children or not self.parent.stream_maps[0].get_filter_result(row):
            return
        for child in self.children:
            self.buffers[child.name].extend(child.lines_of(row))

    def flush(self) -> None:
        """The page's parent records are written: emit their lines (one child sync each)."""
        self.pages += 1
        for child in self.children:
            if self.buffers[child.name]:
                child.sync(context={CHILD_SYNC_KEY: self.pages})

    def take(self, child: EmbeddedLinesStream) -> list[dict[str, Any]]:
        """Hand a line stream its buffered lines and forget them."""
        lines, self.buffers[child.name] = self.buffers[child.name], []
        return lines
