# ruff: noqa: RUF001 - the data deliberately holds non-ASCII punctuation (en dashes).
"""Records of the main collections: the documents with lines and the reference data they cite.

Invoices, purchase orders, requisitions and expense reports (with their lines and the arrays
nested in them, coupa_emulator.embedded), approvals, contracts, inventory transactions, and
suppliers, users, accounts, currencies and the other reference tables. These scale with
`--scale`; their shapes follow the reference's §9 samples. Each builder is given the record
(id and audit stamps already set) and the record's own random generator, and draws from
nothing else, so a record depends on (seed, profile, resource, id, stamps) only.
coupa_emulator.builders lists these builders with the others.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import TYPE_CHECKING

from coupa_emulator.embedded import add_line_allocations, add_to_invoice
from coupa_emulator.generator import (
    CITIES,
    COMMODITIES,
    DESCRIPTIONS,
    FIRST,
    INVOICE_STATUSES,
    LAST,
    USD_RATES,
    Generator,
    Record,
    compute_invoice_totals,
    invoice_number,
    money,
)
from coupa_emulator.timefmt import fmt, local_ts

if TYPE_CHECKING:
    from coupa_emulator.builders import Builder


def _amount(rng: random.Random, big: bool) -> Decimal:
    if big:  # 19 significant digits: survives only as a string
        return Decimal(f"{rng.randint(10**9, 10**10 - 1)}.{rng.randint(0, 10**9 - 1):09d}")
    return Decimal(rng.randint(100, 250000)) / 100


def _line_head(rec: Record, k: int) -> Record:
    """The first keys of a document's line k: its id (from the document's) and the audit stamps."""
    return {
        "id": rec["id"] * 8 + k,
        "created-at": rec["created-at"],
        "updated-at": rec["updated-at"],
        "created-by": rec["created-by"],
        "updated-by": rec["updated-by"],
    }


def _invoice_line(
    gen: Generator,
    rng: random.Random,
    line_id: int,
    num: int,
    stamps: tuple[str, str],
    *,
    big: bool,
) -> Record:
    """One invoice line; totals are filled in by compute_invoice_totals."""
    quantity_line = rng.random() < 0.75
    account = gen.pick(rng, "accounts")
    currency = gen.ref_ids.get("currencies") or ()
    return {
        "id": line_id,
        "created-at": stamps[0],
        "updated-at": stamps[1],
        "created-by": gen.user(rng),
        "updated-by": gen.user(rng),
        "line-num": num,
        "type": "InvoiceQuantityLine" if quantity_line else "InvoiceAmountLine",
        "description": rng.choice(DESCRIPTIONS),
        "price": money(_amount(rng, big)),
        "quantity": money(Decimal(rng.randint(1, 40)) / 2) if quantity_line else None,
        "total": None,
        "accounting-total": None,
        "status": rng.choice(("matched", "new", "matched")),
        "order-line-id": gen.order_line(rng) if rng.random() < 0.5 else None,
        "po-number": None,
        "source-part-num": f"P-{rng.randint(100, 999)}-ü" if rng.random() < 0.3 else None,
        "tax-amount": "0.00",
        "tax-rate": None,
        "tax-description": None,
        "match-reference": None,
        "currency": gen.stub("currencies", currency[0] if currency else None),
        "accounting-total-currency": gen.stub("currencies", currency[0] if currency else None),
        "uom": gen.stub("uoms", gen.pick(rng, "uoms")) if quantity_line else None,
        "commodity": gen.stub("commodities", gen.pick(rng, "commodities")),
        "account": gen.stub("accounts", account),
        "account-allocations": [],
        "tax-lines": [],
        "withholding-tax-lines": [],
        "failed-tolerances": [],
    }


def _invoices(gen: Generator, rec: Record, rng: random.Random, created: int, updated: int) -> None:
    status = rng.choice(INVOICE_STATUSES)
    # Half the approved invoices are paid, on their last update (own generator: the
    # invoice's other values stay as they were).
    paid = status == "approved" and gen.rng("invoices:paid", rec["id"]).random() < 0.5
    currency = gen.pick(rng, "currencies")
    supplier = gen.pick(rng, "suppliers")
    stamps = (rec["created-at"], rec["updated-at"])
    rec.update(
        {
            "invoice-number": invoice_number(rec["id"]),
            "invoice-date": fmt(local_ts(2024, rng.randint(1, 10), rng.randint(1, 28))),
            "document-type": "Invoice",
            "status": status,
            "line-level-taxation": False,
            "exported": status == "approved" and rng.random() < 0.5,
            "last-exported-at": None,
            "paid": paid,
            "payment-date": fmt(updated) if paid else None,
            "payment-notes": None,
            "comments": rng.choice((None, "Lieferung vollständig ✅", "Partial shipment")),
            "internal-note": None,
            "supplier-note": rng.choice((None, "Thank you for your business", "Merci beaucoup")),
            "handling-amount": "0.00",
            "misc-amount": "0.00",
            "shipping-amount": rng.choice(("0.00", "25.00", "12.50")),
            "tax-amount": "0.00",
            "tax-rate": None,
            "discount-amount": "0.00",
            "discount-percent": None,
            "supplier-total": None,
            "gross-total": None,
            "total-with-taxes": None,
            "amount-due": None,
            "exchange-rate": "1.0",
            "net-due-date": fmt(updated + 30 * 86400),
            "discount-due-date": None,
            "date-received": fmt(created),
            "channel": rng.choice(("supplier_portal", "email", "cxml", "buyer_ui")),
            "compliant": True,
            "canceled": False,
            "supplier-created": rng.random() < 0.5,
            "lock-version-key": rng.randint(0, 9),
            "image-scan-url": None,
            "account-type": gen.stub("account_types", gen.pick(rng, "account_types")),
            "currency": gen.stub("currencies", currency),
            "origin-currency": gen.stub("currencies", currency),
            "supplier": gen.stub("suppliers", supplier),
            "payment-term": gen.stub("payment_terms", gen.pick(rng, "payment_terms")),
            "remit-to-address": None,
            "bill-to-address": gen.stub("addresses", gen.pick(rng, "addresses")),
            "ship-to-address": None,
            "requested-by": gen.user(rng),
            "tax-code": None,
        }
    )
    big = rec["id"] % 3 == 0
    rec["invoice-lines"] = [
        _invoice_line(gen, rng, rec["id"] * 8 + k, k + 1, stamps, big=big and k == 0)
        for k in range(rng.randint(1, 3))
    ]
    for line in rec["invoice-lines"]:
        line["currency"] = line["accounting-total-currency"] = rec["currency"]
    rec["invoice-charges"] = []
    rec["tax-lines"] = []
    rec["withholding-tax-lines"] = []
    rec["payments"] = []
    rec["approvals"] = (
        [{"id": rec["id"] * 2 + 40000, "status": "approved", "approvable-type": "InvoiceHeader",
          "approvable-id": rec["id"], "position": 1, "approval-date": rec["updated-at"]}]
        if status == "approved" else []
    )  # fmt: skip
    rec["attachments"] = []
    compute_invoice_totals(rec)
    rec["supplier-total"] = rec["total-with-taxes"]
    add_to_invoice(gen, rec)


def _purchase_orders(
    gen: Generator, rec: Record, rng: random.Random, created: int, updated: int
) -> None:
    currency = gen.stub("currencies", gen.pick(rng, "currencies"))
    rec.update(
        {
            "po-number": str(4500000 + rec["id"]),
            "status": rng.choice(
                ("issued", "issued", "closed", "cancelled", "draft", "buyer_hold")
            ),
            "version": rng.randint(1, 4),
            "internal-revision": rng.randint(1, 6),
            "change-type": rng.choice(("change", "revision", None)),
            "exported": rng.random() < 0.5,
            "last-exported-at": None,
            "acknowledged-flag": False,
            "acknowledged-at": None,
            "transmission-status": rng.choice(("sent_via_email", "sent_via_cxml")),
            "payment-method": "invoice",
            "ship-to-attention": rng.choice((None, "Réception IT", "IT Receiving")),
            "price-hidden": False,
            "invoice-stop": False,
            "type": None,
            "currency": currency,
            "supplier": gen.stub("suppliers", gen.pick(rng, "suppliers")),
            "payment-term": gen.stub("payment_terms", gen.pick(rng, "payment_terms")),
            "ship-to-address": gen.stub("addresses", gen.pick(rng, "addresses")),
            "ship-to-user": gen.user(rng),
            "requester": gen.user(rng),
            "attachments": [],
            # Reference §8.3 / §9.2: a reference to the requisition, null when none.
            "requisition-header": None,
        }
    )
    lines = []
    total = Decimal(0)
    for k in range(rng.randint(1, 4)):
        price = _amount(rng, rec["id"] % 4 == 0 and k == 0)
        qty = Decimal(rng.randint(1, 10))
        line_total = price * qty
        total += line_total
        lines.append({
            **_line_head(rec, k), "line-num": str(k + 1),
            "type": "OrderQuantityLine", "description": rng.choice(DESCRIPTIONS),
            "status": rng.choice(("received", "created", "partially_received")),
            "quantity": money(qty), "price": money(price), "total": money(line_total),
            "accounting-total": money(line_total), "received": "0.0", "invoiced": "0.0",
            "need-by-date": fmt(created + 20 * 86400), "receipt-required": rng.random() < 0.5,
            "match-type": rng.choice(("3-way", "2-way", "none")), "source-part-num": None,
            "version": 1, "order-header-id": rec["id"], "currency": currency,
            "uom": gen.stub("uoms", gen.pick(rng, "uoms")),
            "commodity": gen.stub("commodities", gen.pick(rng, "commodities")),
            "account": gen.stub("accounts", gen.pick(rng, "accounts")),
            "account-allocations": [], "supplier-schedule-lines": [],
        })  # fmt: skip
    rec["order-lines"] = lines
    rec["total"] = money(total)
    add_line_allocations(gen, rec, "purchase_orders", "order-lines")
    for line in lines:
        line["custom-fields"] = {}  # reference §9.2: order lines carry them too


def _requisitions(
    gen: Generator, rec: Record, rng: random.Random, created: int, updated: int
) -> None:
    currency = gen.stub("currencies", gen.pick(rng, "currencies"))
    lines = []
    total = Decimal(0)
    for k in range(rng.randint(1, 3)):
        price = _amount(rng, False)
        qty = Decimal(rng.randint(1, 5))
        total += price * qty
        lines.append({
            **_line_head(rec, k), "line-num": k + 1,
            "description": rng.choice(DESCRIPTIONS),
            "quantity": money(qty), "unit-price": money(price), "total": money(price * qty),
            "account": gen.stub("accounts", gen.pick(rng, "accounts")),
            "commodity": gen.stub("commodities", gen.pick(rng, "commodities")),
            "supplier": gen.stub("suppliers", gen.pick(rng, "suppliers")),
            "uom": gen.stub("uoms", gen.pick(rng, "uoms")), "need-by-date": None,
            "order-line-id": None, "status": "approved", "line-type": "RequisitionQuantityLine",
        })  # fmt: skip
    rec.update({
        "status": rng.choice(("draft", "pending_approval", "approved", "ordered")),
        "submitted-at": fmt(created + 3600), "need-by-date": None,
        "requested-by": gen.user(rng), "requester": gen.user(rng),
        "ship-to-address": gen.stub("addresses", gen.pick(rng, "addresses")),
        "ship-to-attention": None,
        "department": gen.stub("departments", gen.pick(rng, "departments")),
        "currency": currency, "total": money(total), "line-count": len(lines),
        "exported": False, "last-exported-at": None,
        "justification": rng.choice((None, "Für das neue Büro", "New hire équipement")),
        "buyer-note": None, "req-title": rng.choice(DESCRIPTIONS),
        "requisition-lines": lines, "approvals": [], "attachments": [],
    })  # fmt: skip
    if rec["status"] == "ordered":  # its lines became order lines
        for line in lines:
            line["order-line-id"] = gen.order_line(gen.rng("requisition_lines", line["id"]))
    add_line_allocations(gen, rec, "requisitions", "requisition-lines")


def _suppliers(gen: Generator, rec: Record, rng: random.Random, created: int, updated: int) -> None:
    c = gen.core("suppliers", rec["id"])
    rec.update({
        "name": c["name"], "display-name": c["display-name"], "number": c["number"],
        "status": rng.choice(("active", "active", "active", "inactive")),
        "website": f"https://supplier{rec['id']}.example", "po-method": "email",
        "po-change-method": "email", "po-email": f"orders{rec['id']}@supplier.example",
        "payment-method": "invoice", "invoice-matching-level": rng.choice(("2-way", "3-way")),
        "account-number": "", "tax-id": f"86-{rng.randint(1000000, 9999999)}", "duns": "",
        "default-locale": rng.choice((None, "de", "ja", "fr")), "on-hold": False,
        "buyer-hold": False, "one-time-supplier": False,
        "savings-pct": money(Decimal(rng.randint(0, 80)) / 10),
        "allow-cxml-invoicing": False, "cxml-url": "", "cxml-domain": "", "cxml-identity": "",
        "allow-inv-from-connect": True, "send-invoices-to-approvals": False,
        "primary-contact": {"id": rec["id"] + 700, "email": f"ar{rec['id']}@supplier.example",
                            "name-given": rng.choice(FIRST), "name-family": rng.choice(LAST)},
        "primary-address": gen.stub("addresses", gen.pick(rng, "addresses")),
        "payment-term": gen.stub("payment_terms", gen.pick(rng, "payment_terms")),
        "commodity": gen.stub("commodities", gen.pick(rng, "commodities")),
        "parent": None, "remit-to-addresses": [], "supplier-addresses": [], "contacts": [],
        "content-groups": [{"id": 1, "name": "Everyone"}], "supplier-sites": [],
        "invoice-emails": [], "diversities": [],
    })  # fmt: skip


def _users(gen: Generator, rec: Record, rng: random.Random, created: int, updated: int) -> None:
    c = gen.core("users", rec["id"])
    rec.update({k: c[k] for k in ("login", "email", "employee-number", "firstname",
                                  "lastname", "fullname", "salesforce-id",
                                  "avatar-thumb-url")})  # fmt: skip
    rec.update({
        "active": rng.random() < 0.9, "api-user": False, "purchasing-user": True,
        "expense-user": rng.random() < 0.5, "sourcing-user": False, "inventory-user": False,
        "authentication-method": rng.choice(("saml", "coupa_credentials")),
        "sso-identifier": c["email"], "default-locale": rng.choice(("en", "de", "ja")),
        "mention-name": c["login"], "account-security-type": 0,
        "business-group-security-type": 1, "phone-work": None, "phone-mobile": None,
        "manager": gen.user(rng),
        "department": gen.stub("departments", gen.pick(rng, "departments")),
        "default-currency": gen.stub("currencies", gen.pick(rng, "currencies")),
        "default-address": None, "default-account": None,
        "default-account-type": gen.stub("account_types", gen.pick(rng, "account_types")),
        "roles": [{"id": 3, "name": "User", "omnipotent": False, "system-role": True}],
        "content-groups": [], "account-groups": [], "approval-groups": [], "user-groups": [],
    })  # fmt: skip


def _accounts(gen: Generator, rec: Record, rng: random.Random, created: int, updated: int) -> None:
    c = gen.core("accounts", rec["id"])
    rec.update({k: v for k, v in c.items() if k != "id"})
    # Reference §8.6: accounts have segment-1..20; Coupa sends the unused ones as nulls.
    rec.update({f"segment-{n}": None for n in range(4, 21)})
    rec["account-type-id"] = c["account-type"]["id"] if c["account-type"] else None


def _account_types(
    gen: Generator, rec: Record, rng: random.Random, created: int, updated: int
) -> None:
    rec.update({
        "name": gen.core("account_types", rec["id"])["name"], "active": True,
        "currency": gen.stub("currencies", gen.pick(rng, "currencies")),
        "dynamic-flag": False, "legal-entity-name": rng.choice(("Acme Inc.", "Globex GmbH")),
        "primary-address": None, "primary-contact": None,
    })  # fmt: skip


def _approvals(gen: Generator, rec: Record, rng: random.Random, created: int, updated: int) -> None:
    status = rng.choice(("approved", "pending_approval", "rejected", "escalated"))
    rec.update({
        "approvable-type": rng.choice(("InvoiceHeader", "RequisitionHeader")),
        "approvable-id": gen.pick(rng, "invoices") or rng.randint(1, 999),
        "status": status, "type": "UserApprover", "position": rng.randint(1, 3),
        "approval-chain-id": rng.randint(1, 40),
        "approval-date": fmt(updated) if status == "approved" else None,
        "approver": gen.user(rng), "approved-by": gen.user(rng), "approver-type": "User",
        "delegate": None, "note": rng.choice((None, "OK 👍", "Bitte prüfen")),
        "holdable": True, "reasons": [],
    })  # fmt: skip


def _contracts(gen: Generator, rec: Record, rng: random.Random, created: int, updated: int) -> None:
    rec.update({
        "name": f"Rahmenvertrag {rec['id']} – {rng.choice(COMMODITIES)}",
        "number": f"C-{rec['id']:05d}", "status": rng.choice(("published", "draft", "expired")),
        "supplier": gen.stub("suppliers", gen.pick(rng, "suppliers")),
        "start-date": fmt(created), "end-date": fmt(created + 365 * 86400),
        "currency": gen.stub("currencies", gen.pick(rng, "currencies")),
        "maximum-value": money(_amount(rng, rec["id"] % 2 == 0)),
        "minimum-value": None, "contract-owner": gen.user(rng),
        "contract-type": None, "version": 1, "terms": None, "object-lines": [],
    })  # fmt: skip


def _expense_reports(
    gen: Generator, rec: Record, rng: random.Random, created: int, updated: int
) -> None:
    currency = gen.stub("currencies", gen.pick(rng, "currencies"))
    lines = []
    total = Decimal(0)
    for k in range(rng.randint(1, 3)):
        amount = _amount(rng, False)
        total += amount
        lines.append({
            **_line_head(rec, k), "line-number": k + 1,
            "description": rng.choice(DESCRIPTIONS),
            "merchant": rng.choice(("Café de Flore", "ANA 全日空", "Uber")),
            "amount": money(amount), "expense-date": fmt(created),
            "expense-category": {"id": 1 + k, "name": rng.choice(("Meals", "Airfare"))},
            "currency": currency, "foreign-currency": None, "exchange-rate": "1.0",
            "account": gen.stub("accounts", gen.pick(rng, "accounts")), "reason": None,
            "external-src-ref": None,
        })  # fmt: skip
    rec.update({
        "title": f"Reise nach {rng.choice(CITIES)[0]} {rec['id']}",
        "status": rng.choice(("draft", "pending_approval", "approved_for_payment", "paid")),
        "submitted-at": fmt(created + 7200), "expensed-by": gen.user(rng),
        "total": money(total), "currency": currency, "paid": False, "exported": False,
        "last-exported-at": None, "audit-score": rng.randint(0, 100), "auditor-note": None,
        "reject-reason": None, "external-src-ref": None, "external-src-name": None,
        "expense-lines": lines, "approvals": [],
    })  # fmt: skip
    add_line_allocations(gen, rec, "expense_reports", "expense-lines")


def inventory_transactions(
    gen: Generator, rec: Record, rng: random.Random, created: int, updated: int
) -> None:
    """An inventory receipt; the other inventory collections reuse it with their own `type`."""
    price = _amount(rng, False)
    qty = Decimal(rng.randint(1, 20))
    rec.update({
        "type": "InventoryReceipt", "status": rng.choice(("created", "created", "voided")),
        "transaction-date": fmt(created), "quantity": money(qty), "price": money(price),
        "total": money(price * qty), "uom": gen.stub("uoms", gen.pick(rng, "uoms")),
        "item": None, "account": gen.stub("accounts", gen.pick(rng, "accounts")),
        "order-line": {"id": gen.order_line(rng)}, "barcode": None,
        "match-reference": None, "exported": False, "last-exported-at": None,
        "inventory-transaction-lots": [], "account-allocations": [],
    })  # fmt: skip


def _lookup_values(
    gen: Generator, rec: Record, rng: random.Random, created: int, updated: int
) -> None:
    rec.update({
        "name": f"{rng.choice(('Projekt', 'Projet', 'プロジェクト'))} {rec['id']}",
        "description": rng.choice((None, "Kostenstelle", "Centre de coût")),
        "external-ref-num": f"EXT-{rec['id']}", "external-ref-code": f"X{rec['id']}",
        "active": True, "is-default": False, "depth": 1,
        "lookup": {"id": 1, "name": "Projects"}, "lookup-id": 1, "parent": None,
        "parent-id": None, "account-type": None,
    })  # fmt: skip


def _departments(
    gen: Generator, rec: Record, rng: random.Random, created: int, updated: int
) -> None:
    rec.update({"name": gen.core("departments", rec["id"])["name"], "active": True})


def _currencies(
    gen: Generator, rec: Record, rng: random.Random, created: int, updated: int
) -> None:
    c = gen.core("currencies", rec["id"])
    rec.update({"code": c["code"], "name": c["name"], "symbol": c["symbol"],
                "enabled": True, "decimals": c["decimals"]})  # fmt: skip


def _exchange_rates(
    gen: Generator, rec: Record, rng: random.Random, created: int, updated: int
) -> None:
    """Rate n: currency n (cycling) to the first currency (USD), so every currency has one."""
    currencies = gen.ref_ids.get("currencies") or ()
    source = (
        currencies[gen.pos("exchange_rates", rec["id"]) % len(currencies)] if currencies else None
    )
    target = currencies[0] if currencies else None
    code = gen.core("currencies", source)["code"] if source is not None else "USD"
    base = Decimal(USD_RATES.get(code, "1"))
    gen.pick(rng, "currencies"), gen.pick(rng, "currencies"), rng.randint(0, 200)  # as before
    jitter = Decimal(rng.randint(0, 10**9 - 1) % 401 - 200) / 10000  # within 2 %
    rate = base if code == "USD" else base * (1 + jitter)
    rec.update(
        {
            "from-currency": gen.stub("currencies", source),
            "to-currency": gen.stub("currencies", target),
            "rate": f"{rate:.9f}",
            "rate-date": fmt(created),
        }
    )


def _payment_terms(
    gen: Generator, rec: Record, rng: random.Random, created: int, updated: int
) -> None:
    stub = gen.stub("payment_terms", rec["id"]) or {}
    rec.update({k: v for k, v in stub.items() if k != "id"})
    rec.update({"type": "PaymentTerm", "net-due-day": None})


def _commodities(
    gen: Generator, rec: Record, rng: random.Random, created: int, updated: int
) -> None:
    rec.update({
        "name": gen.core("commodities", rec["id"])["name"], "active": True,
        "category": rng.choice(("goods", "services")), "subcategory": None,
        "deductibility": None, "parent": None, "parent-id": None, "translated-name": None,
        "preferred": False,
    })  # fmt: skip


def _addresses(gen: Generator, rec: Record, rng: random.Random, created: int, updated: int) -> None:
    c = gen.core("addresses", rec["id"])
    rec.update({k: v for k, v in c.items() if k != "id"})
    rec.update({"street2": None, "attention": None, "active": True, "vat-number": None,
                "local-tax-number": None, "external-src-ref": None,
                "external-src-name": None, "purposes": []})  # fmt: skip


def _uoms(gen: Generator, rec: Record, rng: random.Random, created: int, updated: int) -> None:
    c = gen.core("uoms", rec["id"])
    rec.update({"code": c["code"], "name": c["name"], "allowable-precision": 2,
                "active": True})  # fmt: skip


BUILDERS: dict[str, Builder] = {
    "invoices": _invoices,
    "purchase_orders": _purchase_orders,
    "requisitions": _requisitions,
    "suppliers": _suppliers,
    "users": _users,
    "accounts": _accounts,
    "account_types": _account_types,
    "approvals": _approvals,
    "contracts": _contracts,
    "expense_reports": _expense_reports,
    "inventory_transactions": inventory_transactions,
    "lookup_values": _lookup_values,
    "departments": _departments,
    "currencies": _currencies,
    "exchange_rates": _exchange_rates,
    "payment_terms": _payment_terms,
    "commodities": _commodities,
    "addresses": _addresses,
    "uoms": _uoms,
}
