"""The resource table: every emulated endpoint, its read scope and its names, as data.

Everything that varies per resource (path, scope, XML element names, embedded line key,
whether it carries timestamps, how many records a given scale implies) lives here so that
the store, the query engine and the renderers never hard-code a resource.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceSpec:
    """One `/api/<name>` collection."""

    name: str
    scope: str
    xml_list: str
    xml_item: str
    line_key: str | None
    timestamps: bool
    ratio: float
    minimum: int
    #: The URL under /api/ when it is not the name (`coupa_pay/payments`); a sub-resource's
    #: path has one `{parent_id}` (`suppliers/{parent_id}/addresses`).
    path: str | None = None
    #: A sub-resource's record key holding the id its URL is filtered by (`supplier-id`).
    parent_key: str | None = None

    @property
    def url(self) -> str:
        """The collection's path under /api/."""
        return self.path or self.name

    def collection(self, parent_id: object = None) -> str:
        """`/api/...` of the collection; a sub-resource's under the parent `parent_id`."""
        return "/api/" + self.url.replace("{parent_id}", str(parent_id))


def _spec(
    name: str,
    scope: str,
    xml_item: str,
    *,
    xml_list: str | None = None,
    line_key: str | None = None,
    timestamps: bool = True,
    ratio: float = 0.0,
    minimum: int = 5,
    path: str | None = None,
    parent_key: str | None = None,
) -> ResourceSpec:
    return ResourceSpec(
        name=name,
        scope=scope,
        xml_list=xml_list or xml_item + "s",
        xml_item=xml_item,
        line_key=line_key,
        timestamps=timestamps,
        ratio=ratio,
        minimum=minimum,
        path=path,
        parent_key=parent_key,
    )


# The rest of reference §4, a few records each (tests run per stream); coupa_emulator.records_more
# builds their records. Sub-resources are filtered by `parent_key` from their URL.
_REC, _INT, _PAY = "core.inventory.receiving.read", "core.integration.read", "core.payables."
MORE_RESOURCES: tuple[ResourceSpec, ...] = (
    _spec("purchase_order_changes", "core.purchase_order.read", "order-header-change"),
    _spec("comments", "core.comment.read", "comment"),
    _spec("easy_form_responses", "core.easy_form_response.read", "easy-form-response"),
    _spec("quote_requests", "core.sourcing.read", "quote-request"),
    _spec("quote_responses", "core.sourcing.response.read", "quote-response"),
    _spec("receiving_transactions", _REC, "inventory-transaction",
          xml_list="inventory-transactions"),
    _spec("inventory_adjustments", "core.inventory.adjustment.read", "inventory-transaction"),
    _spec("inventory_consumptions", "core.inventory.consumption.read", "inventory-transaction"),
    _spec("inventory_transfers", "core.inventory.transfer.read", "inventory-transaction"),
    _spec("return_to_supplier_transactions", "core.inventory.return_to_supplier.read",
          "inventory-transaction"),
    _spec("asn_headers", "core.inventory.asn.read", "asn-header", path="asn/headers"),
    _spec("receipt_requests", _REC, "receipt-request"),
    _spec("return_requests", _REC, "return-request"),
    _spec("items", "core.catalog.read", "item", minimum=5),
    _spec("supplier_items", "core.catalog.read", "supplier-item", minimum=9,
          path="items/{parent_id}/supplier_items", parent_key="item-id"),
    _spec("remit_to_addresses", "core.supplier.read", "remit-to-address", minimum=12,
          xml_list="remit-to-addresses", path="suppliers/{parent_id}/addresses",
          parent_key="supplier-id"),
    _spec("supplier_sites", "core.supplier.read", "supplier-site"),
    _spec("supplier_information", "core.supplier.read", "supplier-information",
          xml_list="supplier-information"),
    _spec("supplier_risk_aware_feeds", "core.supplier.risk_aware.read",
          "supplier-risk-aware-feed", path="supplier_risk_aware_feed"),
    _spec("user_groups", "core.user_group.read", "user-group"),
    _spec("user_group_memberships", "core.user_group.read", "user-group-membership"),
    _spec("business_groups", "core.common.read", "business-group"),
    _spec("legal_entities", "core.legal_entity.read", "legal-entity", xml_list="legal-entities"),
    _spec("business_entities", "core.business_entity.read", "business-entity",
          xml_list="business-entities"),
    _spec("projects", "core.project.read", "project"),
    _spec("tasks", "core.project.read", "task"),
    _spec("project_memberships", "core.project.read", "project-membership"),
    _spec("account_groups", "core.accounting.read", "account-group"),
    _spec("account_validation_rules", "core.accounting.read", "account-validation-rule"),
    _spec("budget_lines", "core.budget.read", "budget-line"),
    _spec("budget_line_adjustments", "core.budget.read", "budget-line-adjustment",
          timestamps=False),
    _spec("lookups", "core.common.read", "lookup"),
    _spec("shipping_terms", "core.common.read", "shipping-term"),
    _spec("tax_codes", "core.common.read", "tax-code"),
    _spec("tax_registrations", "core.invoice.read", "tax-registration"),
    _spec("coupa_pay_payments", "core.pay.payments.read", "coupa-pay-payment",
          path="coupa_pay/payments"),
    _spec("coupa_pay_invoices", _PAY + "invoice.read", "coupa-pay-invoice",
          path="coupa_pay/invoices"),
    _spec("charges", "core.pay.charges.read", "charge"),
    _spec("payables_invoices", _PAY + "invoice.read", "payables-invoice", path="payables/invoices"),
    _spec("payables_orders", _PAY + "order.read", "payables-order", path="payables/orders"),
    _spec("payables_allocations", _PAY + "allocations.read", "payables-allocation",
          path="payables/allocations"),
    _spec("payables_external", _PAY + "external.read", "payables-external-payable",
          path="payables/external/payables"),
    _spec("integrations", _INT, "integration"),
    _spec("integration_runs", _INT, "integration-run"),
    _spec("integration_errors", _INT, "integration-error"),
    _spec("integration_history_records", _INT, "integration-history-record"),
    _spec("custom_object_instances", "core.common.read", "object-instance", minimum=6,
          path="custom_objects/{parent_id}/object_instances",
          parent_key="object-definition-id"),
)  # fmt: skip

# ratio = records per invoice at a given --scale; minimum keeps tiny scales useful.
RESOURCES: dict[str, ResourceSpec] = {
    s.name: s
    for s in (
        _spec(
            "invoices",
            "core.invoice.read",
            "invoice-header",
            line_key="invoice-lines",
            ratio=1.0,
            minimum=0,
        ),
        _spec(
            "purchase_orders",
            "core.purchase_order.read",
            "order-header",
            line_key="order-lines",
            ratio=0.5,
        ),
        _spec(
            "requisitions",
            "core.requisition.read",
            "requisition-header",
            line_key="requisition-lines",
            ratio=0.4,
        ),
        _spec("suppliers", "core.supplier.read", "supplier", ratio=0.05, minimum=8),
        _spec("users", "core.user.read", "user", ratio=0.1, minimum=10),
        _spec("accounts", "core.accounting.read", "account", ratio=0.05, minimum=10),
        _spec("account_types", "core.accounting.read", "account-type", ratio=0.0, minimum=3),
        _spec("approvals", "core.approval.read", "approval", ratio=0.5),
        _spec("contracts", "core.contract.read", "contract", ratio=0.05),
        _spec(
            "expense_reports",
            "core.expense.read",
            "expense-report",
            line_key="expense-lines",
            ratio=0.25,
        ),
        _spec(
            "inventory_transactions",
            "core.inventory.transaction.read",
            "inventory-transaction",
            ratio=0.25,
        ),
        _spec("lookup_values", "core.common.read", "lookup-value", ratio=0.02, minimum=10),
        _spec("departments", "core.common.read", "department", ratio=0.0, minimum=8),
        _spec(
            "currencies",
            "core.common.read",
            "currency",
            xml_list="currencies",
            timestamps=False,
            ratio=0.0,
            minimum=6,
        ),
        _spec("exchange_rates", "core.common.read", "exchange-rate", ratio=0.02, minimum=10),
        _spec("payment_terms", "core.common.read", "payment-term", ratio=0.0, minimum=6),
        _spec(
            "commodities",
            "core.common.read",
            "commodity",
            xml_list="commodities",
            ratio=0.0,
            minimum=12,
        ),
        _spec(
            "addresses", "core.common.read", "address", xml_list="addresses", ratio=0.02, minimum=10
        ),
        _spec("uoms", "core.common.read", "uom", ratio=0.0, minimum=6),
        *MORE_RESOURCES,
    )
}

# Invoice write scopes (reference §3.3 / §10.1): any one of the tuple suffices.
INVOICE_WRITE_SCOPES: dict[str, tuple[str, ...]] = {
    "create": ("core.invoice.create", "core.invoice.write"),
    "update": ("core.invoice.write",),
    "submit": ("core.invoice.write", "core.invoice.create"),
    "void": ("core.invoice.delete",),
    "abandon": ("core.invoice.delete",),
}

# The scope catalogue a client may be granted (reference §3.2, the subset worth emulating).
SCOPE_CATALOGUE: tuple[str, ...] = tuple(
    sorted(
        {s.scope for s in RESOURCES.values()}
        | {scope for group in INVOICE_WRITE_SCOPES.values() for scope in group}
        | {
            "core.accounting.write",
            "core.common.write",
            "core.approval.write",
            "core.contract.write",
            "core.expense.write",
            "core.purchase_order.write",
            "core.requisition.write",
            "core.supplier.write",
            "core.user.write",
            "core.uom.read",
            "core.uom.write",
            "core.budget.read",
            "core.catalog.read",
            "core.item.read",
            "core.inventory.receiving.read",
            "core.integration.read",
            "core.invoice.approval.write",
            "core.invoice.approval.bypass",
            "openid",
            "profile",
            "email",
            "login",
            "offline_access",
        }
    )
)


def count_for(spec: ResourceSpec, scale: int) -> int:
    """Records of `spec` implied by `--scale` (= number of invoices)."""
    if spec.name == "invoices":
        return scale
    return max(spec.minimum, int(scale * spec.ratio))


def singular_of(plural: str) -> str:
    """XML element name for one item of a nested array (Rails' singularize, simplified)."""
    if plural.endswith("ies"):
        return plural[:-3] + "y"
    if plural.endswith(("sses", "xes")):
        return plural[:-2]
    if plural.endswith("s"):
        return plural[:-1]
    return plural
