"""The scope map: every Coupa collection the connectors read or write, and the scope it needs.

One home for scopes (reference §3, §4): the tap's stream declarations take path, scope and
replication from `ENDPOINTS`, the target takes its read and write scopes from here, and the
README's stream table and the tap's `--about` are generated from the same table
(tap_coupa.streams.catalog_doc). A path with a `{placeholder}` is a sub-resource, read once
per parent record.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """One readable Coupa collection, as the tap exposes it (one stream)."""

    stream: str
    path: str
    scope: str
    #: False where Coupa gives the resource no `updated-at`, or it is read per parent record:
    #: read in full on every run.
    incremental: bool = True
    #: The stream whose records' ids fill the path's `{placeholder}` (a child stream).
    parent: str | None = None

    @property
    def replication(self) -> str:
        """How the stream is replicated, as the docs name it."""
        if self.parent:
            return f"full table, per {self.parent} record read"
        return "updated-at" if self.incremental else "full table"


def _ep(stream: str, scope: str, path: str | None = None, *, incremental: bool = True) -> Endpoint:
    """A top-level collection, at `/api/<stream>` unless `path` says otherwise."""
    return Endpoint(stream, path or f"/api/{stream}", scope, incremental=incremental)


def _child(stream: str, scope: str, path: str, parent: str) -> Endpoint:
    """A sub-resource: read in full for each parent record the run reads."""
    return Endpoint(stream, path, scope, incremental=False, parent=parent)


INVOICE = "core.invoice.read"
PO = "core.purchase_order.read"
SUPPLIER = "core.supplier.read"
COMMON = "core.common.read"
ACCOUNTING = "core.accounting.read"
CATALOG = "core.catalog.read"
RECEIVING = "core.inventory.receiving.read"
INTEGRATION = "core.integration.read"
PROJECT = "core.project.read"

# One line per collection: stream name, read scope, path when it is not /api/<stream>.
_ENDPOINTS: tuple[Endpoint, ...] = (
    # procure to pay
    _ep("invoices", INVOICE),
    _ep("purchase_orders", PO),
    _ep("purchase_order_changes", PO),
    _ep("requisitions", "core.requisition.read"),
    _ep("expense_reports", "core.expense.read"),
    _ep("approvals", "core.approval.read"),
    _ep("contracts", "core.contract.read"),
    _ep("tax_registrations", INVOICE),
    _ep("comments", "core.comment.read"),
    _ep("easy_form_responses", "core.easy_form_response.read"),
    _ep("quote_requests", "core.sourcing.read"),
    _ep("quote_responses", "core.sourcing.response.read"),
    # inventory and receiving
    _ep("inventory_transactions", "core.inventory.transaction.read"),
    _ep("receiving_transactions", RECEIVING),
    _ep("inventory_adjustments", "core.inventory.adjustment.read"),
    _ep("inventory_consumptions", "core.inventory.consumption.read"),
    _ep("inventory_transfers", "core.inventory.transfer.read"),
    _ep("return_to_supplier_transactions", "core.inventory.return_to_supplier.read"),
    _ep("asn_headers", "core.inventory.asn.read", "/api/asn/headers"),
    _ep("receipt_requests", RECEIVING),
    _ep("return_requests", RECEIVING),
    # suppliers, items, parties
    _ep("suppliers", SUPPLIER),
    _child("remit_to_addresses", SUPPLIER, "/api/suppliers/{supplier_id}/addresses", "suppliers"),
    _ep("supplier_sites", SUPPLIER),
    _ep("supplier_information", SUPPLIER),
    _ep("supplier_risk_aware_feeds", "core.supplier.risk_aware.read",
        "/api/supplier_risk_aware_feed"),
    _ep("items", CATALOG),
    _child("supplier_items", CATALOG, "/api/items/{item_id}/supplier_items", "items"),
    _ep("users", "core.user.read"),
    _ep("user_groups", "core.user_group.read"),
    _ep("user_group_memberships", "core.user_group.read"),
    _ep("departments", COMMON),
    _ep("addresses", COMMON),
    _ep("business_groups", COMMON),
    _ep("legal_entities", "core.legal_entity.read"),
    _ep("business_entities", "core.business_entity.read"),
    _ep("projects", PROJECT),
    _ep("tasks", PROJECT),
    _ep("project_memberships", PROJECT),
    # accounting and reference data
    _ep("accounts", ACCOUNTING),
    _ep("account_types", ACCOUNTING),
    _ep("account_groups", ACCOUNTING),
    _ep("account_validation_rules", ACCOUNTING),
    _ep("budget_lines", "core.budget.read"),
    _ep("budget_line_adjustments", "core.budget.read", incremental=False),
    _ep("lookups", COMMON),
    _ep("lookup_values", COMMON),
    _ep("currencies", COMMON, incremental=False),
    _ep("exchange_rates", COMMON),
    _ep("payment_terms", COMMON),
    _ep("shipping_terms", COMMON),
    _ep("commodities", COMMON),
    _ep("uoms", COMMON),
    _ep("tax_codes", COMMON),
    # Coupa Pay and payables
    _ep("coupa_pay_payments", "core.pay.payments.read", "/api/coupa_pay/payments"),
    _ep("coupa_pay_invoices", "core.payables.invoice.read", "/api/coupa_pay/invoices"),
    _ep("charges", "core.pay.charges.read"),
    _ep("payables_invoices", "core.payables.invoice.read", "/api/payables/invoices"),
    _ep("payables_orders", "core.payables.order.read", "/api/payables/orders"),
    _ep("payables_allocations", "core.payables.allocations.read", "/api/payables/allocations"),
    _ep("payables_external", "core.payables.external.read", "/api/payables/external/payables"),
    # integrations
    _ep("integrations", INTEGRATION),
    _ep("integration_runs", INTEGRATION),
    _ep("integration_errors", INTEGRATION),
    _ep("integration_history_records", INTEGRATION),
)  # fmt: skip

ENDPOINTS: dict[str, Endpoint] = {e.stream: e for e in _ENDPOINTS}

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


def read_scope(stream: str) -> str:
    """The scope reading a built-in stream needs."""
    return ENDPOINTS[stream].scope


def not_covered_table() -> str:
    """The Markdown list of section-4 paths without a stream of their own, with the reason."""
    return "\n".join(f"- `{path}`: {why}." for path, why in NOT_COVERED.items())
