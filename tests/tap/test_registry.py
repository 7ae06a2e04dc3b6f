"""Every stream class comes from the stream table's one factory, declares its scope and schema."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import tap_coupa.streams as package
from tap_coupa.client import CoupaStream, EmbeddedLinesStream, IncrementalCoupaStream
from tap_coupa.streams import STREAMS
from tap_coupa.streams.factory import build_streams
from tap_coupa.streams.specs import SPECS, StreamSpec
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
    # Every class comes from the one factory, one per row of the stream table, in its order.
    assert [cls.name for cls in STREAMS] == [spec.name for spec in SPECS]
    assert [cls.__name__ for cls in STREAMS] == [spec.title for spec in SPECS]
    for module in [
        importlib.import_module(f"{package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
    ]:
        hand_written = [
            obj
            for _, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, CoupaStream) and obj not in BASES and obj not in STREAMS
        ]
        assert hand_written == [], module
    names = [cls.name for cls in STREAMS]
    assert len(names) == len(set(names))
    assert set(names) >= REQUIRED


def test_schemas_are_built_when_first_read_not_at_import():
    code = (
        "import sys, tap_coupa.streams; "
        "print(sorted(m for m in sys.modules if m.startswith('tap_coupa.schemas.') "
        "and m != 'tap_coupa.schemas._fragments'))"
    )
    out = subprocess.run(  # noqa: S603 - this interpreter, a fixed snippet
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


def test_the_factory_refuses_a_row_it_cannot_build():
    with pytest.raises(ValueError, match="needs its parent 'nowhere' before it"):
        build_streams([StreamSpec("orphans", {}, "x", parent="nowhere", lines=(("a",),))])
    with pytest.raises(ValueError, match="read in full per parent record"):
        build_streams(
            [
                *SPECS[:1],
                StreamSpec("subs", {}, "x", path="/api/invoices/{invoice_id}/x", parent="invoices"),
            ]
        )


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
