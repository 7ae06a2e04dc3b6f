"""singer-sdk's standard target tests, where they make sense for an invoice writer.

The SDK's canned streams (`test_camelcase`, `array_data`, ...) are not invoices, so they run
with `on_unsupported_stream: skip`: they exercise the SDK plumbing around the target (schema
handling, key properties, validation, STATE relay) and the skip path, never Coupa. Writing
invoices is covered by the emulator tests next to this file.

All 16 tests of the 0.54.9 suite run; none is left out. The suite does not include the SDK's
`multiple_state_messages` file test (it expects the SDK's batched relay, 3 of 5 STATEs);
`test_every_state_is_relayed_in_order` runs that file and checks this target's stricter
behaviour instead: every STATE, in order, as soon as the records before it are done.
"""

from __future__ import annotations

import importlib.resources
import io
import json
from contextlib import redirect_stdout

from singer_sdk.testing import get_target_test_class, target_test_streams

from target_coupa.target import TargetCoupa

CONFIG = {
    # Never contacted: every SDK test stream is skipped before anything talks to Coupa.
    "base_url": "http://127.0.0.1:9",
    "client_id": "demo",
    "client_secret": "demo-secret",
    "on_unsupported_stream": "skip",
}
TestTargetCoupaStandard = get_target_test_class(TargetCoupa, config=CONFIG)


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
