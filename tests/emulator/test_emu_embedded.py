"""Arrays the emulator nests in documents (reference §4/§8.2/§9.1), in JSON and in XML."""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree


def test_invoices_nest_charges_allocations_and_tax_lines(api, coupa):
    invoices = api.all_rows("invoices")
    lines = [line for inv in invoices for line in inv["invoice-lines"]]
    charges = [c for inv in invoices for c in inv["invoice-charges"]]
    allocations = [a for line in lines for a in line["account-allocations"]]
    taxes = [
        *(t for inv in invoices for t in inv["tax-lines"]),
        *(t for line in lines for t in line["tax-lines"]),
        *(t for c in charges for t in c["tax-lines"]),
    ]
    assert charges
    assert allocations
    assert taxes
    assert len({t["id"] for t in taxes}) == len(taxes), "tax line ids are one table"
    for line in lines:
        split = line["account-allocations"]
        if split:  # two accounts sharing the line: shares and amounts add up
            assert sum(Decimal(a["pct"]) for a in split) == 100
            assert sum(Decimal(a["amount"]) for a in split) == Decimal(line["total"])
    for charge in charges:
        assert charge["type"] in {
            "InvoiceShippingCharge",
            "InvoiceHandlingCharge",
            "InvoiceMiscCharge",
        }
        assert isinstance(charge["line-num"], int)
    for tax in taxes:
        assert isinstance(tax["rate"], float)
        assert set(tax) >= {"id", "amount", "code", "base", "created-at", "updated-at"}
    shipping = [inv for inv in invoices if inv["shipping-amount"] != "0.00"]
    assert all(inv["invoice-charges"][0]["total"] == inv["shipping-amount"] for inv in shipping)


def test_order_requisition_and_expense_lines_carry_allocations(api):
    for resource, key in (
        ("purchase_orders", "order-lines"),
        ("requisitions", "requisition-lines"),
        ("expense_reports", "expense-lines"),
    ):
        rows = api.all_rows(resource)
        assert all(isinstance(line["account-allocations"], list) for r in rows for line in r[key])
        assert any(line["account-allocations"] for r in rows for line in r[key]), resource


def test_nested_arrays_in_xml_and_in_fields(api):
    response = api.get("/api/invoices", {"limit": 50}, accept="application/xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own server
    assert root.find("invoice-header/invoice-charges").get("type") == "array"
    assert root.find(".//invoice-charge/account-allocations") is not None
    assert root.find(".//invoice-line/tax-lines") is not None
    shaped = api.rows(
        "/api/invoices",
        {"limit": 50, "fields": '["id",{"invoice-charges":["id",{"tax-lines":["id","rate"]}]}]'},
    )
    assert any(c["tax-lines"] for inv in shaped for c in inv["invoice-charges"])
    assert all(set(c) <= {"id", "tax-lines"} for inv in shaped for c in inv["invoice-charges"])
