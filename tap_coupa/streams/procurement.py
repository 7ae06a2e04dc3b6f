"""Procure-to-pay streams: invoices, orders, requisitions, approvals, contracts, receipts."""

from __future__ import annotations

from coupa_api.scopes import read_scope
from tap_coupa.client import IncrementalCoupaStream
from tap_coupa.lines import EmbeddedLinesStream
from tap_coupa.schemas import procurement as schemas
from tap_coupa.streams._declare import with_parent_id


class InvoicesStream(IncrementalCoupaStream):
    """Invoice headers with their embedded lines, `/api/invoices`."""

    name = "invoices"
    scope = read_scope(name)
    base_schema = schemas.INVOICE


class InvoiceLinesStream(EmbeddedLinesStream):
    """`invoice-lines` of each invoice read (no extra request)."""

    name = "invoice_lines"
    parent_stream_type = InvoicesStream
    lines_key = "invoice-lines"
    parent_id_key = "invoice-id"
    base_schema = with_parent_id(schemas.INVOICE_LINE, "invoice-id")


class PurchaseOrdersStream(IncrementalCoupaStream):
    """Purchase order headers, `/api/purchase_orders`."""

    name = "purchase_orders"
    scope = read_scope(name)
    base_schema = schemas.PURCHASE_ORDER


class PurchaseOrderLinesStream(EmbeddedLinesStream):
    """`order-lines` of each purchase order read."""

    name = "purchase_order_lines"
    parent_stream_type = PurchaseOrdersStream
    lines_key = "order-lines"
    parent_id_key = "purchase-order-id"
    base_schema = with_parent_id(schemas.ORDER_LINE, "purchase-order-id")


class RequisitionsStream(IncrementalCoupaStream):
    """Requisition headers, `/api/requisitions`."""

    name = "requisitions"
    scope = read_scope(name)
    base_schema = schemas.REQUISITION


class RequisitionLinesStream(EmbeddedLinesStream):
    """`requisition-lines` of each requisition read."""

    name = "requisition_lines"
    parent_stream_type = RequisitionsStream
    lines_key = "requisition-lines"
    parent_id_key = "requisition-id"
    base_schema = with_parent_id(schemas.REQUISITION_LINE, "requisition-id")


class ApprovalsStream(IncrementalCoupaStream):
    """Approvals of every approvable document, `/api/approvals`."""

    name = "approvals"
    scope = read_scope(name)
    base_schema = schemas.APPROVAL


class ContractsStream(IncrementalCoupaStream):
    """Contracts, `/api/contracts`."""

    name = "contracts"
    scope = read_scope(name)
    base_schema = schemas.CONTRACT


class InventoryTransactionsStream(IncrementalCoupaStream):
    """Receipts and other inventory transactions, `/api/inventory_transactions`."""

    name = "inventory_transactions"
    scope = read_scope(name)
    base_schema = schemas.INVENTORY_TRANSACTION
