# ruff: noqa: RUF001 - the data deliberately holds non-ASCII punctuation (en dashes).
"""Deterministic data: the toolbox every record builder draws from, and each table's index.

Each record is a pure function of (seed, profile, resource, id, stamps): `Generator.rng` gives
a record its own random generator, reference picks come from the initial id lists, and
reference cores and stubs (users, suppliers, currencies, ...) are rebuilt from their ids.
Nothing is generated up front except a compact index per resource (ids and timestamps);
records are built on demand (coupa_emulator.builders), so 100,000 invoices start in well
under a second. The vocabularies here (names, currencies, custom fields per tenant profile)
give the shapes of the reference's §9 samples: hyphenated keys, decimals as strings, nulls
present, nested stubs, a `custom-fields` object and legacy custom fields as top-level keys.
Invoice numbers and totals live here too, as writes (coupa_emulator.writes) recompute them.
"""

from __future__ import annotations

import bisect
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

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
    """Per-record random generators, reference picks, cores, stubs and custom fields.

    Reference picks use the initial id lists only, so later inserts never change old records.
    """

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

    def add_stamps(self, rec: Record, created: int, updated: int, rng: random.Random) -> None:
        """Coupa's four audit keys: when and by whom the record was created and last updated."""
        rec["created-at"] = fmt(created)
        rec["updated-at"] = fmt(updated)
        rec["created-by"] = self.user(rng)
        rec["updated-by"] = self.user(rng)


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
