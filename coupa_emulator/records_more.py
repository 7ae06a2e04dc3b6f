# ruff: noqa: RUF001 - the data deliberately holds non-ASCII text.
"""Records of the rest of reference §4: inventory, payables, integrations, groups, budgets, ...

A few records each (they do not scale with `--scale`). Like the main collections
(coupa_emulator.records_main), each record is a pure function of (seed, resource, id, stamps):
a builder reads the record's private random generator and the shared reference stubs. Shapes
follow Coupa's conventions (hyphenated keys, decimals as strings, user stubs, nulls present).
coupa_emulator.builders lists these builders with the main ones.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from coupa_emulator.records_main import inventory_transactions
from coupa_emulator.timefmt import fmt

if TYPE_CHECKING:
    from coupa_emulator.builders import Builder
    from coupa_emulator.generator import Generator, Record

#: Custom object definitions the emulated tenant has (`/api/custom_objects/<id>/...`).
CUSTOM_OBJECT_DEFINITIONS = (7, 9)
_NAMES = ("Nord", "Süd", "東京", "Zoë's", "Ñandú", "Øst", "Main", "Reserve")
_TEXT = ("Bitte prüfen", "OK 👍", "Quarterly review – Q4", "日本語のメモ", "Café order", None)


def _money(rng: random.Random) -> str:
    return format(Decimal(rng.randint(100, 900000)) / 100, "f")


def _name(rng: random.Random, kind: str, rid: int) -> str:
    return f"{kind} {rng.choice(_NAMES)} {rid}"


def _lines(rng: random.Random, rid: int, **extra: Callable[[random.Random], Any]) -> list[Any]:
    return [
        {"id": rid * 10 + n, "line-num": str(n), "quantity": str(rng.randint(1, 9)) + ".0",
         "description": rng.choice(("Laptop", "Papier A4", "Café ☕", "ボールペン")),
         **{k.replace("_", "-"): f(rng) for k, f in extra.items()}}
        for n in range(1, rng.randint(1, 3) + 1)
    ]  # fmt: skip


def _ref(gen: Generator, rng: random.Random, resource: str) -> Any:
    return gen.stub(resource, gen.pick(rng, resource))


def _transaction(kind: str) -> Builder:
    def build(gen: Generator, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        inventory_transactions(gen, rec, rng, created, updated)
        rec["type"] = kind

    return build


def _payable(gen: Generator, rec: Record, rng: random.Random, created: int, updated: int) -> None:
    rec.update({
        "status": rng.choice(("pending", "paid", "partially_paid")),
        "document-type": rng.choice(("InvoiceHeader", "OrderHeader", "ExpenseReport")),
        "document-id": gen.pick(rng, "invoices") or rng.randint(1, 999), "amount": _money(rng),
        "currency": _ref(gen, rng, "currencies"), "supplier": _ref(gen, rng, "suppliers"),
        "payment-date": fmt(updated) if rng.random() < 0.6 else None,
        "reconciliation-lines": [{"id": rec["id"] * 10 + 1, "amount": _money(rng),
                                  "status": "reconciled"}],
    })  # fmt: skip


def _requests(gen: Generator, rec: Record, rng: random.Random, created: int, updated: int) -> None:
    rec.update({
        "status": rng.choice(("pending", "received", "closed")), "request-date": fmt(created),
        "requested-by": gen.user(rng), "warehouse": {"id": rng.randint(1, 4), "name": "Main"},
        "exported": False, "lines": _lines(rng, rec["id"]),
    })  # fmt: skip


def _integration_ref(gen: Generator, rng: random.Random) -> Any:
    rid = gen.pick(rng, "integrations")
    return None if rid is None else {"id": rid, "name": f"Integration {rid}", "code": f"INT-{rid}"}


def _entity(gen: Generator, rec: Record, rng: random.Random, created: int, updated: int) -> None:
    country = gen.country(rng.choice(("US", "DE", "JP")))
    rec.update({"name": _name(rng, "Entity", rec["id"]), "code": f"E{rec['id']:03d}",
                "active": True, "country": country})  # fmt: skip


BUILDERS: dict[str, Builder] = {
    "purchase_order_changes": lambda g, r, rng, c, u: r.update({
        "status": rng.choice(("pending_approval", "approved", "rejected")),
        "change-type": rng.choice(("change", "revision")),
        "order-header-id": g.pick(rng, "purchase_orders"),
        "po-number": str(rng.randint(3000, 9999)),
        "requester": g.user(rng),
        "order-line-changes": _lines(rng, r["id"], price=_money)}),
    "comments": lambda g, r, rng, c, u: r.update({
        "comments": rng.choice(_TEXT[:-1]), "commentable-type": "InvoiceHeader",
        "commentable-id": g.pick(rng, "invoices") or 1, "comment-type": None}),
    "easy_form_responses": lambda g, r, rng, c, u: r.update({
        "status": rng.choice(("draft", "approved")), "easy-form": {"id": 3, "name": "Onboarding"},
        "submitted-at": fmt(u), "submitted-by": g.user(rng)}),
    "quote_requests": lambda g, r, rng, c, u: r.update({
        "description": _name(rng, "RFP", r["id"]), "state": rng.choice(("draft", "closed")),
        "event-type": "rfp", "start-time": fmt(c), "end-time": fmt(u),
        "lines": _lines(rng, r["id"])}),
    "quote_responses": lambda g, r, rng, c, u: r.update({
        "quote-request-id": g.pick(rng, "quote_requests"), "supplier": _ref(g, rng, "suppliers"),
        "state": "submitted", "submitted-at": fmt(u), "lines": _lines(rng, r["id"], price=_money)}),
    "receiving_transactions": _transaction("InventoryReceipt"),
    "inventory_adjustments": _transaction("InventoryAdjustment"),
    "inventory_consumptions": _transaction("InventoryConsumption"),
    "inventory_transfers": _transaction("InventoryTransfer"),
    "return_to_supplier_transactions": _transaction("ReturnToSupplier"),
    "asn_headers": lambda g, r, rng, c, u: r.update({
        "asn-number": f"ASN-{r['id']}", "status": "received", "ship-date": fmt(c),
        "supplier": _ref(g, rng, "suppliers"), "lines": _lines(rng, r["id"])}),
    "receipt_requests": _requests,
    "return_requests": _requests,
    "items": lambda g, r, rng, c, u: r.update({
        "name": _name(rng, "Item", r["id"]), "description": rng.choice(_TEXT),
        "item-number": f"ITM-{r['id']:05d}", "active": True,
        "commodity": _ref(g, rng, "commodities"), "uom": _ref(g, rng, "uoms")}),
    "supplier_items": lambda g, r, rng, c, u: r.update({
        "item-id": g.pick(rng, "items"), "supplier-part-num": f"SP-{r['id']}",
        "price": _money(rng), "currency": _ref(g, rng, "currencies"),
        "lead-time": rng.randint(1, 30), "preferred": rng.random() < 0.5,
        "supplier": _ref(g, rng, "suppliers"), "item": None}),
    "remit_to_addresses": lambda g, r, rng, c, u: r.update({
        "supplier-id": g.pick(rng, "suppliers"), "remit-to-code": f"RT-{r['id']}",
        "name": _name(rng, "Remit", r["id"]), "street1": f"{rng.randint(1, 99)} Königsallee",
        "street2": None, "city": "Düsseldorf", "state": "NW", "postal-code": "40212",
        "country": g.country("DE"), "active": rng.random() < 0.9, "external-src-ref": None,
        "vat-number": f"DE{rng.randint(10**8, 10**9 - 1)}"}),
    "supplier_sites": lambda g, r, rng, c, u: r.update({
        "name": _name(rng, "Site", r["id"]), "code": f"S{r['id']}", "active": True,
        "supplier": _ref(g, rng, "suppliers"), "po-email": f"site{r['id']}@supplier.example"}),
    "supplier_information": lambda g, r, rng, c, u: r.update({
        "name": _name(rng, "Supplier", r["id"]), "display-name": None,
        "status": rng.choice(("draft", "approved")), "tax-id": f"86-{rng.randint(10**6, 10**7)}",
        "supplier": _ref(g, rng, "suppliers")}),
    "supplier_risk_aware_feeds": lambda g, r, rng, c, u: r.update({
        "supplier": _ref(g, rng, "suppliers"), "risk-level": rng.choice(("low", "high")),
        "category": "financial", "description": rng.choice(_TEXT)}),
    "user_groups": lambda g, r, rng, c, u: r.update({
        "name": _name(rng, "Group", r["id"]), "description": rng.choice(_TEXT), "active": True}),
    "user_group_memberships": lambda g, r, rng, c, u: r.update({
        "user": g.user(rng),
        "user-group": {"id": g.pick(rng, "user_groups"), "name": "Group"}}),
    "business_groups": lambda g, r, rng, c, u: r.update({
        "name": _name(rng, "Content group", r["id"]), "description": rng.choice(_TEXT)}),
    "legal_entities": _entity,
    "business_entities": _entity,
    "projects": lambda g, r, rng, c, u: r.update({
        "name": _name(rng, "Project", r["id"]), "description": rng.choice(_TEXT),
        "status": "active", "owner": g.user(rng), "start-date": fmt(c)}),
    "tasks": lambda g, r, rng, c, u: r.update({
        "name": _name(rng, "Task", r["id"]), "status": rng.choice(("open", "done")),
        "project": {"id": g.pick(rng, "projects"), "name": "Project"}, "assignee": g.user(rng),
        "due-date": fmt(u)}),
    "project_memberships": lambda g, r, rng, c, u: r.update({
        "project": {"id": g.pick(rng, "projects"), "name": "Project"}, "user": g.user(rng),
        "role": rng.choice(("owner", "member"))}),
    "account_groups": lambda g, r, rng, c, u: r.update({
        "name": _name(rng, "Account group", r["id"]), "description": rng.choice(_TEXT),
        "active": True, "account-type": _ref(g, rng, "account_types")}),
    "account_validation_rules": lambda g, r, rng, c, u: r.update({
        "name": _name(rng, "Rule", r["id"]), "condition": "segment-1 = 'HQ'", "active": True,
        "account-type": _ref(g, rng, "account_types")}),
    "budget_lines": lambda g, r, rng, c, u: r.update({
        "amount": _money(rng), "remaining": _money(rng),
        "period": {"id": rng.randint(1, 12), "name": f"2024-{rng.randint(1, 12):02d}"},
        "description": rng.choice(_TEXT), "owner": g.user(rng),
        "currency": _ref(g, rng, "currencies"), "segment-1": rng.choice(("HQ", "EU")),
        "segment-2": rng.choice(("IT", "FIN")), "segment-3": None}),
    "budget_line_adjustments": lambda g, r, rng, c, u: r.update({
        "created-at": fmt(c), "created-by": g.user(rng), "amount": _money(rng),
        "reason": rng.choice(_TEXT), "budget-line": {"id": g.pick(rng, "budget_lines")}}),
    "lookups": lambda g, r, rng, c, u: r.update({
        "name": _name(rng, "Lookup", r["id"]), "description": rng.choice(_TEXT), "active": True}),
    "shipping_terms": lambda g, r, rng, c, u: r.update({
        "code": rng.choice(("FOB", "CIF", "DDP", "EXW")) + f"-{r['id']}",
        "description": rng.choice(_TEXT), "active": True}),
    "tax_codes": lambda g, r, rng, c, u: r.update({
        "code": f"VAT{r['id']}", "description": rng.choice(_TEXT),
        "percentage": rng.choice((0.0, 7.0, 19.0, 20.0)),
        "country": g.country(rng.choice(("US", "DE", "CH"))), "active": True,
        "effective-date": fmt(c), "tax-rate": rng.choice((0.0, 7.7, 19.0))}),
    "tax_registrations": lambda g, r, rng, c, u: r.update({
        "number": f"DE{rng.randint(10**8, 10**9 - 1)}", "country": g.country("DE"),
        "active": True, "owner-type": "Supplier", "owner-id": g.pick(rng, "suppliers")}),
    "coupa_pay_payments": lambda g, r, rng, c, u: r.update({
        "status": rng.choice(("completed", "pending")), "payment-date": fmt(u),
        "amount": _money(rng), "currency": _ref(g, rng, "currencies"),
        "payee": _ref(g, rng, "suppliers"), "payment-method": "ach", "exported": False}),
    "coupa_pay_invoices": _payable,
    "charges": lambda g, r, rng, c, u: r.update({
        "status": "posted", "charge-date": fmt(c), "total": _money(rng),
        "currency": _ref(g, rng, "currencies"), "merchant-reference": f"M-{r['id']}",
        "supplier": _ref(g, rng, "suppliers"), "exported": False}),
    "payables_invoices": _payable,
    "payables_orders": _payable,
    "payables_allocations": _payable,
    "payables_external": _payable,
    "integrations": lambda g, r, rng, c, u: r.update({
        "name": f"Integration {r['id']}", "code": f"INT-{r['id']}",
        "description": rng.choice(_TEXT), "direction": rng.choice(("inbound", "outbound")),
        "active": True}),
    "integration_runs": lambda g, r, rng, c, u: r.update({
        "integration": _integration_ref(g, rng), "status": rng.choice(("success", "failed")),
        "started-at": fmt(c), "ended-at": fmt(u), "records-processed": rng.randint(0, 500)}),
    "integration_errors": lambda g, r, rng, c, u: r.update({
        "integration": _integration_ref(g, rng), "document-type": "InvoiceHeader",
        "document-id": g.pick(rng, "invoices") or 1, "message": "Kostenstelle fehlt",
        "resolved": rng.random() < 0.5}),
    "integration_history_records": lambda g, r, rng, c, u: r.update({
        "document-type": "InvoiceHeader", "document-id": g.pick(rng, "invoices") or 1,
        "status": rng.choice(("success", "error")), "contact-alert-type": None,
        "responses": [{"id": r["id"] * 10, "status": "ok", "response-code": "200",
                       "message": None}]}),
    "custom_object_instances": lambda g, r, rng, c, u: r.update({
        "object-definition-id": rng.choice(CUSTOM_OBJECT_DEFINITIONS),
        "name": _name(rng, "Object", r["id"]), "status": rng.choice(("active", "archived")),
        "amount": _money(rng)}),
}  # fmt: skip
