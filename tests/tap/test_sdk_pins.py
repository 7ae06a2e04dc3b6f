"""Pins of the private singer-sdk surface tap-coupa still uses (singer-sdk 0.54).

Each is used because singer-sdk 0.54 has no public hook for it (the code says which, and the
SDK issue or version it waits for); if a release renames one or changes what it does, the
override would silently stop applying. These tests fail first, with a message naming what to
look for in the SDK's changelog. The whole list (tap side; tests/wire/test_cli_sdk_pins.py and
tests/target/test_target_sdk_pins.py pin the rest):

1. `Stream._generate_record_messages` (tap_coupa.client: the SDK's body without the per-record
   deselection walk, plus the deletion sweep's id tap);
2. `singer_sdk.helpers._typing.conform_record_data_types` (called by that copy);
3. `Stream._stream_version` (the RECORD version, read by `CoupaStream.stream_version`);
4. `Stream._write_state_message` and the state manager's `is_flushed` (a STATE mid-stream:
   `CoupaStream.checkpoint`);
5. `Stream._write_schema_message` (tap_coupa.child_streams: a child stream's SCHEMA once per run);
6. the state manager's `is_flushed` (tap_coupa.child_streams: a child sync ends without a STATE
   of its own; `StreamStateManager` lives in the private `singer_sdk.streams._state`);
7. what `StreamStateManager.write_starting_replication_value` does (mirrored, not called, by
   `IncrementalCoupaStream.early_window`).

Public API relied on in a way the SDK does not promise, pinned here too: the metrics log record
carries its `Point` as the first argument (tap_coupa.progress filters on it), and `print_about`
prints the JSON document `TapCoupa.print_about` adds the stream table to.
"""

from __future__ import annotations

import inspect
import json
import logging
from typing import Any

from singer_sdk import Stream, metrics
from singer_sdk.about import AboutFormatter
from singer_sdk.helpers import _typing
from singer_sdk.metrics import Metric, Point
from singer_sdk.plugin_base import PluginBase
from singer_sdk.streams._state import StreamStateManager

from tap_coupa.child_streams import ChildStream
from tap_coupa.client import CoupaStream
from tap_coupa.lines import EmbeddedLinesStream
from tap_coupa.progress import _PerRequestFilter
from tap_coupa.streams import STREAMS
from tap_coupa.streams.catalog_doc import streams_markdown
from tap_coupa.subresources import SubResourceStream
from tap_coupa.tap import TapCoupa


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
        "singer-sdk's Stream.sync no longer calls _write_schema_message: child streams "
        "(tap_coupa.child_streams) would send SCHEMA once per parent page or record again, or "
        "never; look for a public per-stream SCHEMA hook in the changelog."
    )
    assert ChildStream._write_schema_message is not Stream._write_schema_message
    for child in (EmbeddedLinesStream, SubResourceStream):
        assert issubclass(child, ChildStream), child
        assert "_write_schema_message" not in vars(child), child  # one override, in one place


def test_a_child_sync_ends_with_a_state_unless_flushed() -> None:
    sync = _source(Stream._sync_records)
    end = sync.rindex("self._write_state_message()")
    assert "if write_messages:" in sync[sync.rindex("if not context:") : end], (
        "singer-sdk's Stream._sync_records no longer ends with _write_state_message: look for "
        "a change in when a child sync writes its STATE; ChildStream.state_goes_with_parent "
        "marks the state flushed so that none is written per parent page or record."
    )
    assert "self.state_manager.is_flushed = True" in _source(ChildStream.state_goes_with_parent)
    assert "self.is_flushed = False" in _source(StreamStateManager.finalize_state), (
        "singer-sdk's StreamStateManager changed how it tracks a written STATE (`is_flushed`): "
        "look for the new flag; child syncs could each write a STATE again."
    )


def test_metrics_are_logged_with_their_point_as_the_argument() -> None:
    """tap_coupa.progress filters the SDK's METRIC lines with a plain logging.Filter."""
    assert 'logger.info("METRIC: %s", point)' in _source(metrics.log), (
        "singer-sdk logs metrics differently (singer_sdk.metrics.log): look for a change in "
        "metric logging; tap_coupa.progress's filter reads the Point from the record's args."
    )
    assert {"metric", "tags"} <= set(Point.__dataclass_fields__)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("pins.metrics")
    logger.propagate = False
    logger.addHandler(Keep())
    logger.addFilter(_PerRequestFilter(logging.getLogger("pins.level")))
    logger.setLevel(logging.INFO)
    timer = Point("timer", Metric.HTTP_REQUEST_DURATION, 0.1, {})
    per_page = Point("counter", Metric.RECORD_COUNT, 3, {"context": {"parent_page": 1}})
    kept = Point("counter", Metric.RECORD_COUNT, 3, {"context": {"id": 1}})
    for point in (timer, per_page, kept):
        metrics.log(logger, point)
    assert [r.args[0] for r in records] == [kept], (  # type: ignore[index]
        "tap_coupa.progress no longer drops per-request and per-page METRIC lines: look for a "
        "change in singer_sdk.metrics (Point, Metric or log)."
    )


def test_print_about_prints_the_json_document_we_extend(capsys: Any) -> None:
    assert "._get_about_info(" not in _source(TapCoupa.print_about)
    assert "print(formatter.format_about(info))" in _source(PluginBase.print_about), (
        "singer-sdk's print_about prints differently: look for a change in --about; "
        "TapCoupa.print_about parses its JSON to add the stream table to `description`."
    )
    TapCoupa.print_about("json")
    document = json.loads(capsys.readouterr().out)
    expected = json.loads(
        AboutFormatter.get_formatter("json").format_about(TapCoupa._get_about_info())
    )
    expected["description"] = f"{expected['description']}\n\n{streams_markdown(STREAMS)}"
    assert document == expected, (
        "TapCoupa's --about JSON is no longer the SDK's document with the stream table in "
        "`description`: look for a change in singer-sdk's print_about or AboutInfo."
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
