"""Records Coupa (or the target) refuses: rejected one by one, dead-lettered, counted, exit 1."""

from __future__ import annotations

import json
import threading
import time

from coupa_api.client import CoupaClient
from target_coupa.payloads import request_from
from tests.target.conftest import (
    dead_letters,
    invoices_numbered,
    new_invoice,
    run_cli,
    singer_input,
    write_invoices,
)


def test_each_bad_record_is_rejected_with_coupa_messages_and_the_rest_written(coupa, config):
    good = new_invoice(coupa.control, "T-OK-1")
    unknown_supplier = new_invoice(
        coupa.control, "T-BAD-SUP", supplier={"id": 987654, "name": "No Such Supplier Ltd"}
    )
    no_number = new_invoice(coupa.control, "x", invoice_number=None)
    no_price = new_invoice(coupa.control, "T-BAD-PRICE")
    no_price["invoice-lines"][0]["price"] = None
    good_too = new_invoice(coupa.control, "T-OK-2")

    run = write_invoices(config, [good, unknown_supplier, no_number, no_price, good_too])

    assert run.counts == {"created": 2, "rejected": 3}
    assert sum(run.counts.values()) == 5
    assert run.error is not None
    assert "3 of 5 records were rejected" in str(run.error)
    assert invoices_numbered(coupa.control, "T-BAD-SUP") == []
    assert invoices_numbered(coupa.control, "T-BAD-PRICE") == []
    assert len(invoices_numbered(coupa.control, "T-OK-2")) == 1

    letters = {(d["key"] or {}).get("invoice-number"): d for d in dead_letters(config)}
    assert set(letters) == {"T-BAD-SUP", "T-BAD-PRICE", None}
    supplier = letters["T-BAD-SUP"]
    assert supplier["status"] == 400
    assert supplier["key"]["supplier"] == {"name": "No Such Supplier Ltd"}
    assert supplier["errors"]  # Coupa's own messages, verbatim
    assert supplier["record"]["invoice-number"] == "T-BAD-SUP"
    price = letters["T-BAD-PRICE"]
    assert price["status"] == 400
    assert any("rice" in message for message in price["errors"])
    missing = letters[None]
    assert missing["status"] is None
    assert "invoice-number" in missing["errors"][0]
    assert missing["stage"] == "key"


def test_invoice_created_by_someone_else_meanwhile_is_found_not_rejected(coupa, config):
    """Another system creates the same invoice between the target's lookup and its POST.

    The target's POST is held back (a `slow` fault) while a second client creates the invoice;
    Coupa then refuses the target's POST as a duplicate invoice number for that supplier. The
    target looks the invoice up again and finds it identical: unchanged, not a dead letter.
    """
    record = new_invoice(coupa.control, "T-DUP-1")
    body = request_from(record).create_payload()
    coupa.control.add_faults(
        [{"kind": "slow", "path": "/api/invoices", "method": "POST", "delay_s": 3.0}]
    )
    other = CoupaClient(config, scopes=["core.invoice.create"])
    other.auth.bearer_header()  # minted before the race: the racing POST is one request

    finished = threading.Event()

    def race() -> None:
        """Once the emulator holds the target's POST, create the same invoice."""
        deadline = time.monotonic() + 120
        while "POST /api/invoices" not in coupa.control.stats()["serving"]:
            if finished.is_set() or time.monotonic() > deadline:
                return  # the target never POSTed: the assertions below say what it did
            time.sleep(0.02)
        other.request("POST", "/api/invoices", json=body)

    racer = threading.Thread(target=race)
    racer.start()
    try:
        run = write_invoices(config, [record])
    finally:
        finished.set()
        racer.join(timeout=150)
    assert len(invoices_numbered(coupa.control, "T-DUP-1")) == 1
    assert run.error is None
    assert run.counts == {"unchanged": 1}
    assert dead_letters(config) == []


def test_record_failing_the_schema_is_rejected_with_its_reason(coupa, config):
    bad = new_invoice(coupa.control, "T-SCHEMA-1")
    bad["invoice-lines"] = "not a list"
    good = new_invoice(coupa.control, "T-SCHEMA-2")
    run = write_invoices(config, [bad, good])
    assert run.counts == {"rejected": 1, "created": 1}
    [letter] = dead_letters(config)
    assert letter["stage"] == "schema"
    assert "invoice-lines" in letter["errors"][0]
    assert "schema" in letter["errors"][0]


def test_allow_failures_exits_zero(coupa, config):
    bad = new_invoice(coupa.control, "T-ALLOW-1", supplier={"name": "Nobody At All"})
    run = write_invoices({**config, "allow_failures": True}, [bad])
    assert run.error is None
    assert run.counts == {"rejected": 1}
    assert len(dead_letters(config)) == 1


def test_cli_exit_code_and_summary(coupa, config, tmp_path):
    good = new_invoice(coupa.control, "T-CLI-1")
    bad = new_invoice(coupa.control, "T-CLI-2", supplier={"name": "Nobody At All"})
    text = singer_input([good, bad])

    failed = run_cli(config, tmp_path, text)
    assert failed.returncode == 3, failed.stderr[-3000:]  # ExitCode.REJECTED
    assert (
        "2 records received: 1 created, 0 updated, 0 unchanged, 0 submitted, 0 conflict, 1 rejected"
        in (failed.stderr)
    )
    assert "1 of 2 records were rejected" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert json.loads(failed.stdout.splitlines()[-1]) == {"bookmarks": {"invoices": {"n": "end-2"}}}

    allowed = run_cli({**config, "allow_failures": True}, tmp_path, text)
    assert allowed.returncode == 0, allowed.stderr[-3000:]
    assert "1 unchanged" in allowed.stderr
    assert len(dead_letters(config)) == 2  # appended, one per run
