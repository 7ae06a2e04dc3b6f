"""Invoice writes: create, validate, update, line edits and status actions (§10)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
import requests


@pytest.fixture
def refs(coupa):
    supplier = coupa.control.records("suppliers")[0]
    account = coupa.control.records("accounts")[0]
    uom = coupa.control.records("uoms")[0]
    return supplier, account, uom


def _invoice(refs, number="EXT-1001", **extra):
    supplier, account, uom = refs
    body = {
        "invoice_number": number,
        "invoice_date": "2024-11-05",
        "supplier": {"number": supplier["number"], "name": supplier["name"]},
        "currency": {"code": "USD"},
        "payment_term": {"code": "Net 30"},
        "invoice_lines": [
            {"type": "InvoiceQuantityLine", "description": "Straße ☕", "price": "10.125",
             "quantity": 3, "account": {"code": account["code"]}, "uom": {"code": uom["code"]}},
            {"type": "InvoiceAmountLine", "description": "Fee", "price": 1234567890.5},
        ],
    }  # fmt: skip
    body.update(extra)
    return body


def _create(api, refs, **kw):
    response = api.send("POST", "/api/invoices", _invoice(refs, **kw))
    assert response.status_code == 201, response.text
    return response.json()


def _errors(response):
    assert response.status_code == 400, response.text
    return " | ".join(response.json()["errors"]["invoice-header"])


def test_create_returns_201_draft_full_record(api, coupa, refs):
    before = max(r["id"] for r in coupa.control.records("invoices"))
    created = _create(api, refs)
    assert created["status"] == "draft"
    assert created["id"] > before
    assert created["supplier"]["id"] == refs[0]["id"]
    assert created["currency"]["code"] == "USD"
    assert created["invoice-date"].startswith("2024-11-05T00:00:00")
    assert created["invoice-lines"][0]["total"] == "30.375"
    assert Decimal(created["gross-total"]) == Decimal("30.375") + Decimal("1234567890.5")
    assert created["invoice-lines"][0]["uom"]["code"] == refs[2]["code"]
    shown = api.get(f"/api/invoices/{created['id']}").json()
    assert shown == created
    assert created in coupa.control.records("invoices")


def test_line_num_is_kept_and_xml_errors(api, refs):
    body = _invoice(refs, number="NUM-1")
    body["invoice_lines"][0]["line_num"] = 10
    body["invoice_lines"][1]["line-num"] = 20
    response = api.send("POST", "/api/invoices", body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert [line["line-num"] for line in created["invoice-lines"]] == [10, 20]
    response = api.session.post(
        f"{api.base}/api/invoices",
        data="{}",
        headers={**api.headers("application/xml"), "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    assert "<errors><error>Invoice number can't be blank</error>" in response.text


def test_duplicate_number_per_supplier_rejected(api, refs):
    _create(api, refs, number="DUP-1")
    assert "Invoice number has already been taken" in _errors(
        api.send("POST", "/api/invoices", _invoice(refs, "DUP-1"))
    )


def test_unknown_references_and_mismatched_keys(api, refs):
    body = _invoice(refs, supplier={"name": "No Such Supplier GmbH"})
    assert "Supplier not found" in _errors(api.send("POST", "/api/invoices", body))
    body = _invoice(refs, supplier={"id": refs[0]["id"], "number": "V-0"})
    assert "Supplier not found" in _errors(api.send("POST", "/api/invoices", body))
    body = _invoice(refs, currency={"code": "XXX"})
    assert "Currency not found" in _errors(api.send("POST", "/api/invoices", body))


def test_required_fields_and_line_rules(api, refs):
    body = _invoice(refs)
    del body["invoice_number"]
    del body["currency"]
    message = _errors(api.send("POST", "/api/invoices", body))
    assert "Invoice number can't be blank" in message
    assert "Currency can't be blank" in message
    body = _invoice(refs)
    del body["invoice_lines"][0]["price"]
    del body["invoice_lines"][1]["description"]
    message = _errors(api.send("POST", "/api/invoices", body))
    assert "Line 1: price can't be blank" in message
    assert "Line 2: description can't be blank" in message
    body = _invoice(refs)
    del body["invoice_lines"][0]["quantity"]
    assert "quantity can't be blank" in _errors(api.send("POST", "/api/invoices", body))
    body = _invoice(refs, bogus_field=1)
    assert "bogus-field" in _errors(api.send("POST", "/api/invoices", body))


def test_update_draft_moves_updated_at_and_edits_lines(api, refs):
    created = _create(api, refs)
    first, second = created["invoice-lines"]
    update = {
        "supplier_note": "Danke schön",
        "invoice_lines": [
            {"id": first["id"], "price": "20"},
            {"id": second["id"], "_delete": True},
            {"type": "InvoiceAmountLine", "description": "New line", "price": "5.5"},
        ],
    }
    response = api.send("PUT", f"/api/invoices/{created['id']}", update)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["supplier-note"] == "Danke schön"
    lines = {line["id"]: line for line in updated["invoice-lines"]}
    assert second["id"] not in lines
    assert lines[first["id"]]["total"] == "60"
    assert len(lines) == 2
    assert Decimal(updated["gross-total"]) == Decimal("65.5")
    assert datetime.fromisoformat(updated["updated-at"]) >= datetime.fromisoformat(
        created["updated-at"]
    )
    bad = api.send("PUT", f"/api/invoices/{created['id']}", {"invoice_lines": [{"id": 1}]})
    assert "not a line of this invoice" in _errors(bad)


def test_update_refused_when_not_editable(api, coupa):
    approved = next(r for r in coupa.control.records("invoices") if r["status"] == "approved")
    response = api.send("PUT", f"/api/invoices/{approved['id']}", {"comments": "x"})
    assert "approved" in _errors(response)
    assert api.send("PUT", "/api/invoices/1", {"comments": "x"}).status_code == 404


def test_submit_void_abandon_transitions(api, refs, coupa):
    a = _create(api, refs, number="ACT-1")
    submitted = api.send("PUT", f"/api/invoices/{a['id']}/submit")
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "pending_approval"
    assert "pending_approval" in _errors(api.send("PUT", f"/api/invoices/{a['id']}/void"))
    b = _create(api, refs, number="ACT-2")
    assert api.send("PUT", f"/api/invoices/{b['id']}/void").json()["status"] == "voided"
    c = _create(api, refs, number="ACT-3")
    assert api.send("PUT", f"/api/invoices/{c['id']}/abandon").json()["status"] == "abandoned"
    assert "abandoned" in _errors(api.send("PUT", f"/api/invoices/{c['id']}/submit"))
    approved = next(r for r in coupa.control.records("invoices") if r["status"] == "approved")
    assert api.send("PUT", f"/api/invoices/{approved['id']}/void").json()["status"] == "voided"


def test_written_invoice_appears_in_updated_at_window(api, refs):
    created = _create(api, refs, number="WIN-1")
    rows = api.all_rows("invoices", {"updated-at[gt_or_eq]": created["updated-at"]})
    assert created["id"] in [r["id"] for r in rows]


def test_write_scopes(api, coupa, refs, oauth_client, mint_token):
    cid, secret = oauth_client(["core.invoice.read", "core.invoice.create"])
    token = mint_token(cid, secret)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    url = f"{coupa.base_url}/api/invoices"
    created = requests.post(url, json=_invoice(refs, "SCOPE-1"), headers=headers, timeout=30)
    assert created.status_code == 201
    rid = created.json()["id"]
    put = requests.put(f"{url}/{rid}", json={"comments": "x"}, headers=headers, timeout=30)
    assert put.status_code == 403
    assert put.json()["scope"] == "core.invoice.write"
    void = requests.put(f"{url}/{rid}/void", headers=headers, timeout=30)
    assert void.json()["scope"] == "core.invoice.delete"
    assert requests.put(f"{url}/{rid}/submit", headers=headers, timeout=30).status_code == 200
