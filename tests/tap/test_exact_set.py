"""Every record the emulator holds arrives exactly once, in every stream (lines included).

The SDK's standard primary-key test never detects duplicates (singer-sdk 0.54.9), so this is
the test that does.
"""

from __future__ import annotations

from tap_coupa import embedded
from tap_coupa.streams import STREAMS
from tests.tap.conftest import discover, run_tap, select

LINE_SOURCES = {
    "invoice_lines": ("invoices", "invoice-lines"),
    "purchase_order_lines": ("purchase_orders", "order-lines"),
    "requisition_lines": ("requisitions", "requisition-lines"),
    "expense_lines": ("expense_reports", "expense-lines"),
}


def test_every_record_exactly_once(coupa, config):
    run = run_tap(config)
    for cls in STREAMS:
        name = cls.name
        if name in LINE_SOURCES:
            parent, key = LINE_SOURCES[name]
            truth = [line["id"] for rec in coupa.control.records(parent) for line in rec[key]]
        elif getattr(cls, "paths", None):  # arrays nested deeper (tap_coupa.embedded)
            records = coupa.control.records(cls.parent_stream_type.name)
            truth = [row["id"] for rec in records for row in embedded.elements(cls, rec)]
        else:
            truth = [r["id"] for r in coupa.control.records(name)]
        got = run.ids(name)
        assert len(got) == len(set(got)), f"{name}: duplicates"
        assert sorted(got) == sorted(truth), f"{name}: records missing or extra"
        assert truth, f"{name}: the default dataset should have records"


def test_lines_carry_parent_id_and_cost_no_request(coupa, config):
    before = len(coupa.control.requests_log())
    run = run_tap(config)
    paths = {r["path"] for r in coupa.control.requests_log()[before:]}
    assert not [p for p in paths for name in LINE_SOURCES if p.startswith(f"/api/{name}")]
    parents = {r["id"]: r for r in coupa.control.records("invoices")}
    for line in run.records("invoice_lines"):
        parent = parents[line["invoice-id"]]
        assert line["id"] in {x["id"] for x in parent["invoice-lines"]}


def test_money_and_text_arrive_unchanged(coupa, config):
    run = run_tap(config)
    truth = {r["id"]: r for r in coupa.control.records("invoices")}
    long_amounts = 0
    for record in run.records("invoices"):
        source = truth[record["id"]]
        for key, value in source.items():
            if key in {"updated-at", "invoice-lines"}:
                continue
            assert record[key] == value, key
            if isinstance(value, str) and sum(c.isdigit() for c in value) >= 16:
                long_amounts += 1
    assert long_amounts, "the dataset should contain 16+ digit amounts"


def test_lines_follow_a_stream_map_that_filters_their_parents(coupa, config):
    catalog = select(discover(config), ["invoices", "invoice_lines"])
    truth = sorted(coupa.control.records("invoices"), key=lambda r: r["id"])
    # Filter out the status of the very last invoice: the last page then ends on a filtered
    # parent, the case where buffered lines must still be flushed.
    dropped = truth[-1]["status"]
    config["stream_maps"] = {"invoices": {"__filter__": f"status != '{dropped}'"}}
    run = run_tap(config, catalog=catalog)
    kept = [r for r in truth if r["status"] != dropped]
    assert sorted(run.ids("invoices")) == [r["id"] for r in kept]
    # Lines follow their parent (as SDK child streams do), each exactly once.
    lines = [line["id"] for rec in kept for line in rec["invoice-lines"]]
    assert sorted(run.ids("invoice_lines")) == sorted(lines)
