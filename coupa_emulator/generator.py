# ruff: noqa: RUF001 - the data deliberately holds non-ASCII punctuation (en dashes).
"""Deterministic data: each record is a pure function of (seed, profile, resource, id, stamps).

Nothing is generated up front except a compact index per resource (ids and timestamps);
records are built on demand, so 100,000 invoices start in well under a second. The shape
follows the reference's §9 samples: hyphenated keys, decimals as strings, nulls present,
nested stubs, a `custom-fields` object and legacy custom fields as top-level keys.
"""

from __future__ import annotations

import bisect
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from coupa_emulator.catalog import BUILDERS
from coupa_emulator.embedded import embed
from coupa_emulator.resources import ResourceSpec
from coupa_emulator.timefmt import fmt, local_ts

Record = dict[str, Any]

# updated-at values span the 2024 autumn fall-back (Sun 3 Nov, 02:00 PDT -> 01:00 PST).
WINDOW_START = local_ts(2024, 10, 6)
WINDOW_END = local_ts(2024, 11, 24)
REPEATED_HOUR_START = local_ts(2024, 11, 3, 1)  # 01:00 PDT = 08:00Z
REPEATED_HOUR_END = REPEATED_HOUR_START + 7200  # 01:59:59 PST = 09:59:59Z
_GAPS = (1, 1, 1, 1, 2, 3, 5, 11)
_ID_BASE = {
    "invoices": 48000, "purchase_orders": 3300, "requisitions": 9000, "suppliers": 10,
    "users": 5, "accounts": 10, "account_types": 0, "approvals": 88000, "contracts": 200,
    "expense_reports": 1200, "inventory_transactions": 15000, "lookup_values": 100,
    "departments": 0, "currencies": 0, "exchange_rates": 0, "payment_terms": 0,
    "commodities": 20, "addresses": 20, "uoms": 0,
}  # fmt: skip

CURRENCIES = (
    ("USD", "US Dollar", "$", 2), ("EUR", "Euro", "€", 2), ("JPY", "Yen", "¥", 0),
    ("GBP", "Pound Sterling", "£", 2), ("CHF", "Schweizer Franken", "Fr.", 2),
    ("CAD", "Canadian Dollar", "$", 2), ("INR", "Indian Rupee", "₹", 2),
    ("KWD", "Kuwaiti Dinar", "د.ك", 3),
)  # fmt: skip
#: Roughly realistic rates to USD (1 unit of the currency in USD): exchange rates cover every
#: currency -> USD so amounts convert to a reporting currency (transform/, docs/analytics.md).
USD_RATES = {"USD": "1", "EUR": "1.08", "JPY": "0.0067", "GBP": "1.27", "CHF": "1.13",
             "CAD": "0.74", "INR": "0.012", "KWD": "3.25"}  # fmt: skip
UOMS = (("EA", "Each"), ("HR", "Hour"), ("BOX", "Box"), ("KG", "Kilogramm"), ("LB", "Pound"),
        ("DZ", "Dozen"), ("M", "Mètre"))  # fmt: skip
PAYMENT_TERMS = (("Net 30", 30, None), ("Net 45", 45, None), ("Net 60", 60, None),
                 ("2/10 Net 30", 30, 10), ("Due on receipt", 0, None),
                 ("Net 90", 90, None))  # fmt: skip
ACCOUNT_TYPES = ("US Chart Of Accounts", "EU Kontenrahmen – SKR03", "日本 勘定科目表")
DEPARTMENTS = ("IT", "Finance", "Ventes & Marketing", "Forschung und Entwicklung", "法務",
               "Operations", "HR", "Facilities")  # fmt: skip
COMMODITIES = ("Laptops and Tablets", "Office Supplies", "Consulting", "Cloud Services",
               "Café & Catering", "Travel", "Logistik", "Facilities", "Software", "Marketing",
               "Legal", "Training")  # fmt: skip
SUPPLIERS = ("Insight Direct", "Müller Industrietechnik GmbH", "Café Étoile SARL",
             "日本精工株式会社", "Rocket 🚀 Supplies", "Ñandú Logística S.A.",
             "Øresund Shipping ApS", "Łódź Metalworks", "Acme Office Products",
             "Globex Components", "São Paulo Têxtil Ltda", "Zürich Präzision AG")  # fmt: skip
FIRST = ("Anna", "Jürgen", "Zoë", "José", "Hiroshi", "Björn", "Chloé", "Łukasz", "Aiyana", "Søren")
LAST = ("Manning", "Müller", "Dubois", "García", "山田", "Nguyễn", "O'Brien", "Smith",
        "Kowalski", "Østergaard")  # fmt: skip
CITIES = (("San Mateo", "CA", "94404", "US"), ("München", "BY", "80331", "DE"),
          ("Tōkyō", "13", "100-0005", "JP"), ("Montréal", "QC", "H2Y 1C6", "CA"),
          ("Dallas", "TX", "75373", "US"), ("Zürich", "ZH", "8001", "CH"))  # fmt: skip
COUNTRIES = {"US": (223, "United States"), "DE": (81, "Deutschland"), "JP": (109, "日本"),
             "CA": (38, "Canada"), "CH": (204, "Schweiz")}  # fmt: skip
DESCRIPTIONS = ("Dell Latitude 7440 laptop", "Büromaterial – Papier A4", "Café crème capsules ☕",
                "日本製 ボールペン", "Consulting services – Q4 🚀", "Ergonomic chair (Ø 60 cm)",
                "Cloud hosting — November", "Naïve Bayes training course")  # fmt: skip
INVOICE_STATUSES = ("approved",) * 8 + ("pending_approval",) * 3 + ("draft",) * 2 + (
    "voided", "voided", "pending_receipt", "pending_receipt", "disputed", "ap_hold", "abandoned",
)  # fmt: skip

# Custom fields per tenant profile: (namespaced `custom-fields` keys, legacy top-level keys).
CUSTOM_FIELDS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "acme": {
        "invoices": (("cf-erp-invoice-number", "cf-integration-status", "cost-center"),
                     ("gpo-entity",)),
        "*": (("erp-ref", "cost-center"), ("gpo-entity",)),
    },
    "globex": {
        "invoices": (("project-code", "sap-company-code", "approval-tier", "digital-invoice"),
                     ("legacy-vendor-ref", "region-code")),
        # `project-code` is text on invoices but a lookup value elsewhere (reference §12:
        # custom field values can be objects), so its type differs between resources.
        "*": (("sap-id", "business-unit", "project-code"), ("legacy-code",)),
    },
}  # fmt: skip


_INVOICE_NUMBER = "INV-2024-{:06d}"


def invoice_number(rid: int) -> str:
    """A generated invoice's number; derivable from the id so uniqueness checks stay cheap."""
    return _INVOICE_NUMBER.format(rid)


def invoice_id_from_number(number: str) -> int | None:
    """The generated invoice that would own `number`, if the format matches."""
    if number.startswith("INV-2024-") and number[9:].isdigit() and len(number) >= 15:
        rid = int(number[9:])
        return rid if invoice_number(rid) == number else None
    return None


def money(value: Decimal) -> str:
    """A decimal as Coupa prints it: plain digits, never an exponent."""
    return format(value, "f")


@dataclass
class Index:
    """The compact, eagerly built part of a table: ids and timestamps, position-aligned."""

    ids: list[int]
    created: list[int]
    updated: list[int]


def make_index(seed: int, spec: ResourceSpec, n: int) -> Index:
    """Non-contiguous ids; updated-at with ties, across the fall-back, some in the repeated hour."""
    rng = random.Random(f"{seed}:{spec.name}:index")
    ids: list[int] = []
    cur = _ID_BASE.get(spec.name, 0)
    for _ in range(n):
        cur += rng.choice(_GAPS)
        ids.append(cur)
    updated: list[int] = []
    batch_left, batch_stamp = 0, 0
    for i in range(n):
        if batch_left:  # a bulk import: a run of records saved in the same second
            batch_left -= 1
            stamp = batch_stamp
        elif i % 10 == 3:
            stamp = rng.randrange(REPEATED_HOUR_START, REPEATED_HOUR_END)
        elif i and rng.random() < 0.2:
            stamp = updated[rng.randrange(max(0, i - 6), i)]  # scattered ties
        else:
            stamp = rng.randrange(WINDOW_START, WINDOW_END)
            if i % 40 == 20 or rng.random() < 0.03:
                batch_left, batch_stamp = rng.randint(4, 10), stamp
        updated.append(stamp)
    created = [u - rng.randrange(0, 400 * 86400) for u in updated]
    return Index(ids=ids, created=created, updated=updated)


# Cores and stubs are pure functions of (seed, resource, id): a cache of them may be dropped at
# any time. Bounded so that reading a large tenant does not keep every reference in memory.
MAX_CACHED_REFS = 50_000  # every reference of a 200,000-invoice tenant: ~25 MB


class Generator:
    """Builds records and reference stubs; reference picks use the initial id lists only."""

    def __init__(self, seed: int, profile: str, ref_ids: dict[str, Sequence[int]]) -> None:
        self.seed = seed
        self.profile = profile
        self.ref_ids = ref_ids
        self._cores: dict[tuple[str, int], Record] = {}
        self._stubs: dict[tuple[str, int], Record | None] = {}
        self._salts: dict[str, int] = {}

    # ---- helpers -------------------------------------------------------------------------
    def rng(self, resource: str, rid: int) -> random.Random:
        """A generator private to one record: the record depends on nothing else."""
        salt = self._salts.get(resource)
        if salt is None:
            salt = zlib.crc32(f"{self.seed}:{resource}".encode()) << 40
            self._salts[resource] = salt
        return random.Random(salt ^ rid)

    def pos(self, resource: str, rid: int) -> int:
        """Position of `rid` in the initial (ascending) id list; names and codes follow it."""
        ids = self.ref_ids.get(resource, ())
        i = bisect.bisect_left(ids, rid)
        return i if i < len(ids) and ids[i] == rid else rid

    def pick(self, rng: random.Random, resource: str) -> int | None:
        """A reference chosen among the initial ids, so later inserts never change old records."""
        ids = self.ref_ids.get(resource) or ()
        return ids[rng.randrange(len(ids))] if ids else None

    def order_line(self, rng: random.Random) -> int | None:
        """A real purchase order line (invoice, receipt and requisition lines point at one).

        The first line of an order (every order has one; how many more depends on the order's
        own draws). Takes one draw of `rng`, as the random id it replaced did, so a record's
        other values did not change.
        """
        po_id = self.pick(random.Random(rng.randint(70000, 99999)), "purchase_orders")
        return None if po_id is None else po_id * 8

    def custom_names(self, resource: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(namespaced custom field keys, legacy top-level keys) of this tenant profile."""
        table = CUSTOM_FIELDS[self.profile]
        return table.get(resource, table["*"])

    def _custom_value(  # noqa: PLR0911 - one per field type
        self, name: str, rng: random.Random, rid: int, resource: str = "invoices"
    ) -> Any:
        roll = rng.random()
        if roll < 0.2:
            return None
        if name == "project-code" and resource != "invoices":
            lookup = self.pick(rng, "lookup_values")
            if lookup is None:
                return None
            return {
                "id": lookup,
                "external-ref-num": f"EXT-{lookup}",
                "external-ref-code": f"X{lookup}",
            }
        if name == "approval-tier":
            return rng.randint(1, 4)
        if name == "digital-invoice":
            return roll < 0.6
        if name in {"cf-integration-status"}:
            return rng.choice(("pending", "exported", "error"))
        if name in {"cost-center"}:
            return f"CC-{rng.randint(1000, 9999)}"
        if name in {"region-code", "business-unit"}:
            return rng.choice(("EMEA", "AMER", "APAC – 日本", "LATAM"))
        return f"{name[:3].upper()}-{rid}-{rng.randint(10, 99)}"

    def add_custom_fields(self, resource: str, rec: Record, rng: random.Random) -> None:
        """Fill the profile's custom fields, legacy ones as top-level keys."""
        spaced, legacy = self.custom_names(resource)
        for name in legacy:
            rec[name] = self._custom_value(name, rng, rec["id"])
        rec["custom-fields"] = {n: self._custom_value(n, rng, rec["id"], resource) for n in spaced}

    # ---- reference cores (shared by stubs, full records and natural-key lookups) ---------
    def core(self, resource: str, rid: int) -> Record:
        """The identifying attributes of a reference record (cached)."""
        key = (resource, rid)
        found = self._cores.get(key)
        if found is None:
            found = self._make_core(resource, rid)
            if len(self._cores) >= MAX_CACHED_REFS:
                self._cores.clear()
            self._cores[key] = found
        return found

    def _make_core(self, resource: str, rid: int) -> Record:  # noqa: PLR0911 - per table
        p = self.pos(resource, rid)
        rng = self.rng(resource + ":core", rid)
        if resource == "currencies":
            if p < len(CURRENCIES):
                code, name, symbol, decimals = CURRENCIES[p]
            else:
                code, name, symbol, decimals = f"X{p:02d}", f"Test currency {p}", "¤", 2
            return {"id": rid, "code": code, "name": name, "symbol": symbol, "decimals": decimals}
        if resource == "uoms":
            code, name = UOMS[p % len(UOMS)]
            code = code if p < len(UOMS) else f"{code}{p}"
            return {"id": rid, "code": code, "name": name}
        if resource == "payment_terms":
            code, net, disc = PAYMENT_TERMS[p % len(PAYMENT_TERMS)]
            code = code if p < len(PAYMENT_TERMS) else f"{code} ({p})"
            return {"id": rid, "code": code, "net": net, "disc": disc}
        if resource == "account_types":
            name = ACCOUNT_TYPES[p] if p < len(ACCOUNT_TYPES) else f"COA {p} – Zweig"
            return {"id": rid, "name": name}
        if resource == "departments":
            name = DEPARTMENTS[p] if p < len(DEPARTMENTS) else f"Department {p}"
            return {"id": rid, "name": name}
        if resource == "commodities":
            name = COMMODITIES[p] if p < len(COMMODITIES) else f"Commodity {p}"
            return {"id": rid, "name": name}
        if resource == "suppliers":
            base = SUPPLIERS[p % len(SUPPLIERS)]
            name = base if p < len(SUPPLIERS) else f"{base} {p // len(SUPPLIERS) + 1}"
            return {"id": rid, "name": name, "display-name": name.split(" ")[0],
                    "number": f"V-{10000 + rid}"}  # fmt: skip
        if resource == "users":
            first, last = FIRST[p % len(FIRST)], LAST[(p // len(FIRST) + p) % len(LAST)]
            login = f"{first[0].lower()}{p}_{rid}"
            return {"id": rid, "login": login, "email": f"{login}@example.com",
                    "employee-number": f"E{1000 + rid}", "firstname": first, "lastname": last,
                    "fullname": f"{first} {last}", "salesforce-id": None,
                    "avatar-thumb-url": None}  # fmt: skip
        if resource == "accounts":
            segs = (rng.choice(("HQ", "EU", "JP")), rng.choice(("IT", "FIN", "OPS")), f"{p:04d}")
            at = self.pick(rng, "account_types")
            return {"id": rid, "name": f"{segs[0]} - {segs[1]}, Kostenstelle {p}",
                    "code": "-".join(segs), "active": True, "segment-1": segs[0],
                    "segment-2": segs[1], "segment-3": segs[2],
                    "account-type": self.stub("account_types", at)}  # fmt: skip
        if resource == "addresses":
            city, state, postal, country = CITIES[p % len(CITIES)]
            return {"id": rid, "name": f"{city} Office {p}", "location-code": f"LOC-{rid}",
                    "street1": f"{rng.randint(1, 999)} Hauptstraße", "city": city,
                    "state": state, "postal-code": postal,
                    "country": self.country(country)}  # fmt: skip
        return {"id": rid}

    def country(self, code: str) -> Record:
        """A country stub as Coupa nests it in addresses."""
        cid, name = COUNTRIES[code]
        return {"id": cid, "code": code, "name": name}

    def stub(self, resource: str, rid: int | None) -> Record | None:
        """The nested form Coupa embeds for a reference (reference §9); shared, do not mutate."""
        if rid is None:
            return None
        key = (resource, rid)
        if key in self._stubs:
            return self._stubs[key]
        found = self._make_stub(resource, rid)
        if len(self._stubs) >= MAX_CACHED_REFS:
            self._stubs.clear()
        self._stubs[key] = found
        return found

    def _make_stub(self, resource: str, rid: int) -> Record | None:
        c = self.core(resource, rid)
        if resource == "currencies":
            return {"id": rid, "code": c["code"], "decimals": c["decimals"]}
        if resource == "payment_terms":
            return {"id": rid, "code": c["code"], "description": c["code"],
                    "days-for-net-payment": c["net"], "days-for-discount-payment": c["disc"],
                    "discount-rate": 2.0 if c["disc"] else None, "active": True}  # fmt: skip
        if resource == "suppliers":
            return {k: c[k] for k in ("id", "name", "display-name", "number")}
        if resource == "departments":
            return {"id": rid, "name": c["name"], "active": True}
        return dict(c)

    def user(self, rng: random.Random) -> Record | None:
        """A user stub (created-by, updated-by, requested-by ...)."""
        return self.stub("users", self.pick(rng, "users"))

    def _stamps(self, rec: Record, created: int, updated: int, rng: random.Random) -> None:
        rec["created-at"] = fmt(created)
        rec["updated-at"] = fmt(updated)
        rec["created-by"] = self.user(rng)
        rec["updated-by"] = self.user(rng)

    # ---- full records --------------------------------------------------------------------
    def record(self, spec: ResourceSpec, rid: int, created: int, updated: int) -> Record:
        """The full default (deep) representation of one record."""
        rng = self.rng(spec.name, rid)
        rec: Record = {"id": rid}
        if spec.timestamps:
            self._stamps(rec, created, updated, rng)
        builder = getattr(self, "_" + spec.name, None)
        if builder is None:
            BUILDERS[spec.name](self, rec, rng, created, updated)
        else:
            builder(rec, rng, created, updated)
        embed(self, spec.name, rec)
        if spec.name != "currencies":
            self.add_custom_fields(spec.name, rec, rng)
        return rec

    def _amount(self, rng: random.Random, big: bool) -> Decimal:
        if big:  # 19 significant digits: survives only as a string
            return Decimal(f"{rng.randint(10**9, 10**10 - 1)}.{rng.randint(0, 10**9 - 1):09d}")
        return Decimal(rng.randint(100, 250000)) / 100

    def invoice_line(
        self, rng: random.Random, line_id: int, num: int, stamps: tuple[str, str], big: bool
    ) -> Record:
        """One invoice line; totals are filled in by compute_invoice_totals."""
        quantity_line = rng.random() < 0.75
        account = self.pick(rng, "accounts")
        currency = self.ref_ids.get("currencies") or ()
        return {
            "id": line_id,
            "created-at": stamps[0],
            "updated-at": stamps[1],
            "created-by": self.user(rng),
            "updated-by": self.user(rng),
            "line-num": num,
            "type": "InvoiceQuantityLine" if quantity_line else "InvoiceAmountLine",
            "description": rng.choice(DESCRIPTIONS),
            "price": money(self._amount(rng, big)),
            "quantity": money(Decimal(rng.randint(1, 40)) / 2) if quantity_line else None,
            "total": None,
            "accounting-total": None,
            "status": rng.choice(("matched", "new", "matched")),
            "order-line-id": self.order_line(rng) if rng.random() < 0.5 else None,
            "po-number": None,
            "source-part-num": f"P-{rng.randint(100, 999)}-ü" if rng.random() < 0.3 else None,
            "tax-amount": "0.00",
            "tax-rate": None,
            "tax-description": None,
            "match-reference": None,
            "currency": self.stub("currencies", currency[0] if currency else None),
            "accounting-total-currency": self.stub("currencies", currency[0] if currency else None),
            "uom": self.stub("uoms", self.pick(rng, "uoms")) if quantity_line else None,
            "commodity": self.stub("commodities", self.pick(rng, "commodities")),
            "account": self.stub("accounts", account),
            "account-allocations": [],
            "tax-lines": [],
            "withholding-tax-lines": [],
            "failed-tolerances": [],
        }

    def _invoices(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        status = rng.choice(INVOICE_STATUSES)
        # Half the approved invoices are paid, on their last update (own generator: the
        # invoice's other values stay as they were).
        paid = status == "approved" and self.rng("invoices:paid", rec["id"]).random() < 0.5
        currency = self.pick(rng, "currencies")
        supplier = self.pick(rng, "suppliers")
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
                "supplier-note": rng.choice(
                    (None, "Thank you for your business", "Merci beaucoup")
                ),
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
                "account-type": self.stub("account_types", self.pick(rng, "account_types")),
                "currency": self.stub("currencies", currency),
                "origin-currency": self.stub("currencies", currency),
                "supplier": self.stub("suppliers", supplier),
                "payment-term": self.stub("payment_terms", self.pick(rng, "payment_terms")),
                "remit-to-address": None,
                "bill-to-address": self.stub("addresses", self.pick(rng, "addresses")),
                "ship-to-address": None,
                "requested-by": self.user(rng),
                "tax-code": None,
            }
        )
        big = rec["id"] % 3 == 0
        rec["invoice-lines"] = [
            self.invoice_line(rng, rec["id"] * 8 + k, k + 1, stamps, big and k == 0)
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

    def _purchase_orders(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        currency = self.stub("currencies", self.pick(rng, "currencies"))
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
                "supplier": self.stub("suppliers", self.pick(rng, "suppliers")),
                "payment-term": self.stub("payment_terms", self.pick(rng, "payment_terms")),
                "ship-to-address": self.stub("addresses", self.pick(rng, "addresses")),
                "ship-to-user": self.user(rng),
                "requester": self.user(rng),
                "attachments": [],
                # Reference §8.3 / §9.2: a reference to the requisition, null when none.
                "requisition-header": None,
            }
        )
        lines = []
        total = Decimal(0)
        for k in range(rng.randint(1, 4)):
            price = self._amount(rng, rec["id"] % 4 == 0 and k == 0)
            qty = Decimal(rng.randint(1, 10))
            line_total = price * qty
            total += line_total
            lines.append({
                "id": rec["id"] * 8 + k, "created-at": rec["created-at"],
                "updated-at": rec["updated-at"], "created-by": rec["created-by"],
                "updated-by": rec["updated-by"], "line-num": str(k + 1),
                "type": "OrderQuantityLine", "description": rng.choice(DESCRIPTIONS),
                "status": rng.choice(("received", "created", "partially_received")),
                "quantity": money(qty), "price": money(price), "total": money(line_total),
                "accounting-total": money(line_total), "received": "0.0", "invoiced": "0.0",
                "need-by-date": fmt(created + 20 * 86400), "receipt-required": rng.random() < 0.5,
                "match-type": rng.choice(("3-way", "2-way", "none")), "source-part-num": None,
                "version": 1, "order-header-id": rec["id"], "currency": currency,
                "uom": self.stub("uoms", self.pick(rng, "uoms")),
                "commodity": self.stub("commodities", self.pick(rng, "commodities")),
                "account": self.stub("accounts", self.pick(rng, "accounts")),
                "account-allocations": [], "supplier-schedule-lines": [],
            })  # fmt: skip
        rec["order-lines"] = lines
        rec["total"] = money(total)

    def _requisitions(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        currency = self.stub("currencies", self.pick(rng, "currencies"))
        lines = []
        total = Decimal(0)
        for k in range(rng.randint(1, 3)):
            price = self._amount(rng, False)
            qty = Decimal(rng.randint(1, 5))
            total += price * qty
            lines.append({
                "id": rec["id"] * 8 + k, "created-at": rec["created-at"],
                "updated-at": rec["updated-at"], "created-by": rec["created-by"],
                "updated-by": rec["updated-by"], "line-num": k + 1,
                "description": rng.choice(DESCRIPTIONS),
                "quantity": money(qty), "unit-price": money(price), "total": money(price * qty),
                "account": self.stub("accounts", self.pick(rng, "accounts")),
                "commodity": self.stub("commodities", self.pick(rng, "commodities")),
                "supplier": self.stub("suppliers", self.pick(rng, "suppliers")),
                "uom": self.stub("uoms", self.pick(rng, "uoms")), "need-by-date": None,
                "order-line-id": None, "status": "approved", "line-type": "RequisitionQuantityLine",
            })  # fmt: skip
        rec.update({
            "status": rng.choice(("draft", "pending_approval", "approved", "ordered")),
            "submitted-at": fmt(created + 3600), "need-by-date": None,
            "requested-by": self.user(rng), "requester": self.user(rng),
            "ship-to-address": self.stub("addresses", self.pick(rng, "addresses")),
            "ship-to-attention": None,
            "department": self.stub("departments", self.pick(rng, "departments")),
            "currency": currency, "total": money(total), "line-count": len(lines),
            "exported": False, "last-exported-at": None,
            "justification": rng.choice((None, "Für das neue Büro", "New hire équipement")),
            "buyer-note": None, "req-title": rng.choice(DESCRIPTIONS),
            "requisition-lines": lines, "approvals": [], "attachments": [],
        })  # fmt: skip
        if rec["status"] == "ordered":  # its lines became order lines
            for line in lines:
                line["order-line-id"] = self.order_line(self.rng("requisition_lines", line["id"]))

    def _suppliers(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        c = self.core("suppliers", rec["id"])
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
            "primary-address": self.stub("addresses", self.pick(rng, "addresses")),
            "payment-term": self.stub("payment_terms", self.pick(rng, "payment_terms")),
            "commodity": self.stub("commodities", self.pick(rng, "commodities")),
            "parent": None, "remit-to-addresses": [], "supplier-addresses": [], "contacts": [],
            "content-groups": [{"id": 1, "name": "Everyone"}], "supplier-sites": [],
            "invoice-emails": [], "diversities": [],
        })  # fmt: skip

    def _users(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        c = self.core("users", rec["id"])
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
            "manager": self.user(rng),
            "department": self.stub("departments", self.pick(rng, "departments")),
            "default-currency": self.stub("currencies", self.pick(rng, "currencies")),
            "default-address": None, "default-account": None,
            "default-account-type": self.stub("account_types", self.pick(rng, "account_types")),
            "roles": [{"id": 3, "name": "User", "omnipotent": False, "system-role": True}],
            "content-groups": [], "account-groups": [], "approval-groups": [], "user-groups": [],
        })  # fmt: skip

    def _accounts(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        c = self.core("accounts", rec["id"])
        rec.update({k: v for k, v in c.items() if k != "id"})
        # Reference §8.6: accounts have segment-1..20; Coupa sends the unused ones as nulls.
        rec.update({f"segment-{n}": None for n in range(4, 21)})
        rec["account-type-id"] = c["account-type"]["id"] if c["account-type"] else None

    def _account_types(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        rec.update({
            "name": self.core("account_types", rec["id"])["name"], "active": True,
            "currency": self.stub("currencies", self.pick(rng, "currencies")),
            "dynamic-flag": False, "legal-entity-name": rng.choice(("Acme Inc.", "Globex GmbH")),
            "primary-address": None, "primary-contact": None,
        })  # fmt: skip

    def _approvals(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        status = rng.choice(("approved", "pending_approval", "rejected", "escalated"))
        rec.update({
            "approvable-type": rng.choice(("InvoiceHeader", "RequisitionHeader")),
            "approvable-id": self.pick(rng, "invoices") or rng.randint(1, 999),
            "status": status, "type": "UserApprover", "position": rng.randint(1, 3),
            "approval-chain-id": rng.randint(1, 40),
            "approval-date": fmt(updated) if status == "approved" else None,
            "approver": self.user(rng), "approved-by": self.user(rng), "approver-type": "User",
            "delegate": None, "note": rng.choice((None, "OK 👍", "Bitte prüfen")),
            "holdable": True, "reasons": [],
        })  # fmt: skip

    def _contracts(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        rec.update({
            "name": f"Rahmenvertrag {rec['id']} – {rng.choice(COMMODITIES)}",
            "number": f"C-{rec['id']:05d}", "status": rng.choice(("published", "draft", "expired")),
            "supplier": self.stub("suppliers", self.pick(rng, "suppliers")),
            "start-date": fmt(created), "end-date": fmt(created + 365 * 86400),
            "currency": self.stub("currencies", self.pick(rng, "currencies")),
            "maximum-value": money(self._amount(rng, rec["id"] % 2 == 0)),
            "minimum-value": None, "contract-owner": self.user(rng),
            "contract-type": None, "version": 1, "terms": None, "object-lines": [],
        })  # fmt: skip

    def _expense_reports(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        currency = self.stub("currencies", self.pick(rng, "currencies"))
        lines = []
        total = Decimal(0)
        for k in range(rng.randint(1, 3)):
            amount = self._amount(rng, False)
            total += amount
            lines.append({
                "id": rec["id"] * 8 + k, "created-at": rec["created-at"],
                "updated-at": rec["updated-at"], "created-by": rec["created-by"],
                "updated-by": rec["updated-by"], "line-number": k + 1,
                "description": rng.choice(DESCRIPTIONS),
                "merchant": rng.choice(("Café de Flore", "ANA 全日空", "Uber")),
                "amount": money(amount), "expense-date": fmt(created),
                "expense-category": {"id": 1 + k, "name": rng.choice(("Meals", "Airfare"))},
                "currency": currency, "foreign-currency": None, "exchange-rate": "1.0",
                "account": self.stub("accounts", self.pick(rng, "accounts")), "reason": None,
                "external-src-ref": None,
            })  # fmt: skip
        rec.update({
            "title": f"Reise nach {rng.choice(CITIES)[0]} {rec['id']}",
            "status": rng.choice(("draft", "pending_approval", "approved_for_payment", "paid")),
            "submitted-at": fmt(created + 7200), "expensed-by": self.user(rng),
            "total": money(total), "currency": currency, "paid": False, "exported": False,
            "last-exported-at": None, "audit-score": rng.randint(0, 100), "auditor-note": None,
            "reject-reason": None, "external-src-ref": None, "external-src-name": None,
            "expense-lines": lines, "approvals": [],
        })  # fmt: skip

    def _inventory_transactions(
        self, rec: Record, rng: random.Random, created: int, updated: int
    ) -> None:
        price = self._amount(rng, False)
        qty = Decimal(rng.randint(1, 20))
        rec.update({
            "type": "InventoryReceipt", "status": rng.choice(("created", "created", "voided")),
            "transaction-date": fmt(created), "quantity": money(qty), "price": money(price),
            "total": money(price * qty), "uom": self.stub("uoms", self.pick(rng, "uoms")),
            "item": None, "account": self.stub("accounts", self.pick(rng, "accounts")),
            "order-line": {"id": self.order_line(rng)}, "barcode": None,
            "match-reference": None, "exported": False, "last-exported-at": None,
            "inventory-transaction-lots": [], "account-allocations": [],
        })  # fmt: skip

    def _lookup_values(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        rec.update({
            "name": f"{rng.choice(('Projekt', 'Projet', 'プロジェクト'))} {rec['id']}",
            "description": rng.choice((None, "Kostenstelle", "Centre de coût")),
            "external-ref-num": f"EXT-{rec['id']}", "external-ref-code": f"X{rec['id']}",
            "active": True, "is-default": False, "depth": 1,
            "lookup": {"id": 1, "name": "Projects"}, "lookup-id": 1, "parent": None,
            "parent-id": None, "account-type": None,
        })  # fmt: skip

    def _departments(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        rec.update({"name": self.core("departments", rec["id"])["name"], "active": True})

    def _currencies(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        c = self.core("currencies", rec["id"])
        rec.update({"code": c["code"], "name": c["name"], "symbol": c["symbol"],
                    "enabled": True, "decimals": c["decimals"]})  # fmt: skip

    def _exchange_rates(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        """Rate n: currency n (cycling) to the first currency (USD), so every currency has one."""
        currencies = self.ref_ids.get("currencies") or ()
        source = (
            currencies[self.pos("exchange_rates", rec["id"]) % len(currencies)]
            if currencies
            else None
        )
        target = currencies[0] if currencies else None
        code = self.core("currencies", source)["code"] if source is not None else "USD"
        base = Decimal(USD_RATES.get(code, "1"))
        self.pick(rng, "currencies"), self.pick(rng, "currencies"), rng.randint(0, 200)  # as before
        jitter = Decimal(rng.randint(0, 10**9 - 1) % 401 - 200) / 10000  # within 2 %
        rate = base if code == "USD" else base * (1 + jitter)
        rec.update(
            {
                "from-currency": self.stub("currencies", source),
                "to-currency": self.stub("currencies", target),
                "rate": f"{rate:.9f}",
                "rate-date": fmt(created),
            }
        )

    def _payment_terms(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        stub = self.stub("payment_terms", rec["id"]) or {}
        rec.update({k: v for k, v in stub.items() if k != "id"})
        rec.update({"type": "PaymentTerm", "net-due-day": None})

    def _commodities(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        rec.update({
            "name": self.core("commodities", rec["id"])["name"], "active": True,
            "category": rng.choice(("goods", "services")), "subcategory": None,
            "deductibility": None, "parent": None, "parent-id": None, "translated-name": None,
            "preferred": False,
        })  # fmt: skip

    def _addresses(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        c = self.core("addresses", rec["id"])
        rec.update({k: v for k, v in c.items() if k != "id"})
        rec.update({"street2": None, "attention": None, "active": True, "vat-number": None,
                    "local-tax-number": None, "external-src-ref": None,
                    "external-src-name": None, "purposes": []})  # fmt: skip

    def _uoms(self, rec: Record, rng: random.Random, created: int, updated: int) -> None:
        c = self.core("uoms", rec["id"])
        rec.update({"code": c["code"], "name": c["name"], "allowable-precision": 2,
                    "active": True})  # fmt: skip


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def compute_invoice_totals(rec: Record) -> None:
    """Line totals and header totals, exactly (Decimal), as Coupa recomputes them on save."""
    with localcontext() as ctx:
        ctx.prec = 80
        net = Decimal(0)
        for line in rec.get("invoice-lines") or []:
            price = _dec(line.get("price"))
            qty = line.get("quantity")
            total = price * _dec(qty) if qty not in (None, "") else price
            line["total"] = line["accounting-total"] = money(total)
            net += total
        extras = sum(
            (_dec(rec.get(k)) for k in ("shipping-amount", "handling-amount", "misc-amount")),
            Decimal(0),
        )
        gross = net + extras
        with_tax = gross + _dec(rec.get("tax-amount")) - _dec(rec.get("discount-amount"))
        rec["gross-total"] = money(gross)
        rec["total-with-taxes"] = money(with_tax)
        rec["amount-due"] = money(Decimal(0) if rec.get("paid") else with_tax)
