"""The registry: every stream the tap offers, parents before their line streams."""

from __future__ import annotations

from tap_coupa.client import CoupaStream
from tap_coupa.streams import documents, finance, integrations, inventory, organisation, payables
from tap_coupa.streams._declare import declared_in
from tap_coupa.streams.embedded_arrays import EMBEDDED_ARRAY_STREAMS
from tap_coupa.streams.expenses import ExpenseLinesStream, ExpenseReportsStream
from tap_coupa.streams.parties import (
    AddressesStream,
    DepartmentsStream,
    SuppliersStream,
    UsersStream,
)
from tap_coupa.streams.procurement import (
    ApprovalsStream,
    ContractsStream,
    InventoryTransactionsStream,
    InvoiceLinesStream,
    InvoicesStream,
    PurchaseOrderLinesStream,
    PurchaseOrdersStream,
    RequisitionLinesStream,
    RequisitionsStream,
)
from tap_coupa.streams.reference_data import (
    AccountsStream,
    AccountTypesStream,
    CommoditiesStream,
    CurrenciesStream,
    ExchangeRatesStream,
    LookupValuesStream,
    PaymentTermsStream,
    UomsStream,
)

STREAMS: tuple[type[CoupaStream], ...] = (
    InvoicesStream,
    InvoiceLinesStream,
    PurchaseOrdersStream,
    PurchaseOrderLinesStream,
    RequisitionsStream,
    RequisitionLinesStream,
    ExpenseReportsStream,
    ExpenseLinesStream,
    ApprovalsStream,
    ContractsStream,
    InventoryTransactionsStream,
    SuppliersStream,
    UsersStream,
    DepartmentsStream,
    AddressesStream,
    AccountsStream,
    AccountTypesStream,
    LookupValuesStream,
    CurrenciesStream,
    ExchangeRatesStream,
    PaymentTermsStream,
    CommoditiesStream,
    UomsStream,
    *declared_in(documents, inventory, organisation, finance, payables, integrations),
    *EMBEDDED_ARRAY_STREAMS,
)
