"""Invoice writes: create, update, submit/void/abandon, with Coupa's validation rules.

References resolve by id or natural key and, when several keys are given, all must point at
the same object (reference §10.2). Errors are collected and returned together as
`{"errors": {"invoice-header": [...]}}` with 400, the way Rails validations report them.
"""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from coupa_emulator.generator import (
    Record,
    compute_invoice_totals,
    invoice_id_from_number,
    money,
)
from coupa_emulator.store import NATURAL_KEYS, Store, Table
from coupa_emulator.timefmt import INSTANCE_TZ, fmt, now_ts, parse_instant

ERROR_KEY = "invoice-header"
EDITABLE = frozenset({"draft", "new"})
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({"draft"}), "pending_approval"),
    "void": (frozenset({"draft", "pending_receipt", "approved"}), "voided"),
    "abandon": (frozenset({"draft"}), "abandoned"),
}
PAST = {"submit": "submitted", "void": "voided", "abandon": "abandoned"}
LINE_TYPES = frozenset({"InvoiceQuantityLine", "InvoiceAmountLine"})
HEADER_REFS: dict[str, str] = {
    "supplier": "suppliers",
    "currency": "currencies",
    "payment-term": "payment_terms",
    "account-type": "account_types",
    "bill-to-address": "addresses",
    "ship-to-address": "addresses",
    "requested-by": "users",
}
LINE_REFS: dict[str, str] = {"account": "accounts", "uom": "uoms", "commodity": "commodities"}
HEADER_AMOUNTS = ("shipping-amount", "handling-amount", "misc-amount", "tax-amount",
                  "discount-amount", "supplier-total")  # fmt: skip
HEADER_TEXT = ("invoice-number", "comments", "internal-note", "supplier-note", "payment-notes")
# Read-only attributes a client may echo back from a GET; silently ignored, as Coupa does.
READ_ONLY = frozenset({"id", "created-at", "updated-at", "created-by", "updated-by", "status",
                       "gross-total", "total-with-taxes", "amount-due", "document-type",
                       "lock-version-key", "date-received", "compliant", "canceled",
                       "supplier-created", "channel", "net-due-date", "discount-due-date",
                       "approvals", "attachments", "payments", "tax-lines",
                       "withholding-tax-lines", "invoice-charges", "origin-currency",
                       "last-exported-at", "image-scan-url", "remit-to-address", "tax-code",
                       "exchange-rate", "tax-rate", "discount-percent", "paid",
                       "payment-date", "is-credit-note", "line-level-taxation",
                       "exported"})  # fmt: skip
LINE_READ_ONLY = frozenset(
    {
        "created-at", "updated-at", "created-by", "updated-by", "total", "accounting-total",
        "status", "currency", "accounting-total-currency", "account-allocations", "tax-lines",
        "withholding-tax-lines", "failed-tolerances", "po-number", "tax-amount", "tax-rate",
        "tax-description", "match-reference",
    }
)  # fmt: skip
LINE_WRITABLE = frozenset(
    {"id", "_delete", "type", "line-num", "description", "price", "quantity", "order-line-id",
     "source-part-num", *LINE_REFS}
)  # fmt: skip


class WriteError(Exception):
    """Validation failed; `status` is 400 (or 404 for an unknown invoice)."""

    def __init__(self, messages: list[str], status: int = 400) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
        self.status = status


def normalize(value: Any) -> Any:
    """Accept hyphenated or underscored keys (`_delete` keeps its Rails spelling)."""
    if isinstance(value, dict):
        return {
            (k if k == "_delete" else str(k).replace("_", "-")): normalize(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def _unwrap(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise WriteError(["Request body must be a JSON object"])
    body = normalize(body)
    for wrapper in ("invoice-header", "invoice"):
        if set(body) == {wrapper} and isinstance(body[wrapper], dict):
            return dict(body[wrapper])
    return dict(body)


def _lines_of(body: dict[str, Any]) -> list[Any] | None:
    lines = body.get("invoice-lines")
    if lines is None:
        return None
    if isinstance(lines, dict) and "invoice-line" in lines:  # XML-derived nesting
        lines = lines["invoice-line"]
    if isinstance(lines, dict):
        lines = [lines]
    if not isinstance(lines, list):
        raise WriteError(["Invoice lines must be a list"])
    return lines


class InvoiceWriter:
    """Applies invoice writes to the store; every method returns the stored record."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.table: Table = store.table("invoices")

    # ---- references ---------------------------------------------------------------------
    def resolve(self, field: str, resource: str, given: Any, errors: list[str]) -> Record | None:
        """Resolve a reference by id or natural keys; all given keys must agree."""
        label = field.replace("-", " ").capitalize()
        if given is None:
            return None
        if not isinstance(given, dict):
            errors.append(f'{label} must be an object such as {{"id": 1}}')
            return None
        keys = ("id", *NATURAL_KEYS[resource])
        present = {k: given[k] for k in keys if given.get(k) not in (None, "")}
        if not present:
            errors.append(f"{label} must be given by one of: {', '.join(keys)}")
            return None
        table = self.store.table(resource)
        matches: set[int] | None = None
        for key, value in present.items():
            found = table.lookup(key, str(value))
            matches = found if matches is None else matches & found
        if not matches:
            shown = ", ".join(f"{k}={v!r}" for k, v in present.items())
            errors.append(f"{label} not found ({shown})")
            return None
        rid = min(matches)
        stub = self.store.generator.stub(resource, rid)
        return copy.deepcopy(stub) if stub is not None else {"id": rid}

    # ---- field validation ----------------------------------------------------------------
    def _decimal(self, label: str, value: Any, errors: list[str]) -> str | None:
        if value is None or isinstance(value, bool):
            errors.append(f"{label} must be a number")
            return None
        try:
            dec = Decimal(str(value).strip())
        except InvalidOperation:
            errors.append(f"{label} is not a number ({value!r})")
            return None
        if not dec.is_finite():
            errors.append(f"{label} is not a number ({value!r})")
            return None
        return money(dec)

    def _date(self, value: Any, errors: list[str]) -> str | None:
        text = str(value).strip()
        if len(text) == 10:
            try:
                y, m, d = (int(p) for p in text.split("-"))
                return fmt(int(datetime(y, m, d, tzinfo=INSTANCE_TZ).timestamp()))
            except ValueError:
                pass
        instant = parse_instant(text)
        if instant is None:
            errors.append(f"Invoice date is not a valid date ({value!r})")
            return None
        return fmt(int(instant))

    def _apply_header(  # noqa: PLR0912 - one branch per header rule
        self, rec: Record, body: dict[str, Any], errors: list[str], *, creating: bool
    ) -> None:
        schema_keys = set(self.store.samples("invoices")[0])
        custom_names, legacy = self.store.generator.custom_names("invoices")
        unknown = sorted(
            k for k in body
            if k not in schema_keys and k not in READ_ONLY and k != "invoice-lines"
        )  # fmt: skip
        if unknown:
            errors.append(f"Unknown attribute(s): {', '.join(unknown)}")
        if creating:
            for required in ("invoice-number", "invoice-date", "supplier", "currency"):
                if body.get(required) in (None, "", {}):
                    errors.append(f"{required.replace('-', ' ').capitalize()} can't be blank")
        for key in HEADER_TEXT:
            if key in body:
                value = body[key]
                if key == "invoice-number" and (not isinstance(value, str | int) or value == ""):
                    if not creating:
                        errors.append("Invoice number can't be blank")
                    continue
                rec[key] = None if value is None else str(value)
        if body.get("invoice-date") not in (None, ""):
            rec["invoice-date"] = self._date(body["invoice-date"], errors)
        for key, resource in HEADER_REFS.items():
            if key in body and body[key] not in (None, {}):
                rec[key] = self.resolve(key, resource, body[key], errors)
                if key == "currency":
                    rec["origin-currency"] = rec[key]
        for key in HEADER_AMOUNTS:
            if key in body and body[key] is not None:
                rec[key] = self._decimal(key.replace("-", " ").capitalize(), body[key], errors)
        if "custom-fields" in body:
            given = body["custom-fields"]
            if not isinstance(given, dict):
                errors.append("Custom fields must be an object")
            else:
                bad = sorted(set(given) - set(custom_names))
                if bad:
                    errors.append(f"Unknown custom field(s): {', '.join(bad)}")
                rec["custom-fields"] = {**(rec.get("custom-fields") or {}), **given}
        for name in legacy:
            if name in body:
                rec[name] = body[name]

    def _line(  # noqa: PLR0912 - one branch per line rule
        self, rec: Record, line: Record, given: dict[str, Any], num: str, errors: list[str]
    ) -> None:
        unknown = sorted(k for k in given if k not in LINE_WRITABLE and k not in LINE_READ_ONLY)
        if unknown:
            errors.append(f"Line {num}: unknown attribute(s): {', '.join(unknown)}")
        if "type" in given:
            if given["type"] not in LINE_TYPES:
                errors.append(f"Line {num}: type must be one of {', '.join(sorted(LINE_TYPES))}")
            else:
                line["type"] = given["type"]
        if "line-num" in given:
            try:
                line["line-num"] = int(given["line-num"])
            except (TypeError, ValueError):
                errors.append(f"Line {num}: line num must be an integer ({given['line-num']!r})")
        if "description" in given:
            line["description"] = given["description"]
        if not line.get("description"):
            errors.append(f"Line {num}: description can't be blank")
        if "price" in given:
            line["price"] = self._decimal(f"Line {num}: price", given["price"], errors)
        elif line.get("price") is None:
            errors.append(f"Line {num}: price can't be blank")
        if "quantity" in given:
            quantity = given["quantity"]
            line["quantity"] = (
                None if quantity is None
                else self._decimal(f"Line {num}: quantity", quantity, errors)
            )  # fmt: skip
        if line.get("type") == "InvoiceQuantityLine" and line.get("quantity") is None:
            errors.append(f"Line {num}: quantity can't be blank for a quantity line")
        for key in ("order-line-id", "source-part-num"):
            if key in given:
                line[key] = given[key]
        for key, resource in LINE_REFS.items():
            if key in given:
                line[key] = self.resolve(f"Line {num} {key}", resource, given[key], errors)
        line["currency"] = line["accounting-total-currency"] = rec.get("currency")

    def _new_line(self, rec: Record, given: dict[str, Any], stamp: str) -> Record:
        nums = [int(n["line-num"]) for n in rec["invoice-lines"] if n.get("line-num")]
        return {
            "id": self.table.new_line_id(), "created-at": stamp, "updated-at": stamp,
            "created-by": rec.get("updated-by"), "updated-by": rec.get("updated-by"),
            "line-num": max(nums, default=0) + 1,
            "type": "InvoiceQuantityLine" if "quantity" in given else "InvoiceAmountLine",
            "description": None, "price": None, "quantity": None, "total": None,
            "accounting-total": None, "status": "new", "order-line-id": None,
            "po-number": None, "source-part-num": None, "tax-amount": "0.00",
            "tax-rate": None, "tax-description": None, "match-reference": None,
            "currency": rec.get("currency"), "accounting-total-currency": rec.get("currency"),
            "uom": None, "commodity": None, "account": None, "account-allocations": [],
            "tax-lines": [], "withholding-tax-lines": [], "failed-tolerances": [],
        }  # fmt: skip

    def _apply_lines(
        self, rec: Record, lines: list[Any], stamp: str, errors: list[str], *, creating: bool
    ) -> None:
        by_id = {line["id"]: line for line in rec["invoice-lines"]}
        for pos, given in enumerate(lines, start=1):
            if not isinstance(given, dict):
                errors.append(f"Line {pos}: must be an object")
                continue
            line_id = given.get("id")
            if line_id is not None and not creating:
                target = by_id.get(line_id) if isinstance(line_id, int) else None
                if target is None:
                    errors.append(f"Line {pos}: id {line_id} is not a line of this invoice")
                    continue
                if given.get("_delete") in (True, "true", 1, "1"):
                    rec["invoice-lines"].remove(target)
                    continue
                self._line(rec, target, given, str(target["line-num"]), errors)
                target["updated-at"] = stamp
                continue
            line = self._new_line(rec, given, stamp)
            rec["invoice-lines"].append(line)
            self._line(rec, line, given, str(line["line-num"]), errors)

    def _duplicate(self, rec: Record) -> bool:
        supplier = (rec.get("supplier") or {}).get("id")
        number = rec.get("invoice-number")
        for rid in self._same_number(number):
            if rid == rec["id"]:
                continue
            other = self.table.get(rid)
            if (
                other.get("invoice-number") == number
                and (other.get("supplier") or {}).get("id") == supplier
            ):
                return True
        return False

    def _same_number(self, number: Any) -> set[int]:
        """Invoices that may carry `number`: edited ones, plus the generated owner of it."""
        if not number:
            return set()
        found = {
            r for r, rec in self.table.overrides.items() if rec.get("invoice-number") == number
        }
        owner = invoice_id_from_number(str(number))
        if owner is not None and owner in self.table and owner not in self.table.overrides:
            found.add(owner)
        return found

    # ---- operations -------------------------------------------------------------------------
    def create(self, body: Any) -> Record:
        """POST: validate and store a new draft invoice."""
        given = _unwrap(body)
        now = now_ts()
        stamp = fmt(now)
        users = self.store.table("users").ids
        api_user = copy.deepcopy(self.store.generator.stub("users", users[0] if users else None))
        rid = self.table.new_id(self.store.rng)
        custom_names, legacy = self.store.generator.custom_names("invoices")
        template = self.store.samples("invoices")[0]
        rec: Record = {k: ([] if isinstance(v, list) else None) for k, v in template.items()}
        rec.update({
            "id": rid, "created-at": stamp, "updated-at": stamp, "created-by": api_user,
            "updated-by": api_user, "status": "draft", "document-type": "Invoice",
            "line-level-taxation": False, "exported": False, "paid": False,
            "handling-amount": "0.00", "misc-amount": "0.00", "shipping-amount": "0.00",
            "tax-amount": "0.00", "discount-amount": "0.00", "exchange-rate": "1.0",
            "date-received": stamp, "channel": "api", "compliant": True, "canceled": False,
            "supplier-created": False, "lock-version-key": 0,
            "custom-fields": dict.fromkeys(custom_names),
        })  # fmt: skip
        for name in legacy:
            rec[name] = None
        errors: list[str] = []
        self._apply_header(rec, given, errors, creating=True)
        lines = _lines_of(given) or []
        self._apply_lines(rec, lines, stamp, errors, creating=True)
        if not errors and self._duplicate(rec):
            errors.append("Invoice number has already been taken")
        if errors:
            raise WriteError(errors)
        compute_invoice_totals(rec)
        self.table.put(rec)
        return rec

    def get_for_write(self, rid: int) -> Record:
        """The invoice to change, or a 404 WriteError."""
        if rid not in self.table:
            raise WriteError([f"Invoice {rid} not found"], status=404)
        return self.table.get(rid)

    def update(self, rid: int, body: Any, *, exported: str | None = None) -> Record:
        """PUT: edit header and lines while draft/new; `?exported=` works in any status."""
        rec = self.get_for_write(rid)
        stamp = fmt(now_ts())
        if exported is not None:  # PUT ?exported=true works in any status [CD:0016, 0023]
            rec["exported"] = exported.lower() == "true"
            rec["last-exported-at"] = stamp if rec["exported"] else rec.get("last-exported-at")
            rec["updated-at"] = stamp
            self.table.put(rec)
            return rec
        given = _unwrap(body if body is not None else {})
        if rec.get("status") not in EDITABLE:
            raise WriteError(
                [f"Invoice cannot be updated while its status is {rec.get('status')}; "
                 "only draft or new invoices are editable"]
            )  # fmt: skip
        before = copy.deepcopy(rec)
        errors: list[str] = []
        self._apply_header(rec, given, errors, creating=False)
        lines = _lines_of(given)
        if lines is not None:
            self._apply_lines(rec, lines, stamp, errors, creating=False)
        if (
            not errors
            and (
                rec.get("invoice-number") != before.get("invoice-number")
                or rec.get("supplier") != before.get("supplier")
            )
            and self._duplicate(rec)
        ):
            errors.append("Invoice number has already been taken")
        if errors:
            raise WriteError(errors)
        compute_invoice_totals(rec)
        rec["updated-at"] = stamp
        rec["lock-version-key"] = int(rec.get("lock-version-key") or 0) + 1
        self.table.put(rec)
        return rec

    def action(self, rid: int, name: str) -> Record:
        """PUT /submit, /void, /abandon with Coupa's status guards."""
        rec = self.get_for_write(rid)
        allowed, target = TRANSITIONS[name]
        status = rec.get("status")
        if status not in allowed:
            raise WriteError(
                [f"Invoice cannot be {PAST[name]} from status {status} "
                 f"(allowed from: {', '.join(sorted(allowed))})"]
            )  # fmt: skip
        if name == "submit" and not rec.get("invoice-lines"):
            raise WriteError(["Invoice must have at least one line to be submitted"])
        rec["status"] = target
        if target == "voided":
            rec["canceled"] = True
        rec["updated-at"] = fmt(now_ts())
        self.table.put(rec)
        return rec
