"""Line streams: lines embedded in their parent's payload, emitted page by page.

`invoice_lines`, `purchase_order_lines`, ... cost no request: the parent's records carry them
(`invoice-lines`, ...). The parent's `LineFeed` (tap_coupa.linefeed) sets them aside per page
and, once the page is written, syncs each line stream, which emits them as one child sync:
each line once, right after its parent's page, before the STATE that covers it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from typing_extensions import override

from coupa_api.query import to_utc
from tap_coupa import embedded
from tap_coupa.checkpoints import SIGNPOST, mark_resumable
from tap_coupa.child_streams import ChildStream
from tap_coupa.client import REPLICATION_KEY
from tap_coupa.custom_fields import finish_row
from tap_coupa.linefeed import LineFeed

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

__all__ = ["EmbeddedLinesStream", "LineFeed"]


class EmbeddedLinesStream(ChildStream):
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
    fed_by_parent_page = True
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

    @override
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
        self.state_goes_with_parent()

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """Lines were normalised when taken from the parent; custom fields become columns."""
        return finish_row(self, row)
