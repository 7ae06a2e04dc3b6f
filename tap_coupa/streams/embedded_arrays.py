"""Arrays nested in documents and their lines, as streams of their own (tap_coupa.embedded).

Each is one declaration: the document stream whose pages carry it, the arrays to walk down to
its rows, and the columns the ids of the levels in between become. Rows cost no request, follow
the document stream's stream-map filter and concurrency like line streams (tap_coupa.lines), and
need the document's scope.
"""

from __future__ import annotations

import copy
from typing import Any

from tap_coupa.client import CoupaStream
from tap_coupa.embedded import Path, document_updated_key
from tap_coupa.lines import EmbeddedLinesStream
from tap_coupa.schemas._fragments import DATETIME, INTEGER
from tap_coupa.schemas.embedded import ACCOUNT_ALLOCATION, INVOICE_CHARGE, TAX_LINE
from tap_coupa.streams.expenses import ExpenseReportsStream
from tap_coupa.streams.procurement import (
    InvoicesStream,
    PurchaseOrdersStream,
    RequisitionsStream,
)


def line_schema(schema: dict[str, Any], parent_id_key: str, *ancestors: str) -> dict[str, Any]:
    """A row schema plus the columns the tap adds: document id and version, ancestor ids."""
    schema = copy.deepcopy(schema)
    properties = schema["properties"]
    properties[parent_id_key] = INTEGER
    properties[document_updated_key(parent_id_key)] = DATETIME
    for column in ancestors:
        properties[column] = INTEGER
    return schema


def embedded_stream(  # noqa: PLR0917 - one declaration per call, read in order
    name: str,
    parent: type[CoupaStream],
    parent_id_key: str,
    paths: tuple[Path, ...],
    ancestor_ids: dict[str, str],
    schema: dict[str, Any],
    doc: str,
) -> type[EmbeddedLinesStream]:
    """A line stream whose rows sit at the end of `paths` inside `parent`'s records."""
    body: dict[str, Any] = {
        "__doc__": f"{doc} (from `{parent.name}` pages, no extra request).",  # type: ignore[misc]
        "__module__": __name__,
        "name": name,
        "parent_stream_type": parent,
        "parent_id_key": parent_id_key,
        "lines_key": paths[0][0],
        "paths": paths,
        "ancestor_ids": ancestor_ids,
        "base_schema": line_schema(schema, parent_id_key, *dict.fromkeys(ancestor_ids.values())),
    }
    title = "".join(part.title() for part in name.split("_")) + "Stream"
    return type(title, (EmbeddedLinesStream,), body)


_INVOICE_LEVELS = {"invoice-lines": "invoice-line-id", "invoice-charges": "invoice-charge-id"}

InvoiceLineAllocationsStream = embedded_stream(
    "invoice_line_allocations",
    InvoicesStream,
    "invoice-id",
    (("invoice-lines", "account-allocations"),),
    {"invoice-lines": "invoice-line-id"},
    ACCOUNT_ALLOCATION,
    "Account allocations of invoice lines",
)
InvoiceChargesStream = embedded_stream(
    "invoice_charges",
    InvoicesStream,
    "invoice-id",
    (("invoice-charges",),),
    {},
    INVOICE_CHARGE,
    "Shipping, handling and miscellaneous charges of invoices",
)
InvoiceChargeAllocationsStream = embedded_stream(
    "invoice_charge_allocations",
    InvoicesStream,
    "invoice-id",
    (("invoice-charges", "account-allocations"),),
    {"invoice-charges": "invoice-charge-id"},
    ACCOUNT_ALLOCATION,
    "Account allocations of invoice charges",
)
InvoiceTaxLinesStream = embedded_stream(
    "invoice_tax_lines",
    InvoicesStream,
    "invoice-id",
    (("tax-lines",), ("invoice-lines", "tax-lines"), ("invoice-charges", "tax-lines")),
    _INVOICE_LEVELS,
    TAX_LINE,
    "Tax lines of invoices, of their lines (invoice-line-id set) and of their charges "
    "(invoice-charge-id set)",
)
PurchaseOrderLineAllocationsStream = embedded_stream(
    "purchase_order_line_allocations",
    PurchaseOrdersStream,
    "purchase-order-id",
    (("order-lines", "account-allocations"),),
    {"order-lines": "purchase-order-line-id"},
    ACCOUNT_ALLOCATION,
    "Account allocations of purchase order lines",
)
RequisitionLineAllocationsStream = embedded_stream(
    "requisition_line_allocations",
    RequisitionsStream,
    "requisition-id",
    (("requisition-lines", "account-allocations"),),
    {"requisition-lines": "requisition-line-id"},
    ACCOUNT_ALLOCATION,
    "Account allocations of requisition lines",
)
ExpenseLineAllocationsStream = embedded_stream(
    "expense_line_allocations",
    ExpenseReportsStream,
    "expense-report-id",
    (("expense-lines", "account-allocations"),),
    {"expense-lines": "expense-line-id"},
    ACCOUNT_ALLOCATION,
    "Account allocations of expense lines",
)

EMBEDDED_ARRAY_STREAMS: tuple[type[EmbeddedLinesStream], ...] = (
    InvoiceLineAllocationsStream,
    InvoiceChargesStream,
    InvoiceChargeAllocationsStream,
    InvoiceTaxLinesStream,
    PurchaseOrderLineAllocationsStream,
    RequisitionLineAllocationsStream,
    ExpenseLineAllocationsStream,
)
