"""Invoice records in exactly the shape tap-coupa emits, for tests that need no Coupa."""

from __future__ import annotations

import copy
from typing import Any

_INVOICE: dict[str, Any] = {
    "id": 48213,
    "created-at": "2024-01-05T10:22:33-08:00",
    "updated-at": "2024-01-09T21:04:12+00:00",
    "created-by": {"id": 511, "login": "supplier_user_17", "email": "ar@insight.example"},
    "updated-by": {"id": 10, "login": "amanning", "email": "amanning@example.com"},
    "invoice-number": "INV-1001",
    "invoice-date": "2024-01-05T00:00:00-08:00",
    "document-type": "Invoice",
    "status": "approved",
    "line-level-taxation": False,
    "exported": True,
    "last-exported-at": "2024-01-10T02:00:00-08:00",
    "paid": False,
    "payment-date": None,
    "comments": "January hardware",
    "supplier-note": None,
    "handling-amount": "0.00",
    "misc-amount": "0.00",
    "shipping-amount": "25.00",
    "tax-amount": "71.61",
    "gross-total": "964.60",
    "total-with-taxes": "964.60",
    "amount-due": "964.60",
    "net-due-date": "2024-02-04T00:00:00-08:00",
    "account-type": {"id": 1, "name": "US Chart Of Accounts"},
    "currency": {"id": 1, "code": "USD", "decimals": 2},
    "supplier": {"id": 17, "name": "Insight", "display-name": "Insight", "number": "V-10017"},
    "payment-term": {"id": 3, "code": "Net 30", "description": "Net 30"},
    "bill-to-address": {"id": 24, "name": "HQ Accounts Payable", "location-code": "HQ-AP"},
    "ship-to-address": None,
    "requested-by": {"id": 10, "login": "amanning"},
    "custom-fields": {"cf-erp-invoice-number": None},
    "approvals": [{"id": 88810, "status": "approved", "position": 1}],
    "payments": [],
    "invoice-lines": [
        {
            "id": 99120,
            "line-num": 1,
            "type": "InvoiceQuantityLine",
            "description": "Dell Latitude 7440 laptop",
            "price": "867.99",
            "quantity": "1.0",
            "total": "867.99",
            "accounting-total": "867.99",
            "status": "matched",
            "order-line-id": 70311,
            "po-number": "4500123",
            "source-part-num": "LAT7440-16",
            "tax-amount": "71.61",
            "currency": {"id": 1, "code": "USD", "decimals": 2},
            "uom": {"id": 1, "code": "EA", "name": "Each"},
            "commodity": {"id": 36, "name": "Laptops and Tablets"},
            "account": {
                "id": 18,
                "name": "HQ - IT, Assets",
                "code": "HQ-IT-Assets",
                "active": True,
                "account-type": {"id": 1, "name": "US Chart Of Accounts"},
            },
            "created-at": "2024-01-05T10:22:33-08:00",
            "updated-at": "2024-01-09T21:04:12+00:00",
        },
        {
            "id": 99121,
            "line-num": 2,
            "type": "InvoiceQuantityLine",
            "description": "USB-C dock",
            "price": "25.00",
            "quantity": "1",
            "total": "25.00",
            "status": "matched",
            "uom": {"id": 1, "code": "EA", "name": "Each"},
            "account": {"id": 18, "code": "HQ-IT-Assets", "name": "HQ - IT, Assets"},
        },
    ],
}


def invoice_record(**overrides: Any) -> dict[str, Any]:
    """A tap-coupa `invoices` record; keyword names use `_` for `-`."""
    record = copy.deepcopy(_INVOICE)
    for name, value in overrides.items():
        record[name.replace("_", "-")] = value
    return record
