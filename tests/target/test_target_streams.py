"""Streams other than `invoices`: a clear error naming what is supported, or a counted skip."""

from __future__ import annotations

import json

from tests.target.conftest import (
    new_invoice,
    record_message,
    run_target,
    schema_message,
    state_message,
    writes,
)


def _input(coupa) -> str:
    invoice = new_invoice(coupa.control, "T-STREAMS-1")
    line = {**invoice["invoice-lines"][0], "invoice-id": invoice["id"]}
    messages = [
        schema_message(),
        schema_message("invoice_lines", {"type": "object", "properties": {"id": {}}}),
        record_message(line, "invoice_lines"),
        record_message(invoice),
        state_message(1),
    ]
    return "".join(json.dumps(m) + "\n" for m in messages)


def test_unsupported_stream_is_an_error_naming_supported_streams(coupa, config):
    run = run_target(config, _input(coupa))
    assert run.error is not None
    message = str(run.error)
    assert "'invoice_lines'" in message
    assert "'invoices'" in message
    assert "inside invoices" in message
    assert "on_unsupported_stream: skip" in message
    assert writes(coupa.control) == []


def test_unsupported_stream_can_be_skipped(coupa, config, caplog):
    run = run_target({**config, "on_unsupported_stream": "skip"}, _input(coupa))
    assert run.error is None
    assert run.counts == {"skipped": 1, "created": 1}
    assert "cannot write stream 'invoice_lines'" in caplog.text
    assert run.states == [state_message(1)["value"]]
