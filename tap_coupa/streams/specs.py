"""The stream table: one row per stream the tap offers, parents before their children.

A row says what the tap makes of a Coupa collection: the stream's name, its schema (read when
the stream is first needed, not at import), how it is replicated, and where its rows come
from: a collection of its own (`path`, default `/api/<name>`), a sub-resource read once per
parent record (a `{placeholder}` in the path, filled with the parent's id), or arrays embedded
in the parent's records (`lines`, no request). The scope comes from the wire contract
(coupa_api.scopes, by path); an embedded stream needs its parent's. One factory
(tap_coupa.streams.factory) builds every stream class from these rows, and from the rows
`extra_streams` declares. Adding a collection is a row here and a schema (docs/adding-a-stream.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

Replication = Literal["updated-at", "full table"]
#: Bookmarked on `updated-at`, filtered server-side with `updated-at[gt_or_eq]`.
INCREMENTAL: Replication = "updated-at"
#: Read in full on every run (Coupa gives the collection no `updated-at`, or a sub-resource).
FULL_TABLE: Replication = "full table"
#: What a row reads: a collection of its own, one per parent record, arrays in the parent.
Kind = Literal["collection", "sub-resource", "embedded"]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class StreamSpec:
    """One stream: everything the factory needs to build its class."""

    name: str
    #: `"<module>.<NAME>"` in tap_coupa.schemas (resolved lazily), or the schema itself.
    schema: str | dict[str, Any]
    #: One phrase for the class docstring and docs ("Invoice headers").
    doc: str
    #: The collection's path; `/api/<name>` when empty. A sub-resource's holds `{<key>}`.
    path: str = ""
    replication: Replication = INCREMENTAL
    #: The stream whose records are this one's parents (sub-resource or embedded arrays).
    parent: str | None = None
    #: Embedded: the arrays to walk from the parent record down to a row, one path per level
    #: the same kind of row sits at (`(("invoice-lines", "account-allocations"),)`).
    lines: tuple[tuple[str, ...], ...] = ()
    #: Embedded: the column carrying the parent's id (`invoice-id`).
    parent_id_key: str = ""
    #: Embedded: the column each intermediate array's element id becomes.
    ancestor_ids: tuple[tuple[str, str], ...] = ()
    #: The read scope; empty means the one coupa_api.scopes documents for `path`.
    scope: str = ""
    primary_keys: tuple[str, ...] = ("id",)
    #: The class's name; `<Name>Stream` from the stream name when empty.
    class_name: str = ""

    @property
    def kind(self) -> Kind:
        """Where the rows come from."""
        if self.lines:
            return "embedded"
        return "sub-resource" if "{" in self.api_path else "collection"

    @property
    def api_path(self) -> str:
        """The collection's path (`/api/<name>` unless the row gives one)."""
        return self.path or f"/api/{self.name}"

    @property
    def placeholder(self) -> str:
        """A sub-resource's path placeholder (`supplier_id`), filled with the parent's id."""
        found = _PLACEHOLDER.search(self.api_path)
        return found.group(1) if found else ""

    @property
    def title(self) -> str:
        """The class name: `invoice_lines` -> `InvoiceLinesStream`."""
        return self.class_name or "".join(p.title() for p in self.name.split("_")) + "Stream"


def _line(
    name: str,
    schema: str,
    doc: str,
    *,
    parent: str,
    parent_id_key: str,
    lines: tuple[tuple[str, ...], ...],
    ancestor_ids: tuple[tuple[str, str], ...] = (),
) -> StreamSpec:
    """A row of arrays embedded in `parent`'s records."""
    return StreamSpec(
        name,
        schema,
        doc,
        parent=parent,
        parent_id_key=parent_id_key,
        lines=lines,
        ancestor_ids=ancestor_ids,
    )


_FULL = FULL_TABLE
_INVOICE_LEVELS = (("invoice-lines", "invoice-line-id"), ("invoice-charges", "invoice-charge-id"))

SPECS: tuple[StreamSpec, ...] = (
    # procure to pay: documents and the lines embedded in them
    StreamSpec("invoices", "procurement.INVOICE", "Invoice headers with their embedded lines"),
    _line("invoice_lines", "procurement.INVOICE_LINE", "`invoice-lines` of each invoice read",
          parent="invoices", parent_id_key="invoice-id", lines=(("invoice-lines",),)),
    StreamSpec("purchase_orders", "procurement.PURCHASE_ORDER", "Purchase order headers"),
    _line("purchase_order_lines", "procurement.ORDER_LINE", "`order-lines` of each purchase order",
          parent="purchase_orders", parent_id_key="purchase-order-id",
          lines=(("order-lines",),)),
    StreamSpec("requisitions", "procurement.REQUISITION", "Requisition headers"),
    _line("requisition_lines", "procurement.REQUISITION_LINE", "`requisition-lines` of each "
          "requisition", parent="requisitions", parent_id_key="requisition-id",
          lines=(("requisition-lines",),)),
    StreamSpec("expense_reports", "expenses.EXPENSE_REPORT", "Expense reports"),
    _line("expense_lines", "expenses.EXPENSE_LINE", "`expense-lines` of each expense report",
          parent="expense_reports", parent_id_key="expense-report-id",
          lines=(("expense-lines",),)),
    StreamSpec("approvals", "procurement.APPROVAL", "Approvals of every approvable document"),
    StreamSpec("contracts", "procurement.CONTRACT", "Contracts"),
    StreamSpec("inventory_transactions", "procurement.INVENTORY_TRANSACTION",
               "Receipts and other inventory transactions"),
    # parties and reference data
    StreamSpec("suppliers", "parties.SUPPLIER", "Suppliers"),
    StreamSpec("users", "parties.USER", "Users"),
    StreamSpec("departments", "parties.DEPARTMENT", "Departments"),
    StreamSpec("addresses", "parties.ADDRESS", "Addresses"),
    StreamSpec("accounts", "reference_data.ACCOUNT", "Accounts (chart-of-accounts combinations)"),
    StreamSpec("account_types", "reference_data.ACCOUNT_TYPE", "Charts of accounts"),
    StreamSpec("lookup_values", "reference_data.LOOKUP_VALUE", "Lookup values"),
    StreamSpec("currencies", "reference_data.CURRENCY_RECORD",
               "Currencies (Coupa gives them no timestamps: every run reads all)",
               replication=_FULL),
    StreamSpec("exchange_rates", "reference_data.EXCHANGE_RATE", "Exchange rates"),
    StreamSpec("payment_terms", "reference_data.PAYMENT_TERM", "Payment terms"),
    StreamSpec("commodities", "reference_data.COMMODITY", "Commodities"),
    StreamSpec("uoms", "reference_data.UOM", "Units of measure"),
    # documents
    StreamSpec("purchase_order_changes", "documents.PURCHASE_ORDER_CHANGE", "Changes"),
    StreamSpec("comments", "documents.COMMENT", "Comments on documents"),
    StreamSpec("easy_form_responses", "documents.EASY_FORM_RESPONSE", "Form responses"),
    StreamSpec("quote_requests", "documents.QUOTE_REQUEST", "Sourcing events"),
    StreamSpec("quote_responses", "documents.QUOTE_RESPONSE", "Supplier quotes"),
    # receiving and inventory
    StreamSpec("receiving_transactions", "inventory.TRANSACTION", "Receipts"),
    StreamSpec("inventory_adjustments", "inventory.TRANSACTION", "Adjustments"),
    StreamSpec("inventory_consumptions", "inventory.TRANSACTION", "Consumptions"),
    StreamSpec("inventory_transfers", "inventory.TRANSACTION", "Transfers"),
    StreamSpec("return_to_supplier_transactions", "inventory.TRANSACTION", "Returns"),
    StreamSpec("asn_headers", "inventory.ASN_HEADER", "Advance ship notices",
               path="/api/asn/headers"),
    StreamSpec("receipt_requests", "inventory.REQUEST", "Receipt requests"),
    StreamSpec("return_requests", "inventory.REQUEST", "Return requests"),
    # items, supplier extras, groups, entities and projects
    StreamSpec("items", "organisation.ITEM", "Catalog items"),
    StreamSpec("supplier_items", "organisation.SUPPLIER_ITEM", "Supplier items",
               path="/api/items/{item_id}/supplier_items", parent="items", replication=_FULL),
    StreamSpec("remit_to_addresses", "organisation.REMIT_TO_ADDRESS",
               "Suppliers' remit-to addresses", path="/api/suppliers/{supplier_id}/addresses",
               parent="suppliers", replication=_FULL),
    StreamSpec("supplier_sites", "organisation.SUPPLIER_SITE", "Supplier sites"),
    StreamSpec("supplier_information", "organisation.SUPPLIER_INFORMATION", "SIM records"),
    StreamSpec("supplier_risk_aware_feeds", "organisation.RISK_FEED", "Supplier risk feeds",
               path="/api/supplier_risk_aware_feed"),
    StreamSpec("user_groups", "organisation.USER_GROUP", "User groups"),
    StreamSpec("user_group_memberships", "organisation.USER_GROUP_MEMBERSHIP", "Members"),
    StreamSpec("business_groups", "organisation.BUSINESS_GROUP", "Content groups"),
    StreamSpec("legal_entities", "organisation.ENTITY", "Legal entities"),
    StreamSpec("business_entities", "organisation.ENTITY", "Business entities"),
    StreamSpec("projects", "organisation.PROJECT", "Projects"),
    StreamSpec("tasks", "organisation.TASK", "Project tasks"),
    StreamSpec("project_memberships", "organisation.PROJECT_MEMBERSHIP", "Members"),
    # accounting
    StreamSpec("account_groups", "finance.ACCOUNT_GROUP", "Account groups"),
    StreamSpec("account_validation_rules", "finance.ACCOUNT_VALIDATION_RULE", "Rules"),
    StreamSpec("budget_lines", "finance.BUDGET_LINE", "Budget lines"),
    StreamSpec("budget_line_adjustments", "finance.BUDGET_LINE_ADJUSTMENT", "Moves",
               replication=_FULL),
    StreamSpec("lookups", "finance.LOOKUP", "Lookups (lists of lookup values)"),
    StreamSpec("shipping_terms", "finance.SHIPPING_TERM", "Shipping terms"),
    StreamSpec("tax_codes", "finance.TAX_CODE", "Tax codes"),
    StreamSpec("tax_registrations", "finance.TAX_REGISTRATION", "Tax registrations"),
    # Coupa Pay and payables
    StreamSpec("coupa_pay_payments", "payables.PAYMENT", "Coupa Pay payments",
               path="/api/coupa_pay/payments"),
    StreamSpec("coupa_pay_invoices", "payables.PAYABLE", "Coupa Pay invoice payables",
               path="/api/coupa_pay/invoices"),
    StreamSpec("charges", "payables.CHARGE", "Virtual card charges"),
    StreamSpec("payables_invoices", "payables.PAYABLE", "Invoice payables",
               path="/api/payables/invoices"),
    StreamSpec("payables_orders", "payables.PAYABLE", "Order payables",
               path="/api/payables/orders"),
    StreamSpec("payables_allocations", "payables.PAYABLE", "Payable allocations",
               path="/api/payables/allocations"),
    StreamSpec("payables_external", "payables.PAYABLE", "External payables",
               path="/api/payables/external/payables"),
    # integrations
    StreamSpec("integrations", "integrations.INTEGRATION", "Integrations"),
    StreamSpec("integration_runs", "integrations.RUN", "Integration runs"),
    StreamSpec("integration_errors", "integrations.ERROR", "Integration errors"),
    StreamSpec("integration_history_records", "integrations.HISTORY_RECORD", "History"),
    # arrays nested in documents and their lines (tap_coupa.embedded)
    _line("invoice_line_allocations", "embedded.ACCOUNT_ALLOCATION",
          "Account allocations of invoice lines", parent="invoices", parent_id_key="invoice-id",
          lines=(("invoice-lines", "account-allocations"),),
          ancestor_ids=(("invoice-lines", "invoice-line-id"),)),
    _line("invoice_charges", "embedded.INVOICE_CHARGE",
          "Shipping, handling and miscellaneous charges of invoices", parent="invoices",
          parent_id_key="invoice-id", lines=(("invoice-charges",),)),
    _line("invoice_charge_allocations", "embedded.ACCOUNT_ALLOCATION",
          "Account allocations of invoice charges", parent="invoices", parent_id_key="invoice-id",
          lines=(("invoice-charges", "account-allocations"),),
          ancestor_ids=(("invoice-charges", "invoice-charge-id"),)),
    _line("invoice_tax_lines", "embedded.TAX_LINE",
          "Tax lines of invoices, of their lines (invoice-line-id set) and of their charges "
          "(invoice-charge-id set)", parent="invoices", parent_id_key="invoice-id",
          lines=(("tax-lines",), ("invoice-lines", "tax-lines"), ("invoice-charges", "tax-lines")),
          ancestor_ids=_INVOICE_LEVELS),
    _line("purchase_order_line_allocations", "embedded.ACCOUNT_ALLOCATION",
          "Account allocations of purchase order lines", parent="purchase_orders",
          parent_id_key="purchase-order-id", lines=(("order-lines", "account-allocations"),),
          ancestor_ids=(("order-lines", "purchase-order-line-id"),)),
    _line("requisition_line_allocations", "embedded.ACCOUNT_ALLOCATION",
          "Account allocations of requisition lines", parent="requisitions",
          parent_id_key="requisition-id", lines=(("requisition-lines", "account-allocations"),),
          ancestor_ids=(("requisition-lines", "requisition-line-id"),)),
    _line("expense_line_allocations", "embedded.ACCOUNT_ALLOCATION",
          "Account allocations of expense lines", parent="expense_reports",
          parent_id_key="expense-report-id", lines=(("expense-lines", "account-allocations"),),
          ancestor_ids=(("expense-lines", "expense-line-id"),)),
)  # fmt: skip
