"""Line streams while the parent is read in concurrent ranges: once each, after their parent."""

from __future__ import annotations

from tests.tap.conftest import discover, run_tap, select


def test_lines_once_each_after_their_parent_page(coupa, config):
    coupa.control.reset(counts={"invoices": 700})
    coupa.control.configure(latency_ms=20)
    config["max_concurrency"] = 6
    catalog = select(discover(config), ["invoices", "invoice_lines"])
    run = run_tap(config, catalog=catalog)
    truth = coupa.control.records("invoices")
    expected = sorted(line["id"] for rec in truth for line in rec["invoice-lines"])
    got = run.ids("invoice_lines")
    assert len(got) == len(set(got)), "a line arrived twice"
    assert sorted(got) == expected
    assert coupa.control.stats()["max_in_flight"] >= 2
    # Every line comes after its parent record, and before the next STATE that covers it.
    seen: set[int] = set()
    for message in run.messages:
        if message["type"] != "RECORD":
            continue
        record = message["record"]
        if message["stream"] == "invoices":
            seen.add(record["id"])
        else:
            assert record["invoice-id"] in seen
    # One SCHEMA per line stream, not one per page.
    schemas = [m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == "invoice_lines"]
    assert len(schemas) == 1


def test_lines_follow_the_parent_filter_under_concurrency(coupa, config):
    coupa.control.reset(counts={"invoices": 500})
    config["max_concurrency"] = 5
    truth = coupa.control.records("invoices")
    dropped = max({r["status"] for r in truth}, key=lambda s: sum(r["status"] == s for r in truth))
    config["stream_maps"] = {"invoices": {"__filter__": f"status != '{dropped}'"}}
    run = run_tap(config, catalog=select(discover(config), ["invoices", "invoice_lines"]))
    kept = [r for r in truth if r["status"] != dropped]
    assert sorted(run.ids("invoices")) == sorted(r["id"] for r in kept)
    lines = sorted(line["id"] for rec in kept for line in rec["invoice-lines"])
    assert sorted(run.ids("invoice_lines")) == lines


def test_no_unresumable_warnings(coupa, config, caplog):
    """The SDK's "progress is not resumable" warning was logged once per stream: now resumable."""
    run_tap(config)
    assert not [r for r in caplog.records if "not resumable" in r.getMessage()]
