"""The scope map: the read scope Coupa documents for each collection the connectors use.

Wire facts only (reference §3, §4): which path needs which scope. What the tap makes of a
collection (its stream, replication, parent, embedded arrays) is the tap's stream table
(tap_coupa.streams.specs); the target takes its read and write scopes from here too. A path
with a `{placeholder}` is a sub-resource: Coupa serves it under one parent record.
"""

from __future__ import annotations

INVOICE = "core.invoice.read"
PO = "core.purchase_order.read"
SUPPLIER = "core.supplier.read"
COMMON = "core.common.read"
ACCOUNTING = "core.accounting.read"
CATALOG = "core.catalog.read"
RECEIVING = "core.inventory.receiving.read"
INTEGRATION = "core.integration.read"
PROJECT = "core.project.read"

#: One line per collection: its path and the scope reading it needs.
READ_SCOPES: dict[str, str] = {
    # procure to pay
    "/api/invoices": INVOICE,
    "/api/purchase_orders": PO,
    "/api/purchase_order_changes": PO,
    "/api/requisitions": "core.requisition.read",
    "/api/expense_reports": "core.expense.read",
    "/api/approvals": "core.approval.read",
    "/api/contracts": "core.contract.read",
    "/api/tax_registrations": INVOICE,
    "/api/comments": "core.comment.read",
    "/api/easy_form_responses": "core.easy_form_response.read",
    "/api/quote_requests": "core.sourcing.read",
    "/api/quote_responses": "core.sourcing.response.read",
    # inventory and receiving
    "/api/inventory_transactions": "core.inventory.transaction.read",
    "/api/receiving_transactions": RECEIVING,
    "/api/inventory_adjustments": "core.inventory.adjustment.read",
    "/api/inventory_consumptions": "core.inventory.consumption.read",
    "/api/inventory_transfers": "core.inventory.transfer.read",
    "/api/return_to_supplier_transactions": "core.inventory.return_to_supplier.read",
    "/api/asn/headers": "core.inventory.asn.read",
    "/api/receipt_requests": RECEIVING,
    "/api/return_requests": RECEIVING,
    # suppliers, items, parties
    "/api/suppliers": SUPPLIER,
    "/api/suppliers/{supplier_id}/addresses": SUPPLIER,
    "/api/supplier_sites": SUPPLIER,
    "/api/supplier_information": SUPPLIER,
    "/api/supplier_risk_aware_feed": "core.supplier.risk_aware.read",
    "/api/items": CATALOG,
    "/api/items/{item_id}/supplier_items": CATALOG,
    "/api/users": "core.user.read",
    "/api/user_groups": "core.user_group.read",
    "/api/user_group_memberships": "core.user_group.read",
    "/api/departments": COMMON,
    "/api/addresses": COMMON,
    "/api/business_groups": COMMON,
    "/api/legal_entities": "core.legal_entity.read",
    "/api/business_entities": "core.business_entity.read",
    "/api/projects": PROJECT,
    "/api/tasks": PROJECT,
    "/api/project_memberships": PROJECT,
    # accounting and reference data
    "/api/accounts": ACCOUNTING,
    "/api/account_types": ACCOUNTING,
    "/api/account_groups": ACCOUNTING,
    "/api/account_validation_rules": ACCOUNTING,
    "/api/budget_lines": "core.budget.read",
    "/api/budget_line_adjustments": "core.budget.read",
    "/api/lookups": COMMON,
    "/api/lookup_values": COMMON,
    "/api/currencies": COMMON,
    "/api/exchange_rates": COMMON,
    "/api/payment_terms": COMMON,
    "/api/shipping_terms": COMMON,
    "/api/commodities": COMMON,
    "/api/uoms": COMMON,
    "/api/tax_codes": COMMON,
    # Coupa Pay and payables
    "/api/coupa_pay/payments": "core.pay.payments.read",
    "/api/coupa_pay/invoices": "core.payables.invoice.read",
    "/api/charges": "core.pay.charges.read",
    "/api/payables/invoices": "core.payables.invoice.read",
    "/api/payables/orders": "core.payables.order.read",
    "/api/payables/allocations": "core.payables.allocations.read",
    "/api/payables/external/payables": "core.payables.external.read",
    # integrations
    "/api/integrations": INTEGRATION,
    "/api/integration_runs": INTEGRATION,
    "/api/integration_errors": INTEGRATION,
    "/api/integration_history_records": INTEGRATION,
}  # fmt: skip

#: Custom object instances: the path needs a definition id only the tenant knows (`extra_streams`).
CUSTOM_OBJECTS_PATH = "/api/custom_objects/{definition_id}/object_instances"
CUSTOM_OBJECTS_SCOPE = COMMON

#: Section-4 collections with no stream of their own, and why.
NOT_COVERED: dict[str, str] = {
    "/api/purchase_order_lines": "the same lines arrive embedded in each purchase order "
    "(stream purchase_order_lines), at no extra request",
    "/api/expense_lines": "the same lines arrive embedded in each expense report "
    "(stream expense_lines), at no extra request",
    "/api/invoices/:id/remit_to_addresses": "the same remit-to addresses are read per supplier "
    "(stream remit_to_addresses); per invoice would cost one request per invoice",
    "/api/supplier_items": "the same records as stream supplier_items (read per item); declare it "
    "in `extra_streams` to read it in pages of 50 instead",
    "/api/attachments": "no collection-wide read scope: attachments are listed in each parent "
    "document's `attachments` array",
    "/api/custom_objects/:id/object_instances": "needs your custom object definition id: declare "
    "it in `extra_streams`",
}

# ---- invoice writes (target) ----------------------------------------------------------------
INVOICE_READ = INVOICE
INVOICE_CREATE = "core.invoice.create"
INVOICE_WRITE = "core.invoice.write"
INVOICE_DELETE = "core.invoice.delete"
#: Invoice write operations and the scopes any one of which allows them (reference §3.3, §10.1).
INVOICE_WRITES: dict[str, tuple[str, ...]] = {
    "create": (INVOICE_CREATE, INVOICE_WRITE),
    "update": (INVOICE_WRITE,),
    "submit": (INVOICE_WRITE, INVOICE_CREATE),
    "void": (INVOICE_DELETE,),
    "abandon": (INVOICE_DELETE,),
}


def read_scope(resource: str) -> str:
    """The scope reading `suppliers` (or `/api/suppliers`) needs; KeyError if not in the map."""
    return READ_SCOPES[resource if resource.startswith("/") else f"/api/{resource}"]


def not_covered_table() -> str:
    """The Markdown list of section-4 paths without a stream of their own, with the reason."""
    return "\n".join(f"- `{path}`: {why}." for path, why in NOT_COVERED.items())
