"""`fields=[...]` when the catalog deselects properties, and the bytes it saves."""

from __future__ import annotations

import json

from tests.tap.conftest import discover, last_page_query, run_tap, select


def invoice_bytes(coupa, since):
    return sum(
        r["bytes"] for r in coupa.control.requests_log()[since:] if r["path"] == "/api/invoices"
    )


def test_deselected_properties_are_not_requested(coupa, config):
    coupa.control.reset(counts={"invoices": 120})
    catalog = discover(config)
    props = next(e for e in catalog["streams"] if e["tap_stream_id"] == "invoices")["schema"][
        "properties"
    ]
    keep = {"id", "updated-at", "invoice-number", "status", "supplier", "custom-fields"}
    full = select(catalog, ["invoices"])
    trimmed = select(catalog, ["invoices"], deselect={"invoices": set(props) - keep})

    mark = len(coupa.control.requests_log())
    full_run = run_tap(config, catalog=full)
    full_bytes = invoice_bytes(coupa, mark)

    mark = len(coupa.control.requests_log())
    trimmed_run = run_tap(config, catalog=trimmed)
    trimmed_bytes = invoice_bytes(coupa, mark)
    query = last_page_query(coupa)
    fields = json.loads(query["fields"][0])
    assert "invoice-number" in fields
    assert {"custom_fields": {}} in fields
    assert "invoice-lines" not in fields

    assert trimmed_run.ids("invoices")
    assert sorted(trimmed_run.ids("invoices")) == sorted(full_run.ids("invoices"))
    for record in trimmed_run.records("invoices"):
        assert set(record) <= keep
    saved = 1 - trimmed_bytes / full_bytes
    print(f"fields= trimming: {full_bytes} -> {trimmed_bytes} bytes ({saved:.0%} saved)")
    assert saved > 0.5


def test_line_stream_keeps_its_parent_array(coupa, config):
    catalog = discover(config)
    trimmed = select(
        catalog, ["invoice_lines"], deselect={"invoices": {"invoice-lines", "supplier", "status"}}
    )
    run = run_tap(config, catalog=trimmed)
    truth = sum(len(r["invoice-lines"]) for r in coupa.control.records("invoices"))
    assert len(run.ids("invoice_lines")) == truth
    assert run.counts["invoices"] == 0


def test_filters_go_to_coupa(coupa, config):
    config["filters"] = {"invoices": {"status[in]": "approved,voided"}}
    run = run_tap(config, catalog=select(discover(config), ["invoices"]))
    truth = [
        r["id"] for r in coupa.control.records("invoices") if r["status"] in {"approved", "voided"}
    ]
    assert truth
    assert sorted(run.ids("invoices")) == sorted(truth)
