"""Upsert by supplier + invoice number against the emulator: create, update, unchanged, conflict."""

from __future__ import annotations

import copy
from decimal import Decimal

from tests.target.conftest import (
    dead_letters,
    invoices,
    invoices_numbered,
    new_invoice,
    template_invoice,
    write_invoices,
    writes,
)


def test_absent_invoice_is_created_as_draft(coupa, config):
    record = new_invoice(coupa.control, "T-CREATE-1")
    run = write_invoices(config, [record])
    assert run.error is None
    assert run.counts == {"created": 1}
    [created] = invoices_numbered(coupa.control, "T-CREATE-1")
    assert created["status"] == "draft"
    assert created["id"] != record["id"]
    assert created["supplier"]["number"] == record["supplier"]["number"]
    assert created["currency"]["code"] == record["currency"]["code"]
    assert [line["line-num"] for line in created["invoice-lines"]] == [
        line["line-num"] for line in record["invoice-lines"]
    ]
    assert [w["method"] for w in writes(coupa.control)] == ["POST"]


def test_second_run_creates_nothing_and_sends_no_put(coupa, config):
    records = [new_invoice(coupa.control, f"T-IDEM-{n}") for n in range(3)]
    first = write_invoices(config, records)
    assert first.counts == {"created": 3}
    before = len(invoices(coupa.control))
    writes_before = len(writes(coupa.control))

    second = write_invoices(config, records)
    assert second.error is None
    assert second.counts == {"unchanged": 3}
    assert len(invoices(coupa.control)) == before
    assert len(writes(coupa.control)) == writes_before  # compared, not rewritten


def test_editable_invoice_is_updated_in_place_without_duplicate_lines(coupa, config):
    record = new_invoice(coupa.control, "T-UPDATE-1")
    write_invoices(config, [record])
    [created] = invoices_numbered(coupa.control, "T-UPDATE-1")

    changed = copy.deepcopy(record)
    changed["comments"] = "corrected by target test"
    changed["invoice-lines"][0]["price"] = "12.34"
    extra = copy.deepcopy(changed["invoice-lines"][0])
    extra.pop("id")
    extra.update({"line-num": 99, "description": "added line", "price": "1.00"})
    changed["invoice-lines"].append(extra)
    run = write_invoices(config, [changed])
    assert run.counts == {"updated": 1}

    [updated] = invoices_numbered(coupa.control, "T-UPDATE-1")
    assert updated["id"] == created["id"]
    assert updated["comments"] == "corrected by target test"
    assert len(updated["invoice-lines"]) == len(changed["invoice-lines"])
    descriptions = [line["description"] for line in updated["invoice-lines"]]
    assert descriptions.count("added line") == 1
    first = next(line for line in updated["invoice-lines"] if line["line-num"] == 1)
    assert Decimal(first["price"]) == Decimal("12.34")
    # line 1 kept its Coupa id: edited, not replaced
    assert first["id"] == next(x["id"] for x in created["invoice-lines"] if x["line-num"] == 1)

    again = write_invoices(config, [changed])
    assert again.counts == {"unchanged": 1}


def test_line_missing_from_input_is_removed(coupa, config):
    record = new_invoice(coupa.control, "T-SHRINK-1")
    while len(record["invoice-lines"]) < 2:
        line = copy.deepcopy(record["invoice-lines"][0])
        line["line-num"] = len(record["invoice-lines"]) + 1
        record["invoice-lines"].append(line)
    write_invoices(config, [record])
    shorter = copy.deepcopy(record)
    shorter["invoice-lines"] = shorter["invoice-lines"][:1]
    run = write_invoices(config, [shorter])
    assert run.counts == {"updated": 1}
    [updated] = invoices_numbered(coupa.control, "T-SHRINK-1")
    assert [line["line-num"] for line in updated["invoice-lines"]] == [1]


def test_non_editable_invoice_is_a_conflict_and_untouched(coupa, config):
    approved = template_invoice(coupa.control, status="approved")
    changed = copy.deepcopy(approved)
    changed["comments"] = "should not land"
    run = write_invoices(config, [changed])
    assert run.error is None  # conflicts are reported, they do not fail the run
    assert run.counts == {"conflict": 1}
    [stored] = [i for i in invoices(coupa.control) if i["id"] == approved["id"]]
    assert stored["comments"] == approved["comments"]
    assert writes(coupa.control) == []
    [letter] = dead_letters(config)
    assert letter["outcome"] == "conflict"
    assert letter["coupa_id"] == approved["id"]
    assert letter["status"] is None
    assert "approved" in letter["errors"][0]
    assert letter["key"]["invoice-number"] == approved["invoice-number"]


def test_identical_non_editable_invoice_is_unchanged(coupa, config):
    approved = template_invoice(coupa.control, status="approved")
    run = write_invoices(config, [approved])
    assert run.counts == {"unchanged": 1}
    assert dead_letters(config) == []


def test_submit_after_create(coupa, config):
    record = new_invoice(coupa.control, "T-SUBMIT-1")
    run = write_invoices({**config, "submit": True}, [record])
    assert run.counts == {"created": 1}
    [created] = invoices_numbered(coupa.control, "T-SUBMIT-1")
    assert created["status"] not in {"draft", "new"}
    assert [w["method"] for w in writes(coupa.control)] == ["POST", "PUT"]
    assert writes(coupa.control)[1]["path"].endswith("/submit")


def test_supplier_by_name_when_it_has_no_number(coupa, config):
    record = new_invoice(coupa.control, "T-BYNAME-1")
    record["supplier"] = {"id": 999999, "name": record["supplier"]["name"], "number": None}
    run = write_invoices(config, [record])
    assert run.counts == {"created": 1}, dead_letters(config)
    assert len(invoices_numbered(coupa.control, "T-BYNAME-1")) == 1
    assert write_invoices(config, [record]).counts == {"unchanged": 1}
