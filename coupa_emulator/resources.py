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
    )


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
    )
}

# Generation order: reference data first, so documents can point at it.
GENERATION_ORDER: tuple[str, ...] = (
    "currencies",
    "uoms",
    "payment_terms",
    "account_types",
    "departments",
    "commodities",
    "addresses",
    "users",
    "accounts",
    "lookup_values",
    "exchange_rates",
    "suppliers",
    "contracts",
    "requisitions",
    "purchase_orders",
    "invoices",
    "approvals",
    "expense_reports",
    "inventory_transactions",
)

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
