"""Pure translation: a tap-coupa `invoices` record -> what Coupa's invoice write API takes.

Nothing here talks to Coupa. The record has Coupa's own read shape (hyphenated keys, embedded
`invoice-lines`, nested stubs, decimals as strings) plus fields Coupa computes or owns (status,
totals, approvals, audit stamps). A write sends only the fields an API client may set, with
every reference reduced to one natural key (see target_coupa.references), and matches the
record's lines to the lines of an invoice that already exists so that an update edits them in
place instead of appending duplicates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from target_coupa.references import (
    HEADER_REFERENCES,
    LINE_REFERENCES,
    SUPPLIER,
    Reference,
    ReferenceKind,
    matches,
    reference_for,
)

#: Header fields copied as they are. Everything else in the record (id, status, totals,
#: approvals, payments, created/updated stamps, exported flags, document type, line-level
#: taxation ...) is Coupa's to set: it ignores them on write, so comparing them would make
#: an unchanged invoice look changed forever.
HEADER_FIELDS: tuple[str, ...] = (
    "invoice-number",
    "invoice-date",
    "comments",
    "internal-note",
    "supplier-note",
    "payment-notes",
    "handling-amount",
    "misc-amount",
    "shipping-amount",
    "tax-amount",
    "discount-amount",
    "supplier-total",
    "custom-fields",
)

#: Line fields copied as they are. The line's `id` is used only to match lines, never sent
#: from the input (ids belong to the instance the record was read from); `order-line-id` is
#: such an id, with no natural key to translate it by, so it is not sent either.
LINE_FIELDS: tuple[str, ...] = (
    "line-num",
    "type",
    "description",
    "price",
    "quantity",
    "source-part-num",
)
#: Sent, used to match lines, but not compared: Coupa numbers lines itself (it may ignore
#: the number we send), so a copied invoice can differ here and still be the same invoice.
UNCOMPARED_LINE_FIELDS = frozenset({"line-num"})

#: Decimal-valued fields compare by value ("10.0" equals "10.00").
DECIMAL_FIELDS = frozenset(
    {
        "price", "quantity", "total", "tax-amount", "handling-amount", "misc-amount",
        "shipping-amount", "discount-amount", "exchange-rate", "tax-rate",
    }
)  # fmt: skip
#: Timestamps compare as instants (Coupa renders them in the instance's own offset).
INSTANT_FIELDS = frozenset({"invoice-date"})

LINES = "invoice-lines"
#: The upsert key: found by it, so never changed by an update (and not sent in one).
KEY_FIELDS = frozenset({"invoice-number", "supplier"})


class PayloadError(ValueError):
    """The record cannot be written at all (no invoice number, no supplier)."""


@dataclass(frozen=True)
class InvoiceKey:
    """The upsert key: Coupa allows one invoice number per supplier."""

    supplier: Reference
    invoice_number: str

    def as_dict(self) -> dict[str, Any]:
        """The key as written to dead letters and logs."""
        return {"supplier": self.supplier, "invoice-number": self.invoice_number}

    @property
    def ident(self) -> tuple[str, str, str]:
        """A hashable identity: supplier key name, its value, the invoice number."""
        key, value = next(iter(self.supplier.items()))
        return (key, str(value).strip(), self.invoice_number)

    def lookup_params(self) -> dict[str, Any]:
        """Query parameters that find this invoice: `invoice-number=..&supplier[number]=..`."""
        key, value = next(iter(self.supplier.items()))
        return {"invoice-number": self.invoice_number, f"supplier[{key}]": value}

    def __str__(self) -> str:
        key, value = next(iter(self.supplier.items()))
        return f"invoice {self.invoice_number!r} of supplier {key} {value!r}"


@dataclass(frozen=True)
class LineRequest:
    """One input line: its write payload and what identifies it for matching."""

    payload: dict[str, Any]
    line_num: Any = None
    source_id: Any = None


@dataclass(frozen=True)
class InvoiceRequest:
    """What the record asks Coupa to hold: key, header payload and lines."""

    key: InvoiceKey
    header: dict[str, Any]
    lines: tuple[LineRequest, ...] | None = None
    references: tuple[tuple[ReferenceKind, Reference, str], ...] = field(default=())

    def create_payload(self) -> dict[str, Any]:
        """Body of `POST /api/invoices`."""
        payload = dict(self.header)
        if self.lines is not None:
            payload[LINES] = [dict(line.payload) for line in self.lines]
        return payload


def key_of(record: Mapping[str, Any]) -> InvoiceKey:
    """The record's upsert key.

    Raises:
        PayloadError: no invoice number, or no supplier key or id to find the invoice by.
    """
    number = record.get("invoice-number")
    if not isinstance(number, str) or not number.strip():
        msg = "`invoice-number` is missing; it is half of the key invoices are upserted by."
        raise PayloadError(msg)
    supplier = reference_for(SUPPLIER, record.get("supplier"))
    if supplier is None:
        msg = (
            "`supplier` has no number, name or id; it is half of the key invoices are upserted by."
        )
        raise PayloadError(msg)
    return InvoiceKey(supplier=supplier, invoice_number=number)


def request_from(record: Mapping[str, Any]) -> InvoiceRequest:
    """Translate a tap-coupa invoice record into an InvoiceRequest.

    Raises:
        PayloadError: see `key_of`.
    """
    key = key_of(record)
    header: dict[str, Any] = {name: record[name] for name in HEADER_FIELDS if name in record}
    references: list[tuple[ReferenceKind, Reference, str]] = []
    for name, kind in HEADER_REFERENCES.items():
        ref = reference_for(kind, record.get(name))
        if ref is not None:
            header[name] = ref
            references.append((kind, ref, name))
    lines: tuple[LineRequest, ...] | None = None
    raw_lines = record.get(LINES)
    if isinstance(raw_lines, list):
        built = []
        for index, raw in enumerate(raw_lines, start=1):
            line = raw if isinstance(raw, Mapping) else {}
            payload = {name: line[name] for name in LINE_FIELDS if name in line}
            where = f"line {line.get('line-num') or index}"
            for name, kind in LINE_REFERENCES.items():
                ref = reference_for(kind, line.get(name))
                if ref is not None:
                    payload[name] = ref
                    references.append((kind, ref, f"{where} {name}"))
            built.append(LineRequest(payload, line.get("line-num"), line.get("id")))
        lines = tuple(built)
    return InvoiceRequest(key, header, lines, tuple(references))


def local_problems(request: InvoiceRequest) -> list[str]:
    """What the dry run can tell without Coupa: lines Coupa would refuse for lack of a price."""
    problems = []
    for index, line in enumerate(request.lines or (), start=1):
        if line.payload.get("price") in (None, ""):
            problems.append(
                f"line {line.line_num or index} has no price; Coupa requires one on every "
                "invoice line."
            )
    return problems


# -- updates --------------------------------------------------------------------------------
@dataclass(frozen=True)
class UpdatePlan:
    """The PUT body that makes an existing invoice equal the request, and what differs."""

    payload: dict[str, Any]
    differences: tuple[str, ...]

    @property
    def unchanged(self) -> bool:
        """Nothing a write could change differs."""
        return not self.differences


def match_lines(
    lines: Sequence[LineRequest], existing: Sequence[Mapping[str, Any]]
) -> list[tuple[LineRequest | None, Mapping[str, Any] | None]]:
    """Pair input lines with existing lines, each existing line at most once.

    First by line number (it survives a copy between instances, ids do not), then by id (a
    re-run against the instance the record came from), then the remaining ones in order (an
    instance that renumbered the lines it was given). Unpaired input lines are new; unpaired
    existing lines are gone from the input. So an update never ends with more lines than the
    input has.
    """
    free = list(existing)
    found: list[Mapping[str, Any] | None] = [None] * len(lines)

    def claim(index: int, key: str, value: Any) -> None:
        match = next((e for e in free if _same_scalar(e.get(key), value)), None)
        if match is not None:
            free.remove(match)
            found[index] = match

    for index, line in enumerate(lines):
        if line.line_num is not None:
            claim(index, "line-num", line.line_num)
    for index, line in enumerate(lines):
        if found[index] is None and line.source_id is not None:
            claim(index, "id", line.source_id)
    for index in range(len(lines)):
        if found[index] is None and free:
            found[index] = free.pop(0)
    pairs: list[tuple[LineRequest | None, Mapping[str, Any] | None]] = list(
        zip(lines, found, strict=True)
    )
    pairs.extend((None, e) for e in free)
    return pairs


def plan_update(request: InvoiceRequest, existing: Mapping[str, Any]) -> UpdatePlan:
    """Compare the request's writable fields with `existing` (a Coupa invoice, full shape)."""
    differences = [
        f"{name}: {_show(existing.get(name))} -> {_show(value)}"
        for name, value in request.header.items()
        if name not in KEY_FIELDS and not _same_field(name, value, existing.get(name))
    ]
    payload = {k: v for k, v in request.header.items() if k not in KEY_FIELDS}
    if request.lines is not None:
        have = existing.get(LINES)
        current = [e for e in have if isinstance(e, Mapping)] if isinstance(have, list) else []
        line_payloads: list[dict[str, Any]] = []
        for line, found in match_lines(request.lines, current):
            if line is None and found is not None:
                differences.append(f"line {found.get('line-num')} (id {found.get('id')}) removed")
                line_payloads.append({"id": found.get("id"), "_delete": True})
            elif line is not None and found is None:
                differences.append(f"line {line.line_num} added")
                line_payloads.append(dict(line.payload))
            elif line is not None and found is not None:
                changed = [
                    name
                    for name, value in line.payload.items()
                    if name not in UNCOMPARED_LINE_FIELDS
                    and not _same_field(name, value, found.get(name))
                ]
                differences.extend(f"line {line.line_num}: {name} changed" for name in changed)
                line_payloads.append({"id": found.get("id"), **line.payload})
        payload[LINES] = line_payloads
    return UpdatePlan(payload, tuple(differences))


# -- comparison -----------------------------------------------------------------------------
def _same_field(name: str, desired: Any, current: Any) -> bool:
    if name in HEADER_REFERENCES or name in LINE_REFERENCES:
        return matches(desired, current) if isinstance(desired, Mapping) else current is None
    if name == "custom-fields":
        return _same_custom_fields(desired, current)
    if desired is None or current is None:
        return _blank(desired) and _blank(current)
    if name in DECIMAL_FIELDS:
        return _decimal(desired) == _decimal(current)
    if name in INSTANT_FIELDS:
        return _same_instant(desired, current)
    return _same_scalar(desired, current)


def _same_custom_fields(desired: Any, current: Any) -> bool:
    wanted = desired if isinstance(desired, Mapping) else {}
    have = current if isinstance(current, Mapping) else {}
    return all(
        (_blank(value) and _blank(have.get(key))) or _same_scalar(value, have.get(key))
        for key, value in wanted.items()
    )


def _blank(value: Any) -> bool:
    return value is None or value == ""


def _same_scalar(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return _boolean(left) == _boolean(right)
    if isinstance(left, str) and isinstance(right, str):
        return left.strip() == right.strip()
    return left == right or str(left) == str(right)


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    return str(value).strip().lower() in {"true", "1", "yes"}


def _decimal(value: Any) -> Decimal | str:
    try:
        return Decimal(str(value)).normalize()
    except InvalidOperation:
        return str(value)


def _same_instant(left: Any, right: Any) -> bool:
    a, b = _instant(left), _instant(right)
    if isinstance(a, dt.date) and not isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a == b.date()
    if isinstance(b, dt.date) and not isinstance(b, dt.datetime) and isinstance(a, dt.datetime):
        return b == a.date()
    return a == b


def _instant(value: Any) -> dt.datetime | dt.date | str:
    text = str(value).strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
