"""Pure translation of tap records into Coupa write payloads (no Coupa needed)."""

from __future__ import annotations

import copy

import pytest

from target_coupa.payloads import (
    HEADER_FIELDS,
    LINE_FIELDS,
    LineRequest,
    PayloadError,
    key_of,
    local_problems,
    match_lines,
    plan_update,
    request_from,
)
from target_coupa.references import (
    ACCOUNT,
    ACCOUNT_TYPE,
    ADDRESS,
    COMMODITY,
    CURRENCY,
    PAYMENT_TERM,
    SUPPLIER,
    UOM,
    reference_for,
)
from tests.target.records import invoice_record

READ_ONLY = (
    "id", "status", "created-at", "updated-at", "created-by", "updated-by", "exported",
    "last-exported-at", "paid", "payment-date", "gross-total", "total-with-taxes",
    "amount-due", "net-due-date", "approvals", "payments", "requested-by", "document-type",
    "line-level-taxation",
)  # fmt: skip


def test_create_payload_keeps_only_writable_fields():
    payload = request_from(invoice_record()).create_payload()
    for name in READ_ONLY:
        assert name not in payload, name
    assert set(payload) <= {
        *HEADER_FIELDS,
        "supplier",
        "currency",
        "payment-term",
        "account-type",
        "bill-to-address",
        "ship-to-address",
        "invoice-lines",
    }
    for line in payload["invoice-lines"]:
        assert "id" not in line  # ids belong to the source instance
        assert set(line) <= {*LINE_FIELDS, "account", "uom", "commodity"}
        for name in (
            "status", "accounting-total", "currency", "created-at", "order-line-id", "po-number",
            "tax-amount",
        ):  # fmt: skip
            assert name not in line


def test_references_are_sent_by_natural_key_only():
    payload = request_from(invoice_record()).create_payload()
    assert payload["supplier"] == {"number": "V-10017"}
    assert payload["currency"] == {"code": "USD"}
    assert payload["payment-term"] == {"code": "Net 30"}
    assert payload["account-type"] == {"name": "US Chart Of Accounts"}
    assert payload["bill-to-address"] == {"location-code": "HQ-AP"}
    assert "ship-to-address" not in payload  # null reference: not sent, not cleared
    line = payload["invoice-lines"][0]
    assert line["account"] == {"code": "HQ-IT-Assets"}
    assert line["uom"] == {"code": "EA"}
    assert line["commodity"] == {"name": "Laptops and Tablets"}


@pytest.mark.parametrize(
    ("kind", "stub", "expected"),
    [
        (SUPPLIER, {"id": 1, "name": "Acme", "number": "V-1"}, {"number": "V-1"}),
        (SUPPLIER, {"id": 1, "name": "Acme", "number": None}, {"name": "Acme"}),
        (SUPPLIER, {"id": 1, "name": " ", "number": ""}, {"id": 1}),
        (CURRENCY, {"id": 2, "code": "EUR"}, {"code": "EUR"}),
        (CURRENCY, {"id": 2}, {"id": 2}),
        (ACCOUNT, {"id": 3, "code": "A-1", "name": "Assets"}, {"code": "A-1"}),
        (ACCOUNT, {"id": 3, "name": "Assets"}, {"id": 3}),  # name is not an account key
        (UOM, {"id": 4, "code": "EA", "name": "Each"}, {"code": "EA"}),
        (PAYMENT_TERM, {"id": 5, "code": "Net 30"}, {"code": "Net 30"}),
        (ACCOUNT_TYPE, {"id": 6, "name": "US COA"}, {"name": "US COA"}),
        (ADDRESS, {"id": 7, "name": "HQ", "location-code": "HQ-1"}, {"location-code": "HQ-1"}),
        (ADDRESS, {"id": 7, "name": "HQ", "location-code": None}, {"name": "HQ"}),
        (COMMODITY, {"id": 8, "name": "Laptops"}, {"name": "Laptops"}),
        (SUPPLIER, {}, None),
        (SUPPLIER, None, None),
    ],
)
def test_natural_key_rule(kind, stub, expected):
    """First natural key in the documented order; the id only when there is none; never both."""
    assert reference_for(kind, stub) == expected


def test_key_and_lookup_parameters():
    key = key_of(invoice_record())
    assert key.as_dict() == {"supplier": {"number": "V-10017"}, "invoice-number": "INV-1001"}
    assert key.lookup_params() == {"invoice-number": "INV-1001", "supplier[number]": "V-10017"}
    by_id = key_of(invoice_record(supplier={"id": 17}))
    assert by_id.lookup_params()["supplier[id]"] == 17


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"invoice_number": None}, "invoice-number"),
        ({"invoice_number": "  "}, "invoice-number"),
        ({"supplier": None}, "supplier"),
        ({"supplier": {"display-name": "x"}}, "supplier"),
    ],
)
def test_records_without_a_key_cannot_be_written(overrides, words):
    with pytest.raises(PayloadError, match=words):
        key_of(invoice_record(**overrides))


def test_line_without_price_is_a_local_problem():
    record = invoice_record()
    record["invoice-lines"][1]["price"] = None
    assert local_problems(request_from(record)) == [
        "line 2 has no price; Coupa requires one on every invoice line."
    ]


def _existing(record):
    """How Coupa shows `record` after writing it: other ids, other formats, same business."""
    existing = copy.deepcopy(record)
    existing.update(id=9001, status="draft", **{"invoice-date": "2024-01-05T08:00:00Z"})
    existing["supplier"] = {"id": 4, "name": "Insight", "number": "V-10017"}
    existing["shipping-amount"] = "25.0"
    for n, line in enumerate(existing["invoice-lines"], start=500):
        line["id"] = n
        line["quantity"] = "1.000"
    return existing


def test_identical_invoice_is_unchanged_despite_formatting():
    record = invoice_record()
    plan = plan_update(request_from(record), _existing(record))
    assert plan.unchanged, plan.differences


def test_update_edits_lines_in_place_adds_and_deletes():
    record = invoice_record()
    existing = _existing(record)
    record["invoice-lines"][0]["price"] = "850.00"
    record["invoice-lines"].append({"line-num": 3, "description": "new", "price": "2.00"})
    plan = plan_update(request_from(record), existing)
    lines = plan.payload["invoice-lines"]
    assert [line.get("id") for line in lines] == [500, 501, None]
    assert lines[0]["price"] == "850.00"
    assert set(plan.differences) == {"line 1: price changed", "line 3 added"}

    shorter = invoice_record()
    del shorter["invoice-lines"][1]
    plan = plan_update(request_from(shorter), existing)
    assert plan.payload["invoice-lines"][1] == {"id": 501, "_delete": True}
    assert plan.differences == ("line 2 (id 501) removed",)


def test_renumbered_lines_are_paired_in_order_and_not_compared_by_number():
    """An instance that numbers lines itself (1, 2) still matches a source numbered (1, 3)."""
    record = invoice_record()
    record["invoice-lines"][1]["line-num"] = 3
    existing = _existing(invoice_record())
    plan = plan_update(request_from(record), existing)
    assert plan.unchanged, plan.differences
    assert [line["id"] for line in plan.payload["invoice-lines"]] == [500, 501]


def test_header_difference_is_named():
    record = invoice_record(comments="changed")
    plan = plan_update(request_from(record), _existing(invoice_record()))
    assert plan.differences == ("comments: 'January hardware' -> 'changed'",)
    assert "supplier" not in plan.payload  # the key is what found the invoice: never sent
    assert "invoice-number" not in plan.payload


def test_lines_match_by_number_first_then_by_id_then_in_order():
    existing = [{"id": 10, "line-num": 1}, {"id": 11, "line-num": 2}, {"id": 12, "line-num": 3}]
    lines = [
        LineRequest({}, line_num=2, source_id=10),  # a copied line: its id is foreign
        LineRequest({}, line_num=None, source_id=10),  # a same-instance line without number
        LineRequest({}, line_num=9, source_id=None),  # renumbered: takes what is left
        LineRequest({}, line_num=8, source_id=None),  # nothing left: a new line
    ]
    assert [found and found["id"] for _, found in match_lines(lines, existing)] == [
        11, 10, 12, None
    ]  # fmt: skip


def test_duplicate_line_numbers_never_share_an_existing_line():
    existing = [{"id": 10, "line-num": 1}]
    pairs = match_lines([LineRequest({}, 1), LineRequest({}, 1)], existing)
    assert [found for _, found in pairs] == [{"id": 10, "line-num": 1}, None]


def test_record_without_lines_leaves_lines_alone():
    record = invoice_record()
    del record["invoice-lines"]
    plan = plan_update(request_from(record), _existing(invoice_record()))
    assert "invoice-lines" not in plan.payload
    assert plan.unchanged
