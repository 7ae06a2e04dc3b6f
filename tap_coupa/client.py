"""CoupaStream: the singer-sdk adapter of a Coupa collection, kept thin.

It knows no endpoint and sends no request itself. Concrete streams (tap_coupa/streams) declare
name, scope and schema; `IncrementalCoupaStream` adds the `updated-at` bookmark. `get_records`
describes the read (`ReadSpec`: path, filters, window, `fields` selector, concurrency) and
hands it to tap_coupa.reader, which reads pages concurrently through the run's one HTTP route
(coupa_api.client); this module emits each page's records, then their lines (tap_coupa.linefeed)
and, when the reader says one is due, a STATE (tap_coupa.checkpoints).

singer-sdk surface beyond its public hooks is listed, and pinned, in tests/tap/test_sdk_pins.py.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Generator, Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from singer_sdk import RESTStream, metrics
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import RecordMessage
from typing_extensions import override

from coupa_api.client import CoupaClient
from coupa_api.query import fields_for, fields_param, instant, to_utc
from tap_coupa import collector, deletions
from tap_coupa.custom_fields import finish_row, source_fields
from tap_coupa.embedded import source_keys
from tap_coupa.linefeed import LineFeed
from tap_coupa.output import flush_writer
from tap_coupa.pagination import KeysetToken
from tap_coupa.reader import REPLICATION_KEY, Head, Reader, ReadSpec, Trim
from tap_coupa.stats import StreamStats

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_coupa.lines import EmbeddedLinesStream
    from tap_coupa.tap import TapCoupa

__all__ = ["REPLICATION_KEY", "CoupaStream", "IncrementalCoupaStream", "KeysetToken"]


#: Workers per stream when `max_concurrency` is not set: at ~150 ms a page and Coupa's 25
#: requests/s, about 4 requests in flight fill the budget; more hide slower pages.
DEFAULT_CONCURRENCY = 8


class CoupaStream(RESTStream[KeysetToken]):
    """A Coupa collection read in keyset pages of 50, with the shared auth/retry/limit policy."""

    #: Coupa resource path segment; the endpoint is `/api/<resource>` (defaults to `name`).
    resource: ClassVar[str | None] = None
    #: The OAuth scope that reading this stream needs.
    scope: ClassVar[str]
    #: The documented fields; discovery adds what an instance has beyond them.
    base_schema: ClassVar[dict[str, Any]]
    primary_keys: ClassVar[tuple[str, ...]] = ("id",)
    #: Fed from its parent's pages (tap_coupa.lines) instead of read: the parent's LineFeed
    #: takes it as a child (this base class does not know the subclass).
    fed_by_parent_page: ClassVar[bool] = False
    #: The deletion sweep of the read in progress (tap_coupa.deletions.around), else None.
    sweep: deletions.Sweep | None = None
    #: Records are already JSON-typed; skip the SDK's per-leaf conformance (46 % of its CPU).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapCoupa, schema: dict[str, Any] | None = None) -> None:
        super().__init__(tap=tap, schema=schema or self.base_schema, name=self.name)
        #: The tap, kept here: singer-sdk keeps it only as the private `_tap`.
        self.coupa_tap = tap
        self.coupa: CoupaClient = tap.coupa
        self.tap_config = tap.config
        self.stats = StreamStats(self.name)
        registry = getattr(tap, "stats", None)
        if isinstance(registry, dict):
            registry[self.name] = self.stats
        #: Whether Coupa refused this stream's `fields=` (shared by its reads).
        self.trim = Trim()
        #: The first page (or what requesting it raised), read early (`read_first_page`).
        self._first_page: tuple[ReadSpec, Head | Exception] | None = None

    # -- where and how ------------------------------------------------------------------------
    @property
    @override
    def path(self) -> str:  # type: ignore[override]
        """`/api/<resource>`."""
        return f"/api/{self.resource or self.name}"

    @property
    @override
    def url_base(self) -> str:
        """The configured instance, normalised."""
        return self.coupa.base_url

    @property
    def max_concurrency(self) -> int:
        """Workers reading this stream's id ranges (`max_concurrency` setting)."""
        return max(1, int(self.tap_config.get("max_concurrency") or DEFAULT_CONCURRENCY))

    def window_params(self, context: Context | None) -> dict[str, Any]:
        """Server-side filters that bound this run (none for full-table streams)."""
        return {}

    @cached_property
    def filter_params(self) -> dict[str, str]:
        """The user's per-stream Coupa filters (`filters.<stream>` setting)."""
        filters = self.tap_config.get("filters") or {}
        return dict(filters.get(self.name) or {})

    @cached_property
    def fields_selector(self) -> str | None:
        """Coupa's `fields=[...]` when the catalog deselects properties, else None (full)."""
        properties: dict[str, Any] = self.schema.get("properties", {})
        selected = source_fields(n for n in properties if self.mask.get(("properties", n), True))
        needed = {"id", *(k for k in (self.replication_key,) if k)}
        needed.update(k for child in self.line_feed.children for k in source_keys(child))
        wanted = [*selected, *(n for n in sorted(needed) if n not in selected)]
        if len(wanted) >= len(source_fields(properties)):
            return None
        return fields_param(fields_for(properties, wanted))

    def early_window(self) -> dict[str, Any] | None:
        """The window of the coming read, asked before singer-sdk sets its starting value.

        None when it cannot be told; full-table streams have none. See `read_first_page`.
        """
        return self.window_params(None)

    def read_spec(self, context: Context | None, window: dict[str, Any] | None = None) -> ReadSpec:
        """What this read asks Coupa for (tap_coupa.reader)."""
        incremental = self.replication_key is not None
        return ReadSpec(
            name=self.name,
            # singer-sdk's public URL hook fills a sub-resource's `{parent_id}` from the context.
            path=self.get_url(context).removeprefix(self.url_base),
            scope=self.scope,
            incremental=incremental,
            # Full-table streams resume too (by id, keyset cursors); not a sub-resource, whose
            # one state entry covers the collections of every parent, nor a stream that
            # announces table versions (singer-sdk's `emit_activate_version_messages`): a new
            # version must carry every row, or a loader would drop the rows read before the
            # interruption.
            resumable=incremental
            or (self.parent_stream_type is None and not self.emit_activate_version_messages),
            filters=self.filter_params,
            window=self.window_params(context) if window is None else window,
            fields=self.fields_selector,
            concurrency=self.max_concurrency,
            route=self.path,
        )

    def _request_metric(
        self, context: Context | None
    ) -> Callable[[requests.Response], None] | None:
        """singer-sdk's per-request `http_request_duration` METRIC, as its request path logs it.

        Only at DEBUG, where tap_coupa.progress lets it through (none is built otherwise).
        """
        if not self.logger.isEnabledFor(logging.DEBUG):
            return None
        tags: dict[str, Any] = {metrics.Tag.STREAM: self.name, metrics.Tag.ENDPOINT: self.path}
        if context:
            tags[metrics.Tag.CONTEXT] = context

        def log(response: requests.Response) -> None:
            status = response.status_code
            point = metrics.Point(
                "timer",
                metric=metrics.Metric.HTTP_REQUEST_DURATION,
                value=response.elapsed.total_seconds(),
                tags={
                    **tags,
                    metrics.Tag.HTTP_STATUS_CODE: status,
                    metrics.Tag.STATUS: (
                        metrics.Status.SUCCEEDED if status < 400 else metrics.Status.FAILED
                    ),
                },
            )
            metrics.log(self.metrics_logger, point=point)

        return log

    def _retried(self) -> None:
        self.coupa.limiter.note_retry()
        self.stats.add(retries=1)

    # -- reading ------------------------------------------------------------------------------
    @override
    def get_replication_key_signpost(self, context: Context | None = None) -> Any:
        """No host-clock cap: the reader caps the bookmark at Coupa's clock instead.

        singer-sdk's `Stream.sync` calls this first, before the stream's SCHEMA message: the
        first stream of a run checks there that every selected collection answers
        (TapCoupa.check_tenant), so a collection the tenant lacks stops the run before any
        record.
        """
        check = getattr(self.coupa_tap, "check_tenant", None)
        if check is not None:
            check(first=self if context is None else None)
        return None

    @override
    def finalize_state_progress_markers(self, state: dict[str, Any] | None = None) -> None:
        """The SDK's, then stdout flushed: the stream's last STATE may equal the one before."""
        super().finalize_state_progress_markers(state)
        flush_writer(self.coupa_tap.message_writer)

    @override
    def log_sync_costs(self) -> None:
        """End of run (the SDK calls this for every stream): the last one writes the summary.

        One table for the whole run (tap_coupa.progress) instead of the SDK's per-stream cost
        lines; then the rate controller's totals.
        """
        tap = self.coupa_tap
        if list(tap.streams)[-1] == self.name:
            flush_writer(tap.message_writer)
            reporter = getattr(tap, "progress", None)
            if reporter is not None:
                reporter.finish()
            tap.logger.info("Coupa API, whole run: %s", self.coupa.limiter.summary())

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """First page, then the rest in concurrent id ranges; resumes saved ranges.

        The cyclic collector keeps out of the way of the pages in flight until the stream ends
        (tap_coupa.collector: measured, 4.5% of the tap's instructions at 20,000 invoices).
        """
        reporter = getattr(self.coupa_tap, "progress", None)
        if reporter is not None:
            reporter.start()  # progress lines (tap_coupa.progress), once per run
        try:
            with collector.reading():
                yield from deletions.around(self, self._read(context))
        finally:
            flush_writer(self.coupa_tap.message_writer)  # what was written, even if it failed

    def _reader(self, spec: ReadSpec, context: Context | None) -> Reader:
        return Reader(
            spec,
            self.coupa,
            stats=self.stats,
            logger=self.logger,
            trim=self.trim,
            on_retry=self._retried,
            on_response=self._request_metric(context),
        )

    def read_first_page(self) -> None:
        """Request the first page now, while the run's tenant check runs (tap_coupa.tenant).

        The read starts with that page instead of requesting it after the check: one round
        trip fewer before the first record, the same requests; the newest-id probe that
        splits a full first page into id ranges goes out with it (`Reader.fetch_head`), one
        more round trip saved, or one request wasted per run when that page is not full. What
        the request raised is raised when the read starts, where it would have been. Nothing
        is read early when the read will not start with a first page (it resumes saved ranges,
        or is a child's) or its window cannot be told yet; a page read for another window than
        the read's is not used.
        """
        window = self.early_window()
        if self.parent_stream_type is not None or self.fed_by_parent_page or window is None:
            return
        spec = self.read_spec(None, window)
        reader = self._reader(spec, None)
        if reader.resumes(self.get_context_state(None)):
            return
        try:
            self._first_page = (spec, reader.fetch_head())
        except Exception as exc:
            self._first_page = (spec, exc)

    def _read(self, context: Context | None) -> Iterator[dict[str, Any]]:
        """The reader's pages, each followed by its lines (once the SDK wrote its records)."""
        spec = self.read_spec(context)
        reader = self._reader(spec, context)
        first = None
        if self._first_page is not None:
            read_for, page = self._first_page
            self._first_page = None
            if context is None and read_for == spec:
                if isinstance(page, Exception):
                    raise page
                first = page
        feed = self.line_feed
        state = self.get_context_state(context)
        for records in reader.pages(state, self.checkpoint, first):
            if reader.signpost is not None:
                feed.signpost = reader.signpost
            yield from records
            feed.flush()
        self.finish_stats()

    def finish_stats(self) -> None:
        """The stream and the line streams it feeds are done (for progress and the summary)."""
        self.stats.finish()
        for child in self.line_feed.children:
            child.stats.finish()

    def checkpoint(self) -> None:
        """Write a STATE now (the SDK writes one only when the stream ends).

        singer-sdk 0.54 has no public "write state now" hook: `_write_state_message` and the
        state manager's `is_flushed` flag are pinned in tests/tap/test_sdk_pins.py.
        """
        if self.sweep is not None:
            self.sweep.save(self.get_context_state(None))
        self.state_manager.is_flushed = False
        self._write_state_message()

    # -- records ------------------------------------------------------------------------------
    @cached_property
    def _all_selected(self) -> bool:
        """No property deselected: the SDK's per-record pruning walk would remove nothing."""
        return all(self.mask.values())

    @override
    def _generate_record_messages(
        self, record: dict[str, Any]
    ) -> Generator[RecordMessage, None, None]:
        """The SDK's own, minus the per-record deselection walk when nothing is deselected.

        That walk copied and scanned every nested object of every record (about a third of
        the tap's CPU per record) to remove nothing; `fields=` already trims the payload when
        the catalog deselects properties, and then the SDK's method runs unchanged.

        A swept stream's deletion sweep is told the id of each record its first mapping
        emits: the record as the warehouse receives it, after post-processing and filters.

        Private hook (singer-sdk 0.54 has no public per-record message hook nor a switch for
        the deselection walk); its body is pinned against the SDK's in test_sdk_pins.py.
        """
        sweep = self.sweep
        if sweep is None:
            yield from self._record_messages(record)
            return
        primary, rid = self.stream_maps[0].stream_alias, record.get("id")
        for message in self._record_messages(record):
            if message.stream == primary:
                sweep.saw(rid)
            yield message

    def _record_messages(self, record: dict[str, Any]) -> Generator[RecordMessage, None, None]:
        if not self._all_selected:
            yield from super()._generate_record_messages(record)
            return
        if self.TYPE_CONFORMANCE_LEVEL != TypeConformanceLevel.NONE:  # NONE returns it as is
            record = conform_record_data_types(
                stream_name=self.name,
                record=record,
                schema=self.effective_schema,
                level=self.TYPE_CONFORMANCE_LEVEL,
                logger=self.logger,
            )
        version = self.stream_version
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=version,
                    time_extracted=dt.datetime.now(dt.UTC),
                )

    @property
    def stream_version(self) -> int | None:
        """The table version RECORD messages carry (the SDK keeps it as `_stream_version`)."""
        return self._stream_version

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """Normalise `updated-at` to UTC and set embedded lines aside for line streams."""
        value = row.get(REPLICATION_KEY)
        if isinstance(value, str):
            row[REPLICATION_KEY] = to_utc(value)
        feed = self.line_feed
        if feed.children:
            feed.collect(row)
        return finish_row(self, row)

    @cached_property
    def line_feed(self) -> LineFeed:
        """Selected line streams fed from this stream's pages (tap_coupa.lines)."""
        children: list[EmbeddedLinesStream] = [
            child  # type: ignore[misc]
            for child in self.child_streams
            if getattr(child, "fed_by_parent_page", False)
            and (child.selected or child.has_selected_descendents)
        ]
        return LineFeed(self, children)

    @override
    def generate_child_contexts(
        self,
        record: dict[str, Any],
        context: Context | None,
    ) -> Iterable[Context | None]:
        """None: line streams are synced per page by the LineFeed, not per record."""
        return ()


class IncrementalCoupaStream(CoupaStream):
    """A stream bookmarked on `updated-at`, filtered server-side with `updated-at[gt_or_eq]`.

    Pages are ordered by id (keyset), not by `updated-at`, so the SDK keeps the new bookmark
    as a progress marker and promotes it only when the stream finishes, capped at Coupa's clock
    when the read began: an interrupted run never advances the bookmark past records it did
    not emit; the open id ranges in STATE let the next run continue where it stopped.
    """

    replication_key = REPLICATION_KEY
    is_sorted = False

    @override
    def early_window(self) -> dict[str, Any] | None:
        """The window `window_params` will give, from the state and config as they are now.

        singer-sdk sets the starting value only when the read begins, after the tenant check
        (StreamStateManager.write_starting_replication_value, mirrored here): the bookmark if
        it is for this replication key, the later of it and `start_date`.
        """
        state = self.get_context_state(None)
        value = state.get("replication_key_value")
        if not value or state.get("replication_key") != self.replication_key:
            value = None
        start_date = self.tap_config.get("start_date")
        if start_date:
            value = self.compare_start_date(value, start_date) if value else start_date
        if value is None:
            return {}
        try:
            start = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return None
        start = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
        return self._window_from(start, bookmarked=state.get("replication_key_value") is not None)

    def _window_from(self, start: dt.datetime, *, bookmarked: bool) -> dict[str, Any]:
        lookback = int(self.tap_config.get("lookback_window") or 0) if bookmarked else 0
        return {"updated-at[gt_or_eq]": instant(start - dt.timedelta(seconds=lookback))}

    def window_params(self, context: Context | None) -> dict[str, Any]:
        """`updated-at[gt_or_eq]` = bookmark minus the lookback window, or start_date."""
        start = self.get_starting_timestamp(context)
        if start is None:
            return {}
        bookmarked = self.get_context_state(context).get("replication_key_value") is not None
        return self._window_from(start, bookmarked=bookmarked)


def __getattr__(name: str) -> Any:
    """`EmbeddedLinesStream` moved to tap_coupa.lines; old imports keep working."""
    if name == "EmbeddedLinesStream":
        import importlib  # noqa: PLC0415 - a lazy re-export, not an import cycle

        return importlib.import_module("tap_coupa.lines").EmbeddedLinesStream
    raise AttributeError(name)
