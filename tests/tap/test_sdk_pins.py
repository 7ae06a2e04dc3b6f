"""Pins of the private singer-sdk surface tap-coupa still uses (singer-sdk 0.54).

Each is used because singer-sdk 0.54 has no public hook for it (the code says which); if a
release renames one or changes what it does, the override would silently stop applying. These
tests fail first, with a message naming what to look for in the SDK's changelog. The whole list:

1. `Stream._generate_record_messages` (tap_coupa.client: the SDK's body without the per-record
   deselection walk, plus the deletion sweep's id tap);
2. `singer_sdk.helpers._typing.conform_record_data_types` (called by that copy);
3. `Stream._stream_version` (the RECORD version, read by `CoupaStream.stream_version`);
4. `Stream._write_state_message` and `StreamStateManager.is_flushed` (a STATE mid-stream:
   `CoupaStream.checkpoint`; line and sub-resource streams mark their state flushed);
5. `Stream._write_schema_message` (line streams send their SCHEMA once per run);
6. `MetricExclusionFilter._exclude_point` (tap_coupa.progress quiets per-page metrics);
7. `PluginBase._get_about_info` (tap_coupa.tap's `--about`);
8. what `StreamStateManager.write_starting_replication_value` does (mirrored, not called, by
   `IncrementalCoupaStream.early_window`).
"""

from __future__ import annotations

import inspect
import logging

from singer_sdk import Stream
from singer_sdk.helpers import _typing
from singer_sdk.metrics import MetricExclusionFilter, Point
from singer_sdk.plugin_base import PluginBase
from singer_sdk.streams._state import StreamStateManager

from tap_coupa.client import CoupaStream
from tap_coupa.lines import EmbeddedLinesStream
from tap_coupa.progress import _PerRequestFilter


def _parameters(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def _source(func: object) -> str:
    return inspect.getsource(func)  # type: ignore[arg-type]


def test_generate_record_messages_is_the_body_we_copied() -> None:
    source = _source(Stream._generate_record_messages)
    steps = (
        "pop_deselected_record_properties(record, self.schema, self.mask)",
        "conform_record_data_types(",
        "level=self.TYPE_CONFORMANCE_LEVEL",
        "for stream_map in self.stream_maps:",
        "stream_map.transform(record)",
        "version=self._stream_version",
        "time_extracted=utc_now()",
    )
    changed = [step for step in steps if step not in source]
    assert not changed, (
        f"singer-sdk changed Stream._generate_record_messages ({changed} no longer in it): "
        "compare tap_coupa.client.CoupaStream._record_messages with the new body, or drop the "
        "copy if the SDK now skips the deselection walk when nothing is deselected."
    )
    assert _parameters(Stream._generate_record_messages) == ["self", "record"]
    assert CoupaStream._generate_record_messages is not Stream._generate_record_messages


def test_conform_record_data_types_signature() -> None:
    expected = ["stream_name", "record", "schema", "level", "logger"]
    assert _parameters(_typing.conform_record_data_types) == expected, (
        "singer-sdk changed singer_sdk.helpers._typing.conform_record_data_types: "
        "update tap_coupa.client.CoupaStream._record_messages"
    )


def test_stream_version_attribute() -> None:
    assert "self._stream_version" in _source(Stream.__init__), (
        "singer-sdk no longer sets Stream._stream_version: find where the table version of "
        "RECORD messages lives now and update CoupaStream.stream_version"
    )


def test_write_state_message_honours_is_flushed() -> None:
    assert _parameters(Stream._write_state_message) == ["self"]
    source = _source(Stream._write_state_message)
    why = (
        "singer-sdk changed Stream._write_state_message or dropped state_manager.is_flushed: "
        "CoupaStream.checkpoint writes mid-stream STATE through them"
    )
    assert "is_flushed" in source, why
    assert "write_state(" in source, why
    assert "is_flushed" in _source(StreamStateManager)


def test_write_schema_message_is_called_by_sync() -> None:
    assert _parameters(Stream._write_schema_message) == ["self"]
    assert "self._write_schema_message()" in _source(Stream.sync), (
        "singer-sdk's Stream.sync no longer calls _write_schema_message: line streams "
        "(tap_coupa.lines) would send SCHEMA once per parent page again, or never"
    )
    assert EmbeddedLinesStream._write_schema_message is not Stream._write_schema_message


def test_metric_exclusion_filter_hook() -> None:
    assert _parameters(MetricExclusionFilter._exclude_point) == ["self", "point"]
    point = Point("timer", "http_request_duration", 0.1, {"context": {"parent_page": 1}})  # type: ignore[arg-type]
    assert _PerRequestFilter(logging.getLogger("pins"))._exclude_point(point), (
        "singer-sdk changed MetricExclusionFilter._exclude_point: tap_coupa.progress filters "
        "per-page metrics through it"
    )


def test_about_info_hook() -> None:
    assert _parameters(PluginBase._get_about_info) == [], (
        "singer-sdk changed PluginBase._get_about_info: tap_coupa.tap's --about uses it"
    )


def test_starting_value_logic_that_early_window_mirrors() -> None:
    source = _source(StreamStateManager.write_starting_replication_value)
    steps = (
        'rk_value = state.get("replication_key_value")',
        'replication_key == state.get("replication_key")',
        'config.get("start_date")',
        "compare_start_date_fn(value, start_date_value)",
    )
    changed = [step for step in steps if step not in source]
    assert not changed, (
        f"singer-sdk changed StreamStateManager.write_starting_replication_value ({changed}): "
        "update IncrementalCoupaStream.early_window (tap_coupa.client), which predicts it so the "
        "first page can be read during the tenant check"
    )
