"""dry_run: resolve, validate and report; never write to Coupa."""

from __future__ import annotations

import copy
import logging

from tests.target.conftest import (
    dead_letters,
    invoices,
    new_invoice,
    template_invoice,
    write_invoices,
    writes,
)


def test_dry_run_reports_every_outcome_and_writes_nothing(coupa, config):
    existing = new_invoice(coupa.control, "T-DRY-EXISTING")
    assert write_invoices(config, [existing]).counts == {"created": 1}
    writes_before = len(writes(coupa.control))
    count_before = len(invoices(coupa.control))

    changed_draft = copy.deepcopy(existing)
    changed_draft["comments"] = "changed in dry run"
    approved = template_invoice(coupa.control, status="approved")
    approved["comments"] = "changed in dry run"
    unknown_currency = new_invoice(coupa.control, "T-DRY-CUR", currency={"code": "XXX"})
    unknown_account = new_invoice(coupa.control, "T-DRY-ACC")
    unknown_account["invoice-lines"][0]["account"] = {"id": 1, "code": "NO-SUCH-ACCOUNT"}
    no_price = new_invoice(coupa.control, "T-DRY-PRICE")
    no_price["invoice-lines"][0]["price"] = None
    records = [
        new_invoice(coupa.control, "T-DRY-NEW"),
        existing,
        changed_draft,
        approved,
        unknown_currency,
        unknown_account,
        no_price,
    ]

    run = write_invoices({**config, "dry_run": True}, records)

    assert run.counts == {
        "created": 1,
        "unchanged": 1,
        "updated": 1,
        "conflict": 1,
        "rejected": 3,
    }
    assert run.error is not None  # would-be rejections fail a dry run too
    assert len(writes(coupa.control)) == writes_before
    assert len(invoices(coupa.control)) == count_before
    assert dead_letters(config) == []  # a dry run leaves no file behind
    assert run.target is not None
    assert run.target.ledger.dead_letter_path is None


def test_dry_run_names_the_unknown_reference(coupa, config, caplog):
    caplog.set_level(logging.INFO)
    record = new_invoice(coupa.control, "T-DRY-SUP", supplier={"number": "V-NOPE"})
    run = write_invoices({**config, "dry_run": True, "allow_failures": True}, [record])
    assert run.error is None
    assert run.counts == {"rejected": 1}
    assert "supplier number 'V-NOPE' does not exist" in caplog.text
    assert "Dry run (nothing written)" in caplog.text
    assert writes(coupa.control) == []
