"""Every stream class is registered once, declares its scope, and the issue's list is covered."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import tap_coupa.streams as package
from tap_coupa.client import CoupaStream, EmbeddedLinesStream, IncrementalCoupaStream
from tap_coupa.streams import STREAMS
from tap_coupa.subresources import SubResourceParent, SubResourceStream

REQUIRED = {
    "invoices", "purchase_orders", "requisitions", "suppliers", "users", "accounts",
    "account_types", "approvals", "contracts", "expense_reports", "inventory_transactions",
    "lookup_values", "departments", "currencies", "exchange_rates", "payment_terms",
    "commodities", "addresses", "invoice_lines", "purchase_order_lines", "requisition_lines",
    "expense_lines",
}  # fmt: skip
BASES = {
    CoupaStream, EmbeddedLinesStream, IncrementalCoupaStream, SubResourceParent, SubResourceStream
}  # fmt: skip


def test_registry_is_complete_and_unique():
    modules = [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    ]
    declared = {
        obj
        for module in modules
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, CoupaStream) and obj not in BASES
    }
    assert declared == set(STREAMS)
    names = [cls.name for cls in STREAMS]
    assert len(names) == len(set(names))
    assert set(names) >= REQUIRED


def test_every_stream_declares_scope_and_schema():
    for cls in STREAMS:
        assert cls.scope.startswith("core."), cls
        assert cls.base_schema["properties"]["id"] == {"type": "integer"}
        if issubclass(cls, IncrementalCoupaStream) or issubclass(cls, EmbeddedLinesStream):
            assert "updated-at" in cls.base_schema["properties"]
    lines = [cls for cls in STREAMS if issubclass(cls, EmbeddedLinesStream)]
    for cls in lines:
        assert cls.scope == cls.parent_stream_type.scope
        assert cls.parent_id_key in cls.base_schema["properties"]
