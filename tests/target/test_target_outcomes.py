"""The outcome ledger: counts that add up, durable dead letters without secrets."""

from __future__ import annotations

import json
import logging

from target_coupa.outcomes import Outcome, OutcomeLedger, RecordOutcome

LOG = logging.getLogger("test")


def test_counts_add_up_and_only_bad_records_are_dead_lettered(tmp_path):
    path = tmp_path / "dl" / "dead.jsonl"
    ledger = OutcomeLedger(path, LOG)
    for outcome in Outcome:
        ledger.add(RecordOutcome(outcome=outcome, stream="invoices", key={"n": outcome.value}))
    assert ledger.received == len(Outcome)
    assert ledger.rejected == 1
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [entry["outcome"] for entry in lines] == ["conflict", "rejected"]
    assert ledger.summary() == (
        "7 records received: 1 created, 1 updated, 1 unchanged, 1 submitted, 1 conflict, "
        "1 rejected, "
        f"1 skipped; 2 dead-lettered to {path}."
    )
    ledger.close()


def test_dead_letter_has_key_status_errors_and_record_but_no_secret(tmp_path):
    path = tmp_path / "dead.jsonl"
    secret = "top-secret-value"
    ledger = OutcomeLedger(path, LOG, secrets=[secret])
    ledger.add(
        RecordOutcome(
            outcome=Outcome.REJECTED,
            stream="invoices",
            key={"supplier": {"number": "V-1"}, "invoice-number": "INV-1"},
            status=400,
            errors=[f"Supplier can't be blank (client_secret={secret})", "Bearer abc.def.ghi"],
            stage="create",
            record={"invoice-number": "INV-1"},
        )
    )
    ledger.close()
    text = path.read_text()
    assert secret not in text
    assert "abc.def.ghi" not in text
    entry = json.loads(text)
    assert entry["key"] == {"supplier": {"number": "V-1"}, "invoice-number": "INV-1"}
    assert entry["status"] == 400
    assert entry["errors"][0].startswith("Supplier can't be blank")
    assert entry["record"] == {"invoice-number": "INV-1"}
    assert entry["stage"] == "create"


def test_dead_letter_file_is_appended_to_not_truncated(tmp_path):
    path = tmp_path / "dead.jsonl"
    for _ in range(2):
        ledger = OutcomeLedger(path, LOG)
        ledger.add(RecordOutcome(outcome=Outcome.CONFLICT, stream="invoices"))
        ledger.close()
    assert len(path.read_text().splitlines()) == 2


def test_dry_run_ledger_writes_no_file(tmp_path):
    ledger = OutcomeLedger(None, LOG)
    ledger.add(RecordOutcome(outcome=Outcome.REJECTED, stream="invoices"))
    assert ledger.summary(dry_run=True).startswith("Dry run (nothing written): 1 records received")
    assert list(tmp_path.iterdir()) == []
