"""CoupaStream: plugs the shared Coupa wire contract (coupa_api) into singer-sdk's REST hooks.

It knows no endpoint. Concrete streams (tap_coupa/streams) only declare name, scope and schema;
`IncrementalCoupaStream` adds the `updated-at` bookmark and `EmbeddedLinesStream` turns a
parent's embedded line array into a stream without another request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from singer_sdk import RESTStream
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams.rest import HTTPRequest, PageContext

from coupa_api.auth import CoupaOAuth
from coupa_api.client import USER_AGENT, CoupaClient
from coupa_api.errors import CoupaFatalError
from coupa_api.query import (
    PAGE_SIZE,
    SAFE_QUERY_CHARS,
    fields_for,
    fields_param,
    instant,
    keyset_page,
    to_utc,
)
from coupa_api.responses import decode_json
from coupa_api.retry import with_retries
from tap_coupa.pagination import KeysetPaginator
from tap_coupa.prefetch import read_ahead

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_coupa.tap import TapCoupa

REPLICATION_KEY = "updated-at"


class CoupaStream(RESTStream[int]):
    """A Coupa collection read in keyset pages of 50, with the shared auth/retry/limit policy."""

    #: Coupa resource path segment; the endpoint is `/api/<resource>` (defaults to `name`).
    resource: ClassVar[str | None] = None
    #: The OAuth scope that reading this stream needs.
    scope: ClassVar[str]
    #: The documented fields; discovery adds what an instance has beyond them.
    base_schema: ClassVar[dict[str, Any]]
    primary_keys: ClassVar[tuple[str, ...]] = ("id",)
    #: Records are already JSON-typed; skip the SDK's per-leaf conformance (46 % of its CPU).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapCoupa, schema: dict[str, Any] | None = None) -> None:
        super().__init__(tap=tap, schema=schema or self.base_schema, name=self.name)
        self.coupa: CoupaClient = tap.coupa
        self.coupa_tap = tap
        self.tap_config = tap.config
        self._page_ends: set[int] = set()
        self._line_buffers: dict[str, list[dict[str, Any]]] = {}

    # -- where and how ------------------------------------------------------------------------
    @property
    def path(self) -> str:  # type: ignore[override]
        """`/api/<resource>`."""
        return f"/api/{self.resource or self.name}"

    @property
    def url_base(self) -> str:
        """The configured instance, normalised."""
        return self.coupa.base_url

    @property
    def http_headers(self) -> dict[str, str]:
        """JSON always: without this Accept header Coupa answers XML."""
        return {"Accept": "application/json", "User-Agent": USER_AGENT}

    @cached_property
    def authenticator(self) -> CoupaOAuth:
        """The run's single shared token."""
        return self.coupa.auth

    @property
    def requests_session(self) -> requests.Session:
        """One keep-alive session for the whole run."""
        return self.coupa.http

    @property
    def timeout(self) -> int:
        """Configured request timeout."""
        return int(self.coupa.timeout)

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The SDK's request loop, one page ahead of the records being written."""
        pages = super().get_records(context)
        yield from read_ahead(pages, chunk=PAGE_SIZE, name=f"{self.name}-pages")
        # Every record has been processed by now. Lines are normally flushed at each page's
        # last record; if a stream map filtered that record out, flush what is left here.
        for child in self.line_children:
            if self._line_buffers.get(child.lines_key):
                child.sync(context={"page_end_id": 0})

    def get_new_paginator(self) -> KeysetPaginator:
        """Keyset pages by id (see tap_coupa.pagination)."""
        return KeysetPaginator()

    def get_http_request(self, *, page: PageContext[int]) -> HTTPRequest:
        """Keyset page + the user's filters + the incremental window + `fields` trimming."""
        request = super().get_http_request(page=page)
        params: dict[str, Any] = keyset_page(page.next_page_token or 0)
        params.update(self.filter_params)
        params.update(self.window_params(page.stream_context))
        if self.fields_selector is not None:
            params["fields"] = self.fields_selector
        request.params = params
        request.safe_query_chars = SAFE_QUERY_CHARS
        return request

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
        selected = [name for name in properties if self.mask.get(("properties", name), True)]
        needed = {"id", *(k for k in (self.replication_key,) if k)}
        needed.update(child.lines_key for child in self.line_children)
        wanted = [*selected, *(n for n in sorted(needed) if n not in selected)]
        if len(wanted) >= len(properties):
            return None
        return fields_param(fields_for(properties, wanted))

    # -- the shared policy, through the SDK's hooks --------------------------------------------
    def request_decorator(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Retry policy outside, rate-limit permit inside: every attempt takes a permit."""
        return with_retries(self.coupa.limiter.guard(func), self.coupa.policy, self.logger)

    def validate_response(self, response: requests.Response) -> None:
        """Classify with the shared table (coupa_api.responses); 401 re-mints, 403 names scope."""
        self.coupa.check(response, what=f"Stream '{self.name}' (GET {self.path})", scope=self.scope)

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The page is a bare JSON array; remember its last id so line streams flush per page."""
        page = decode_json(response)
        if not isinstance(page, list):
            msg = (
                f"Stream '{self.name}': GET {self.path} answered a JSON "
                f"{type(page).__name__} where Coupa returns an array of records. Check that "
                "`base_url` points at a Coupa instance."
            )
            raise CoupaFatalError(msg, status=response.status_code)
        if page:
            self._page_ends.add(int(page[-1]["id"]))
        return page

    # -- records ------------------------------------------------------------------------------
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """Normalise `updated-at` to UTC and set embedded lines aside for line streams."""
        value = row.get(REPLICATION_KEY)
        if isinstance(value, str):
            row[REPLICATION_KEY] = to_utc(value)
        # Lines follow their parent: none for a parent the stream map filters out (as the SDK
        # does for child streams).
        if self.line_children and self.stream_maps[0].get_filter_result(row):
            for child in self.line_children:
                self._line_buffers.setdefault(child.lines_key, []).extend(child.lines_of(row))
        return row

    @cached_property
    def line_children(self) -> list[EmbeddedLinesStream]:
        """Selected line streams fed from this stream's payloads."""
        return [
            child
            for child in self.child_streams
            if isinstance(child, EmbeddedLinesStream)
            and (child.selected or child.has_selected_descendents)
        ]

    def generate_child_contexts(
        self,
        record: dict[str, Any],
        context: Context | None,
    ) -> Iterable[Context | None]:
        """Flush line streams once per page (at its last record), not once per parent."""
        record_id = record.get("id")
        if isinstance(record_id, int) and record_id in self._page_ends:
            self._page_ends.discard(record_id)
            if self.line_children:
                yield {"page_end_id": record_id}

    def take_lines(self, lines_key: str) -> list[dict[str, Any]]:
        """Hand the buffered lines to the line stream and forget them."""
        return self._line_buffers.pop(lines_key, [])


class IncrementalCoupaStream(CoupaStream):
    """A stream bookmarked on `updated-at`, filtered server-side with `updated-at[gt_or_eq]`.

    Pages are ordered by id (keyset), not by `updated-at`, so the SDK keeps the new bookmark
    as a progress marker and promotes it only when the stream finishes, capped at the sync's
    start time: an interrupted run never advances the bookmark past records it did not emit.
    """

    replication_key = REPLICATION_KEY
    is_sorted = False

    def window_params(self, context: Context | None) -> dict[str, Any]:
        """`updated-at[gt_or_eq]` = bookmark minus the lookback window, or start_date."""
        start = self.get_starting_timestamp(context)
        if start is None:
            return {}
        bookmarked = self.get_context_state(context).get("replication_key_value") is not None
        lookback = int(self.tap_config.get("lookback_window") or 0) if bookmarked else 0
        return {"updated-at[gt_or_eq]": instant(start - dt.timedelta(seconds=lookback))}


class EmbeddedLinesStream(CoupaStream):
    """Lines embedded in a parent's payload (`invoice-lines`, ...), emitted without a request.

    Each line gains its parent's id (`<parent>-id`) for joins. A line without its own
    `updated-at` inherits the parent's, so the bookmark stays meaningful.
    """

    lines_key: ClassVar[str]
    parent_id_key: ClassVar[str]
    state_partitioning_keys: ClassVar[list[str]] = []
    replication_key = REPLICATION_KEY
    is_sorted = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A line stream needs its parent's scope: the lines come in the parent's payload."""
        super().__init_subclass__(**kwargs)
        parent = cls.__dict__.get("parent_stream_type")
        if parent is not None:
            cls.scope = parent.scope

    def lines_of(self, parent: dict[str, Any]) -> Iterable[dict[str, Any]]:
        """The parent's lines, each tagged with the parent id."""
        for line in parent.get(self.lines_key) or []:
            row = dict(line)
            row[self.parent_id_key] = parent["id"]
            value = row.get(REPLICATION_KEY) or parent.get(REPLICATION_KEY)
            row[REPLICATION_KEY] = to_utc(value) if isinstance(value, str) else value
            yield row

    def _write_schema_message(self) -> None:
        """Once per run: the SDK repeats it at every child sync, i.e. once per parent page."""
        if not getattr(self, "_schema_sent", False):
            super()._write_schema_message()
            self._schema_sent = True

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        """The lines the parent buffered for the page that just ended."""
        assert self.parent_stream_type is not None  # noqa: S101 - set by every subclass
        parent = self.coupa_tap.streams[self.parent_stream_type.name]  # type: ignore[misc]
        assert isinstance(parent, CoupaStream)  # noqa: S101
        yield from parent.take_lines(self.lines_key)

    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """Lines were normalised when taken from the parent."""
        return row
