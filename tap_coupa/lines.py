"""Line streams: lines embedded in their parent's payload, emitted page by page.

`invoice_lines`, `purchase_order_lines`, ... cost no request: the parent's records carry them
(`invoice-lines`, ...). The parent's `LineFeed` collects the lines of every record the parent's
stream map keeps (as singer-sdk does for child streams) and, once the page's last record has
been written, hands them to each line stream, which emits them as one child sync. Pages are
emitted in one thread (tap_coupa.partitions), so however many workers fetch the parent's
pages, each line is emitted once, right after its parent's page, before the STATE that covers
it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from coupa_api.query import to_utc
from tap_coupa import embedded
from tap_coupa.checkpoints import SIGNPOST, mark_resumable
from tap_coupa.client import REPLICATION_KEY, CoupaStream
from tap_coupa.custom_fields import finish_row
from tap_coupa.progress import CHILD_SYNC_KEY, quiet_child_syncs

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


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


class EmbeddedLinesStream(CoupaStream):
    """Lines embedded in a parent's payload (`invoice-lines`, ...), emitted without a request.

    Each line gains its parent's id (`<parent>-id`) for joins and its version
    (`<parent>-updated-at`, docs/deletions.md). A line without its own
    `updated-at` inherits the parent's, so the bookmark stays meaningful.
    """

    lines_key: ClassVar[str]
    parent_id_key: ClassVar[str]
    state_partitioning_keys: ClassVar[list[str]] = []
    replication_key = REPLICATION_KEY
    is_sorted = False
    #: Set by the parent's LineFeed when the parent starts reading.
    feed: LineFeed | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A line stream needs its parent's scope: the lines come in the parent's payload."""
        super().__init_subclass__(**kwargs)
        parent = cls.__dict__.get("parent_stream_type")
        if parent is not None:
            cls.scope = parent.scope
            cls.base_schema = embedded.with_document_version(cls.base_schema, cls.parent_id_key)

    def lines_of(self, parent: dict[str, Any]) -> Iterable[dict[str, Any]]:
        """The parent's lines (tap_coupa.embedded: nested paths), tagged with parent ids."""
        for row, ancestors in embedded.walk(self, parent):
            row.update(ancestors)
            row[self.parent_id_key] = parent["id"]
            row[embedded.document_updated_key(self.parent_id_key)] = parent.get(REPLICATION_KEY)
            value = row.get(REPLICATION_KEY) or parent.get(REPLICATION_KEY)
            row[REPLICATION_KEY] = to_utc(value) if isinstance(value, str) else value
            yield row

    def _write_schema_message(self) -> None:
        """Once per run: the SDK repeats it at every child sync, i.e. once per parent page."""
        if not getattr(self, "_schema_sent", False):
            super()._write_schema_message()
            self._schema_sent = True

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The lines the parent buffered for the page just written.

        The SDK writes a STATE at the end of every child sync, which here is every page: the
        lines' state goes out with the parent's instead, at the run's cadence
        (tap_coupa.checkpoints), and at the end of the stream.
        """
        if self.feed is None:
            return
        state = self.get_context_state(context)
        mark_resumable(state)
        if self.feed.signpost is not None:
            state[SIGNPOST] = self.feed.signpost
        lines = self.feed.take(self)
        self.stats.add(records=len(lines))
        yield from lines
        self.state_manager.is_flushed = True

    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """Lines were normalised when taken from the parent; custom fields become columns."""
        return finish_row(self, row)
