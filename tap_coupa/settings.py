"""Tap-only settings and their checks; connection settings come from coupa_api.settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from singer_sdk import typing as th

from coupa_api.numeric_settings import (
    LOOKBACK_WINDOW,
    PROGRESS_INTERVAL,
    TAP_MAX_CONCURRENCY,
    TAP_NUMBERS,
    number_problems,
)
from coupa_api.query import filter_key_problem

#: Parameters the tap sets itself; a per-stream filter may not override them.
RESERVED_PARAMS = frozenset(
    {"order_by", "dir", "limit", "offset", "fields", "return_object", "id[gt]"}
)

TAP_PROPERTIES: tuple[th.Property[Any], ...] = (
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description="Read records updated at or after this instant on the first run (ISO 8601).",
    ),
    th.Property(
        "lookback_window",
        LOOKBACK_WINDOW.json_type(),
        default=0,
        title="Lookback window (s)",
        description=(
            "Re-read this many seconds before the bookmark on every incremental run. Coupa can "
            "publish an update with an updated-at slightly in the past (Fivetran added a 7-day "
            "lookback for purchase orders); re-read rows are duplicates a merge key absorbs "
            f"({LOOKBACK_WINDOW.range_text}, i.e. up to 365 days)."
        ),
    ),
    th.Property(
        "max_concurrency",
        TAP_MAX_CONCURRENCY.json_type(),
        default=8,
        title="Concurrent requests per stream",
        description=(
            "Id ranges of one stream read at the same time (work-stealing keyset partitions). "
            "The run's rate controller (`max_requests_per_second`) still paces every request, "
            "so more workers hide slow pages without exceeding Coupa's limit. 1 reads one page "
            f"at a time ({TAP_MAX_CONCURRENCY.range_text})."
        ),
    ),
    th.Property(
        "custom_fields_as_columns",
        th.BooleanType,
        default=True,
        title="Custom fields as columns",
        description=(
            "Discovery adds a typed top-level column `custom-fields__<name>` for every custom "
            "field of this tenant (the `custom-fields` object stays too), so loaders make real "
            "columns of them."
        ),
    ),
    th.Property(
        "progress_interval",
        PROGRESS_INTERVAL.json_type(),
        default=10,
        title="Progress interval (s)",
        description=(
            "Every this many seconds, one log line per stream being read: running total, pages, "
            "requests/s, 429s, retries and, once the id range is known, percent done and ETA. "
            "0 turns the lines off; the end-of-run summary table is always written "
            f"({PROGRESS_INTERVAL.range_text})."
        ),
    ),
    th.Property(
        "filters",
        th.ObjectType(additional_properties=th.ObjectType(additional_properties=th.StringType)),
        title="Server-side filters per stream",
        description=(
            "Coupa query filters added to a stream's requests, e.g. "
            '{"invoices": {"status[in]": "approved,voided"}}.'
        ),
    ),
    th.Property(
        "detect_deletes",
        # oneOf, not anyOf: singer-sdk 0.54 makes an optional anyOf nullable by appending the
        # bare string "null" to it, which jsonschema then fails on (a traceback, not a sentence)
        # for any value of the wrong type; oneOf gets a proper {"type": "null"}.
        th.CustomType(
            {
                "oneOf": [
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "object", "additionalProperties": {"type": "boolean"}},
                ]
            }
        ),
        title="Detect deletions in streams",
        description=(
            "Streams whose records deleted in Coupa are emitted with `_sdc_deleted_at` (a list "
            'of names, or {"expense_reports": true}). After the stream\'s sync the tap lists '
            "its ids, one request per 50 ids; see docs/deletions.md."
        ),
    ),
)


#: The sentence for a `detect_deletes` of the wrong shape (its schema is an anyOf).
SHAPE_HINTS = {
    "detect_deletes": (
        'a list of stream names, e.g. ["expense_reports"], or an object of stream name to '
        'true/false, e.g. {"expense_reports": true}'
    ),
}


def tap_problems(config: Mapping[str, Any], stream_names: Collection[str]) -> list[str]:
    """One sentence per tap setting that cannot work."""
    problems: list[str] = []
    start = config.get("start_date")
    if start:
        try:
            parsed = dt.datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        except ValueError:
            problems.append(
                f"`start_date` {start!r} is not an ISO 8601 date or timestamp; write e.g. "
                "2024-01-01 or 2024-01-01T00:00:00Z."
            )
        else:
            if parsed.tzinfo is not None and parsed > dt.datetime.now(dt.UTC):
                problems.append(
                    f"`start_date` {start!r} is in the future; no record would be read."
                )
    problems += _number_problems(config)
    filters = config.get("filters") or {}
    for stream, params in filters.items():
        if stream not in stream_names:
            problems.append(
                f"`filters` names stream {stream!r}, which tap-coupa does not have; streams: "
                f"{', '.join(sorted(stream_names))}."
            )
            continue
        if not isinstance(params, Mapping):
            problems.append(f"`filters.{stream}` must be an object of Coupa query parameters.")
            continue
        for key in params:
            if key in RESERVED_PARAMS:
                problems.append(
                    f"`filters.{stream}` sets {key!r}, which the tap controls (paging, ordering "
                    "and payload trimming); remove it."
                )
            elif problem := filter_key_problem(key):
                problems.append(f"`filters.{stream}`: {problem}.")
    return problems


def _number_problems(config: Mapping[str, Any]) -> list[str]:
    """One sentence per numeric tap setting that is not a number in its range."""
    return number_problems(config, TAP_NUMBERS)
