"""singer-sdk's standard target tests, where they make sense for an invoice writer.

The SDK's canned streams (`test_camelcase`, `array_data`, ...) are not invoices, so they run
with `on_unsupported_stream: skip`: they exercise the SDK plumbing around the target (schema
handling, key properties, validation, STATE relay) and the skip path, never Coupa. Writing
invoices is covered by the emulator tests next to this file.

All 16 tests of the 0.54.9 suite run; none is left out. Three of them expect singer-sdk to stop
the run at a bad message (`invalid_schema`, `record_before_schema`,
`record_missing_key_property`); this target rejects that one record instead (dead letter, exit 3
at the end) and refuses a bad SCHEMA with a warning (docs/target.md), so those three run the
same input and check that stricter behaviour. The suite does not include the SDK's
`multiple_state_messages` file test (it expects the SDK's batched relay, 3 of 5 STATEs);
`test_every_state_is_relayed_in_order` runs that file and checks this target's stricter
behaviour instead: every STATE, in order, as soon as the records before it are done.
"""

from __future__ import annotations

import importlib.resources
import io
import json
import tempfile
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from singer_sdk.testing import get_target_test_class, target_test_streams
from singer_sdk.testing.target_tests import (
    TargetInvalidSchemaTest,
    TargetRecordBeforeSchemaTest,
    TargetRecordMissingKeyProperty,
)

from target_coupa.target import RejectedRecordsError, TargetCoupa

CONFIG = {
    # Never contacted: every SDK test stream is skipped before anything talks to Coupa.
    "base_url": "http://127.0.0.1:9",
    "client_id": "demo",
    "client_secret": "demo-secret",
    "on_unsupported_stream": "skip",
    # The three tests below reject records: their dead letters go out of the working tree.
    "dead_letter_path": str(
        Path(tempfile.mkdtemp(prefix="target-coupa-sdk-suite-")) / "dead-letter.jsonl"
    ),
}
TestTargetCoupaStandard = get_target_test_class(TargetCoupa, config=CONFIG)


class InvalidSchemaIsRefusedNotFatal(TargetInvalidSchemaTest):
    """A SCHEMA without `properties` and no records: one warning, the run completes."""

    def test(self) -> None:
        """Run the SDK's input; nothing is raised, no record is counted."""
        self.runner.sync_all()


class RecordBeforeSchemaIsRejected(TargetRecordBeforeSchemaTest):
    """The RECORD before its SCHEMA is dead-lettered; the one after it is handled; exit 3."""

    def test(self) -> None:
        """Run the SDK's input; the run completes and reports one rejection of two."""
        with pytest.raises(RejectedRecordsError, match="1 of 2 records were rejected"):
            self.runner.sync_all()


class RecordMissingKeyPropertyIsRejected(TargetRecordMissingKeyProperty):
    """The record without its declared key property is dead-lettered; exit 3."""

    def test(self) -> None:
        """Run the SDK's input; the run completes and reports the rejection."""
        with pytest.raises(RejectedRecordsError, match="1 of 1 records were rejected"):
            self.runner.sync_all()


for _stricter in (
    InvalidSchemaIsRefusedNotFatal,
    RecordBeforeSchemaIsRejected,
    RecordMissingKeyPropertyIsRejected,
):
    _test = _stricter()
    _name = f"test_target_{_test.name}"
    assert hasattr(TestTargetCoupaStandard, _name), _name  # the SDK still has this test
    setattr(TestTargetCoupaStandard, _name, _test.run)


def test_every_state_is_relayed_in_order(tmp_path):
    source = importlib.resources.files(target_test_streams) / "multiple_state_messages.singer"
    expected = [
        json.loads(line)["value"]
        for line in source.read_text().splitlines()
        if json.loads(line)["type"] == "STATE"
    ]
    out = io.StringIO()
    target = TargetCoupa(config={**CONFIG, "dead_letter_path": str(tmp_path / "dl.jsonl")})
    with redirect_stdout(out):
        target.listen(io.StringIO(source.read_text()))
    assert [json.loads(line) for line in out.getvalue().splitlines()] == expected
    assert target.ledger.counts["skipped"] == target.ledger.received > 0
