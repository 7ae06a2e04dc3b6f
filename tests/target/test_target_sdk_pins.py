"""Pins of the private singer-sdk surfaces target-coupa overrides or relies on.

target_coupa.target overrides `_process_record_message`, `_process_schema_message`,
`_process_state_message` and `_write_state_message`, and target_coupa.reading wraps
`process_lines`. None of these is a public hook; if a singer-sdk release renames one or changes
what it does, the override would silently stop applying (a bad record would stop the run again,
an older STATE could follow a newer one). These tests fail first.
"""

from __future__ import annotations

import inspect

from singer_sdk import Target
from singer_sdk.exceptions import (
    InvalidInputLine,
    MappingError,
    MissingKeyPropertiesError,
    RecordsWithoutSchemaException,
)
from singer_sdk.singerlib.encoding.base import GenericSingerReader

from target_coupa.reading import TolerantReader
from target_coupa.target import TargetCoupa


def _parameters(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


def test_the_message_handlers_exist_with_the_signatures_we_override():
    for name in (
        "_process_record_message",
        "_process_schema_message",
        "_process_state_message",
    ):
        assert _parameters(getattr(Target, name)) == ["self", "message_dict"], name
        assert getattr(TargetCoupa, name) is not getattr(Target, name), name
    assert _parameters(Target._write_state_message) == ["self", "state"]
    assert TargetCoupa._write_state_message is not Target._write_state_message
    assert _parameters(Target._assert_line_requires) == ["self", "message_dict", "requires"]


def test_the_sdk_checks_a_record_before_the_sink_gets_it():
    """Everything the target turns into a rejection happens before `process_record`."""
    source = inspect.getsource(Target._process_record_message)
    taken = source.index("sink.process_record(")
    for check in (
        "_assert_line_requires(",
        "_assert_sink_exists(",
        "stream_map.transform(",
        "_validate_and_parse(",
        "_singer_validate_message(",
    ):
        assert check in source, check
        assert source.index(check) < taken, check
    assert issubclass(MissingKeyPropertiesError, Exception)
    assert issubclass(RecordsWithoutSchemaException, Exception)
    assert issubclass(MappingError, Exception)
    assert issubclass(InvalidInputLine, Exception)


def test_drains_write_state_only_through_write_state_message():
    """The reading thread's drain writes STATE by calling `_write_state_message` (a no-op here)."""
    drain = inspect.getsource(Target.drain_all)
    assert "self._write_state_message(" in drain
    assert "sys.stdout" not in drain
    assert "sys.stdout.write" in inspect.getsource(Target._write_state_message)
    assert "_handle_max_record_age()" in inspect.getsource(Target._process_record_message)
    assert "self.drain_all()" in inspect.getsource(Target._handle_max_record_age)
    assert isinstance(Target._MAX_RECORD_AGE_IN_MINUTES, float)
    assert "self._latest_state" in inspect.getsource(Target.__init__)


def test_the_reader_iterates_the_input_it_is_given():
    """TolerantReader numbers lines and drops blank ones by handing the SDK a generator."""
    assert _parameters(GenericSingerReader.process_lines) == ["self", "file_input", "callbacks"]
    source = inspect.getsource(GenericSingerReader.process_lines)
    assert "file_input or self.default_input" in source
    assert "for line in filein" in source
    assert issubclass(TolerantReader, GenericSingerReader)
    assert _parameters(GenericSingerReader._process_unknown_message) == ["self", "message_dict"]
    assert "self._process_unknown_message(line_dict)" in source
    assert _parameters(GenericSingerReader.__init__) == ["self"]
