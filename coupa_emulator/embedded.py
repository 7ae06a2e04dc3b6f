"""Arrays Coupa nests inside documents and their lines: account allocations, charges, tax lines.

Reference §4/§8.2: invoice lines carry `account-allocations[]` and `tax-lines[]`, invoices carry
`invoice-charges[]` (each with its own allocations and tax lines) and header `tax-lines[]`;
purchase order, requisition and expense lines carry `account-allocations[]`. Counts are small
(0-2 per level) so that per-stream test data stays small. Each array draws from a generator
private to (resource, id, "embedded"), so adding them changed no other generated value.
Ids come from disjoint ranges per kind, so a tax line's id is unique across the three levels
it can sit at, as in Coupa where they are one table. The builders of those documents
(coupa_emulator.records_main) call these last, after the document and its lines are complete.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coupa_emulator.generator import Generator

Record = dict[str, Any]

_ALLOCATION_BASE = 1_000_000_000
_CHARGE_BASE = 2_000_000_000
_TAX_BASE = 3_000_000_000
CHARGE_TYPES = ("InvoiceShippingCharge", "InvoiceHandlingCharge", "InvoiceMiscCharge")


def _money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f")


def allocations(gen: Generator, rng: random.Random, owner: Record, total: Decimal) -> list[Record]:
    """0 (most lines: one account) or 2 allocations splitting `total` between two accounts."""
    if rng.random() < 0.6:
        return []
    pct = Decimal(rng.choice((25, 40, 50, 60)))
    first = total * pct / 100
    rows: list[Record] = []
    for j, (share, amount) in enumerate(((pct, first), (100 - pct, total - first))):
        rows.append(
            {
                "id": _ALLOCATION_BASE + int(owner["id"]) * 4 + j,
                "created-at": owner.get("created-at"),
                "updated-at": owner.get("updated-at"),
                "pct": _money(Decimal(share)),
                "amount": format(amount, "f"),  # exact: the two add up to the total
                "account": gen.stub("accounts", gen.pick(rng, "accounts")),
                "period": None,
            }
        )
    return rows


def tax_lines(rng: random.Random, owner_id: int, level: int, stamps: Record) -> list[Record]:
    """0 or 1 tax line (ids unique across header, line and charge levels)."""
    if rng.random() < 0.5:
        return []
    rate = rng.choice((7.7, 8.25, 19.0, 20.0))
    base = Decimal(rng.randint(1000, 90000)) / 100
    return [
        {
            "id": _TAX_BASE + owner_id * 4 + level,
            "created-at": stamps.get("created-at"),
            "updated-at": stamps.get("updated-at"),
            "amount": _money(base * Decimal(str(rate)) / 100),
            "rate": rate,
            "code": rng.choice(("VAT", "GST", "SALES")),
            "description": rng.choice(("Mehrwertsteuer 19 %", "Sales tax", "TVA")),
            "type": "TaxLine",
            "base": _money(base),
            "taxable-amount": _money(base),
        }
    ]


def add_to_invoice(gen: Generator, rec: Record) -> None:
    """Allocations and tax lines on each line, charges, and header tax lines."""
    rng = gen.rng("invoices:embedded", int(rec["id"]))
    for line in rec.get("invoice-lines") or []:
        total = Decimal(str(line.get("total") or "0"))
        line["account-allocations"] = allocations(gen, rng, line, total)
        line["tax-lines"] = tax_lines(rng, int(line["id"]), 1, line)
    charges: list[Record] = []
    shipping = Decimal(str(rec.get("shipping-amount") or "0"))
    if shipping or rng.random() < 0.3:
        charge_id = _CHARGE_BASE + int(rec["id"]) * 2
        amount = shipping or Decimal(rng.randint(100, 5000)) / 100
        charge: Record = {
            "id": charge_id,
            "created-at": rec.get("created-at"),
            "updated-at": rec.get("updated-at"),
            "type": CHARGE_TYPES[0] if shipping else rng.choice(CHARGE_TYPES[1:]),
            "line-num": 1,
            "total": _money(amount),
            "accounting-total": _money(amount),
            "pct": None,
            "distributed": rng.random() < 0.5,
            "currency": rec.get("currency"),
            "account": gen.stub("accounts", gen.pick(rng, "accounts")),
        }
        charge["account-allocations"] = allocations(gen, rng, charge, amount)
        charge["tax-lines"] = tax_lines(rng, charge_id, 2, charge)
        charges.append(charge)
    rec["invoice-charges"] = charges
    rec["tax-lines"] = tax_lines(rng, int(rec["id"]), 0, rec)


def add_line_allocations(gen: Generator, rec: Record, resource: str, lines_key: str) -> None:
    """Account allocations on every line of a purchase order, requisition or expense report."""
    rng = gen.rng(resource + ":embedded", int(rec["id"]))
    for line in rec.get(lines_key) or []:
        total = Decimal(str(line.get("total") or line.get("amount") or "0"))
        line["account-allocations"] = allocations(gen, rng, line, total)
