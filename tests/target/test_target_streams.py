"""Streams other than `invoices`: a clear error naming what is supported, or a counted skip."""

from __future__ import annotations

import dataclasses
import json

import pytest

from target_coupa.sinks import InvoiceSink, SkippedStreamSink, WriteServices
from tests.target.conftest import (
    new_invoice,
    record_message,
    run_cli,
    run_target,
    schema_message,
    state_message,
    writes,
)


def _input(coupa) -> str:
    invoice = new_invoice(coupa.control, "T-STREAMS-1")
    supplier = {"id": 1, "name": "A supplier"}
    messages = [
        schema_message(),
        schema_message("suppliers", {"type": "object", "properties": {"id": {}, "name": {}}}),
        record_message(supplier, "suppliers"),
        record_message(invoice),
        state_message(1),
    ]
    return "".join(json.dumps(m) + "\n" for m in messages)


def test_unsupported_stream_is_an_error_naming_supported_streams(coupa, config):
    run = run_target(config, _input(coupa))
    assert run.error is not None
    message = str(run.error)
    assert "'suppliers'" in message
    assert "'invoices'" in message
    assert "on_unsupported_stream: skip" in message
    assert writes(coupa.control) == []
    assert run.target is not None
    assert run.target.ledger.received == 0  # refused at its SCHEMA, before any record


def test_unsupported_stream_can_be_skipped(coupa, config, caplog):
    run = run_target({**config, "on_unsupported_stream": "skip"}, _input(coupa))
    assert run.error is None
    assert run.counts == {"skipped": 1, "created": 1}
    assert "cannot write stream 'suppliers'" in caplog.text
    assert run.states == [state_message(1)["value"]]


def test_line_streams_are_ignored_with_one_note_before_any_record(coupa, config, tmp_path):
    """Lines arrive inside invoices; a tap that also sends `invoice_lines` must not fail the run."""
    invoice = new_invoice(coupa.control, "T-STREAMS-LINES")
    lines = [{**line, "invoice-id": invoice["id"]} for line in invoice["invoice-lines"]]
    messages = [
        schema_message("invoice_lines", {"type": "object", "properties": {"id": {}}}),
        schema_message(),
        *[record_message(line, "invoice_lines") for line in lines],
        record_message(invoice),
        *[record_message(line, "invoice_lines") for line in lines],
        state_message(1),
    ]
    text = "".join(json.dumps(m) + "\n" for m in messages)
    result = run_cli(config, tmp_path, text)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    notes = [
        line
        for line in result.stderr.splitlines()
        if "invoice_lines" in line and "METRIC" not in line
    ]
    assert len(notes) == 1, notes
    assert "inside" in notes[0]
    first_record_log = result.stderr.find("T-STREAMS-LINES")
    assert result.stderr.find(notes[0]) < first_record_log
    skipped = 2 * len(lines)
    counts = f"1 created, 0 updated, 0 unchanged, 0 submitted, 0 conflict, 0 rejected, {skipped}"
    assert counts in result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == state_message(1)["value"]


def test_sinks_receive_the_runs_services_not_the_target(coupa, config):
    """Each sink holds a frozen services object (ledger, dry run, pool); no back-reference."""
    run = run_target({**config, "on_unsupported_stream": "skip"}, _input(coupa))
    assert run.error is None, run.error
    target = run.target
    assert target is not None
    invoices = target.get_sink("invoices")
    suppliers = target.get_sink("suppliers")
    assert isinstance(invoices, InvoiceSink)
    assert isinstance(suppliers, SkippedStreamSink)
    assert invoices.services is target.write_services
    assert invoices.services.pool is target.pool
    assert suppliers.services is target.sink_services
    assert not isinstance(suppliers.services, WriteServices)  # a skipped stream cannot write
    assert invoices.services.ledger is suppliers.services.ledger is target.ledger
    with pytest.raises(dataclasses.FrozenInstanceError):
        invoices.services.dry_run = True  # type: ignore[misc]
    assert not any(value is target for value in vars(invoices).values())
    assert not any(value is target for value in vars(suppliers).values())
    assert run.counts == {"created": 1, "skipped": 1}
