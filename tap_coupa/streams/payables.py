"""Coupa Pay and payables streams (path, scope and replication: coupa_api.scopes)."""

from __future__ import annotations

from tap_coupa.schemas import payables as s
from tap_coupa.streams._declare import declare

CoupaPayPaymentsStream = declare("coupa_pay_payments", s.PAYMENT, "Coupa Pay payments")
CoupaPayInvoicesStream = declare("coupa_pay_invoices", s.PAYABLE, "Coupa Pay invoice payables")
ChargesStream = declare("charges", s.CHARGE, "Virtual card charges")
PayablesInvoicesStream = declare("payables_invoices", s.PAYABLE, "Invoice payables")
PayablesOrdersStream = declare("payables_orders", s.PAYABLE, "Order payables")
PayablesAllocationsStream = declare("payables_allocations", s.PAYABLE, "Payable allocations")
PayablesExternalStream = declare("payables_external", s.PAYABLE, "External payables")
