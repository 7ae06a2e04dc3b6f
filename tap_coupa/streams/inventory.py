"""Receiving and inventory streams (path, scope and replication: coupa_api.scopes)."""

from __future__ import annotations

from tap_coupa.schemas import inventory as s
from tap_coupa.streams._declare import declare

ReceivingTransactionsStream = declare("receiving_transactions", s.TRANSACTION, "Receipts")
InventoryAdjustmentsStream = declare("inventory_adjustments", s.TRANSACTION, "Adjustments")
InventoryConsumptionsStream = declare("inventory_consumptions", s.TRANSACTION, "Consumptions")
InventoryTransfersStream = declare("inventory_transfers", s.TRANSACTION, "Transfers")
ReturnToSupplierStream = declare("return_to_supplier_transactions", s.TRANSACTION, "Returns")
AsnHeadersStream = declare("asn_headers", s.ASN_HEADER, "Advance ship notices")
ReceiptRequestsStream = declare("receipt_requests", s.REQUEST, "Receipt requests")
ReturnRequestsStream = declare("return_requests", s.REQUEST, "Return requests")
