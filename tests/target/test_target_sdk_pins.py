"""Pins of the singer-sdk surfaces target-coupa relies on that are not public hooks.

What is private and still used (singer-sdk 0.54 has no public hook for it):
- target_coupa.target overrides `Target._write_state_message` (a no-op, so that the SDK's
  drains never write STATE; `drain_all` calls it and no public hook turns that STATE off).

What is public but relied on in a way the SDK does not promise:
- the target takes its messages through the reader (target_coupa.reading.TolerantReader):
  singer-sdk's `process_lines` (final) hands `message_reader.process_lines` one handler per
  message type, and the reader calls the target's `handle_schema`/`handle_record`/`handle_state`
  with the SDK's handler for that type; the target never names the SDK's private handlers;
- what the SDK's RECORD handler checks before a sink's `process_record` (what the target turns
  into a rejection), and that only the SDK's STATE handler (never called) sets its latest STATE;
- a message of a type no handler was given for is turned into an ignored pseudo-message by the
  reader's `deserialize_json`, which the SDK calls before it dispatches;
- `get_sink_class` returns the sink class with the run's services bound (a `functools.partial`);
  `add_sink` only calls it;
- a sink whose `get_validator` returns None is not validated by the SDK (InvoiceSink checks the
  schema itself, to reject one record rather than stop the run);
- a schema with `additionalProperties: true` and no properties makes the SDK's record parsing a
  no-op (SkippedStreamSink).

If a singer-sdk release renames one of these or changes what it does, an override would silently
stop applying (a bad record would stop the run again, an older STATE could follow a newer one).
Each test fails first, with a message naming what to look for in the SDK's changelog.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from singer_sdk import Target
from singer_sdk.exceptions import (
    InvalidInputLine,
    MappingError,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)
from singer_sdk.plugin_base import BaseSingerReader
from singer_sdk.singerlib.encoding.base import GenericSingerReader
from singer_sdk.sinks import Sink

from target_coupa.reading import TolerantReader
from target_coupa.sinks import InvoiceSink, SkippedStreamSink
from target_coupa.target import TargetCoupa


def _parameters(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def _source(func: object) -> str:
    return inspect.getsource(func)  # type: ignore[arg-type]


def test_the_target_names_no_private_message_handler():
    for name in (
        "_process_record_message",
        "_process_schema_message",
        "_process_state_message",
    ):
        assert getattr(TargetCoupa, name) is getattr(Target, name), name
    assert _parameters(Target._write_state_message) == ["self", "state"], (
        "singer-sdk changed Target._write_state_message: look for how its drains write STATE "
        "now (meltano/sdk#3040 changes when they do); TargetCoupa must keep them from writing "
        "one."
    )
    assert TargetCoupa._write_state_message is not Target._write_state_message


def test_the_sdk_hands_its_handlers_to_the_reader():
    """singer-sdk's final `process_lines` passes one handler per type to the message reader."""
    assert _parameters(BaseSingerReader.process_lines) == ["self", "file_input"]
    source = _source(BaseSingerReader.process_lines)
    assert "return self.message_reader.process_lines(" in source, (
        "singer-sdk's process_lines no longer hands the input to `message_reader`: look for "
        "the new message-dispatch hook in its changelog; TolerantReader routes messages to "
        "TargetCoupa's handle_* methods from there."
    )
    for kind in ("SCHEMA", "RECORD", "STATE"):
        assert f"SingerMessageType.{kind}: self._process_" in source, (
            f"singer-sdk no longer hands a {kind} handler to the reader: look for the new "
            "message-handler hook in its changelog; TargetCoupa's handle_* would not run."
        )
    target = TargetCoupa(config={}, validate_config=False)
    assert isinstance(target.message_reader, TolerantReader)
    assert target.message_reader.around == {
        "SCHEMA": target.handle_schema,
        "RECORD": target.handle_record,
        "STATE": target.handle_state,
    }


def test_the_sdk_checks_a_record_before_the_sink_gets_it():
    """Everything the target turns into a rejection happens before `process_record`."""
    source = _source(Target._process_record_message)
    taken = source.index("sink.process_record(")
    for check in (
        "_assert_line_requires(",
        "_assert_sink_exists(",
        "stream_map.transform(",
        "_validate_and_parse(",
        "_singer_validate_message(",
    ):
        assert check in source, (
            f"singer-sdk's Target._process_record_message no longer calls {check}): look for "
            "where it checks records now; what it raises before `process_record` is what "
            "TargetCoupa dead-letters."
        )
        assert source.index(check) < taken, check
    assert issubclass(MissingKeyPropertiesError, Exception)
    assert issubclass(RecordsWithoutSchemaException, Exception)
    assert issubclass(MappingError, Exception)
    assert issubclass(InvalidInputLine, Exception)


def test_the_sdk_holds_a_state_only_from_its_own_state_handler():
    """TargetCoupa never calls the SDK's STATE handler, so its drains have no STATE to write."""
    module = inspect.getsource(inspect.getmodule(Target))  # type: ignore[arg-type]
    setters = len(re.findall(r"self\._latest_state(?::[^=\n]*)? = ", module))
    assert setters == 2, (  # __init__ (None) and _process_state_message
        "singer-sdk sets its latest STATE somewhere new: look for a change in how Target "
        "tracks STATE (`_latest_state`); TargetCoupa.handle_state never calls the SDK's STATE "
        "handler, but a drain could now write a STATE the pool has not "
        f"released ({setters} assignments found, 2 expected)."
    )
    assert "self._latest_state = state" in _source(Target._process_state_message)
    drain = _source(Target.drain_all)
    message = (
        "singer-sdk's drain_all writes STATE differently: look for a change in how drains emit "
        "STATE; TargetCoupa's `_write_state_message` no-op may no longer stop it."
    )
    assert "if self._latest_state:" in drain, message  # meltano/sdk#3040 (open) touches this
    assert "self._write_state_message(" in drain, message
    assert "sys.stdout" not in drain


def test_add_sink_only_calls_what_get_sink_class_returns():
    """The services are bound to the class get_sink_class returns (a functools.partial)."""
    source = _source(Target.add_sink)
    assert "sink_class = self.get_sink_class(stream_name=stream_name)" in source, (
        "singer-sdk's add_sink no longer asks get_sink_class: look for the new sink factory "
        "hook; TargetCoupa binds the sinks' services there."
    )
    assert "sink = sink_class(\n            target=self," in source, (
        "singer-sdk's add_sink builds the sink differently: look for a changed sink "
        "constructor call; TargetCoupa's get_sink_class returns a partial, not a class."
    )
    package = Path(inspect.getfile(Target)).parent
    callers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        for _ in range(path.read_text(encoding="utf-8").count("self.get_sink_class("))
    )
    assert callers == ["sql/target.py", "target_base.py"], (
        f"singer-sdk calls get_sink_class in a new place ({callers}): look for code that "
        "expects a class (issubclass, class attributes); TargetCoupa returns a partial."
    )
    assert _parameters(InvoiceSink.__init__)[:5] == [
        "self",
        "target",
        "stream_name",
        "schema",
        "key_properties",
    ]


def test_a_sink_without_a_validator_is_not_validated_by_the_sdk():
    """InvoiceSink.get_validator returns None and checks the schema in process_record."""
    assert "self._validator: BaseJSONSchemaValidator | None = self.get_validator()" in _source(
        Sink.__init__
    ), "singer-sdk's Sink no longer asks get_validator: look for the new validator hook."
    assert "if self._validator is not None:" in _source(Sink._validate_and_parse), (
        "singer-sdk validates records without the sink's validator: look for a change in "
        "record validation; a record failing its schema could stop the run again."
    )
    assert InvoiceSink.get_validator is not Sink.get_validator
    assert SkippedStreamSink.get_validator is not Sink.get_validator


def test_an_open_schema_makes_record_parsing_a_no_op():
    """SkippedStreamSink's schema declares nothing and allows everything: no parsing, no warning."""
    source = _source(Sink._parse_timestamps_in_record)
    assert 'additional_properties = schema.get("additionalProperties", False)' in source, (
        "singer-sdk's record parsing reads the schema differently: look for a change in "
        "_parse_timestamps_in_record; skipped streams could log per-field warnings."
    )
    assert "and not additional_properties" in source


def test_the_reader_iterates_the_input_it_is_given():
    """TolerantReader numbers lines, drops blank ones and ignores unknown message types."""
    assert _parameters(GenericSingerReader.process_lines) == ["self", "file_input", "callbacks"]
    source = _source(GenericSingerReader.process_lines)
    assert "file_input or self.default_input" in source
    assert "for line in filein" in source
    assert issubclass(TolerantReader, GenericSingerReader)
    parsed = source.index("line_dict = self.deserialize_json(line)")
    dispatched = source.index("if callback := callbacks.get(record_type):")
    assert parsed < dispatched, (
        "singer-sdk's reader no longer parses each line with deserialize_json before it looks "
        "up the handler: look for a change in GenericSingerReader.process_lines; a message of "
        "an unknown type would stop the run again instead of being ignored."
    )
    assert "_process_unknown_message" not in vars(TolerantReader)
    assert _parameters(GenericSingerReader.__init__) == ["self"]
