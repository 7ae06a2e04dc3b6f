"""Arrays nested in documents and their lines (allocations, charges, tax lines) as streams.

The truth is computed here from the emulator's records with explicit loops, not with the tap's
own walker, so a wrong path or id column in a declaration fails.
"""

from __future__ import annotations

from typing import Any

from tests.tap.conftest import discover, run_tap, select

INVOICE_STREAMS = [
    "invoices",
    "invoice_lines",
    "invoice_line_allocations",
    "invoice_charges",
    "invoice_charge_allocations",
    "invoice_tax_lines",
]


def invoice_truth(invoices: list[dict[str, Any]]) -> dict[str, dict[int, dict[str, Any]]]:
    """stream -> id -> the parent id columns the row must carry."""
    out: dict[str, dict[int, dict[str, Any]]] = {s: {} for s in INVOICE_STREAMS[1:]}
    for inv in invoices:
        doc = {"invoice-id": inv["id"]}
        for tax in inv["tax-lines"]:
            out["invoice_tax_lines"][tax["id"]] = {
                **doc,
                "invoice-line-id": None,
                "invoice-charge-id": None,
            }
        for line in inv["invoice-lines"]:
            out["invoice_lines"][line["id"]] = doc
            for alloc in line["account-allocations"]:
                out["invoice_line_allocations"][alloc["id"]] = {
                    **doc,
                    "invoice-line-id": line["id"],
                }
            for tax in line["tax-lines"]:
                out["invoice_tax_lines"][tax["id"]] = {
                    **doc,
                    "invoice-line-id": line["id"],
                    "invoice-charge-id": None,
                }
        for charge in inv["invoice-charges"]:
            out["invoice_charges"][charge["id"]] = doc
            for alloc in charge["account-allocations"]:
                out["invoice_charge_allocations"][alloc["id"]] = {
                    **doc,
                    "invoice-charge-id": charge["id"],
                }
            for tax in charge["tax-lines"]:
                out["invoice_tax_lines"][tax["id"]] = {
                    **doc,
                    "invoice-line-id": None,
                    "invoice-charge-id": charge["id"],
                }
    return out


def check_run(run: Any, invoices: list[dict[str, Any]]) -> None:
    truth = invoice_truth(invoices)
    versions = {inv["id"]: inv["updated-at"] for inv in invoices}
    emitted = {r["id"]: r["updated-at"] for r in run.records("invoices")}
    for stream, expected in truth.items():
        rows = run.records(stream)
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids)), f"{stream}: a row arrived twice"
        assert sorted(ids) == sorted(expected), f"{stream}: rows missing or extra"
        assert expected, f"{stream}: the dataset should have rows"
        for row in rows:
            for column, value in expected[row["id"]].items():
                assert row[column] == value, (stream, column)
            # The document's version, exactly as the document itself was emitted.
            assert row["invoice-updated-at"] == emitted[row["invoice-id"]]
            assert versions[row["invoice-id"]] is not None


def test_nested_arrays_once_each_under_concurrency_without_requests(coupa, config):
    coupa.control.reset(counts={"invoices": 400})
    coupa.control.configure(latency_ms=10)
    config["max_concurrency"] = 5
    catalog = select(discover(config), INVOICE_STREAMS)
    before = len(coupa.control.requests_log())
    run = run_tap(config, catalog=catalog)
    paths = {r["path"] for r in coupa.control.requests_log()[before:]}
    assert paths <= {"/api/invoices", "/oauth2/token"}, paths
    assert coupa.control.stats()["max_in_flight"] >= 2
    check_run(run, coupa.control.records("invoices"))
    # Each row comes after its document, and one SCHEMA per stream.
    seen: set[int] = set()
    for message in run.messages:
        if message["type"] == "RECORD":
            if message["stream"] == "invoices":
                seen.add(message["record"]["id"])
            else:
                assert message["record"]["invoice-id"] in seen
    for stream in INVOICE_STREAMS:
        schemas = [m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == stream]
        assert len(schemas) == 1, stream


def test_nested_arrays_follow_the_document_filter(coupa, config):
    coupa.control.reset(counts={"invoices": 300})
    config["max_concurrency"] = 4
    truth = coupa.control.records("invoices")
    dropped = truth[-1]["status"]
    config["stream_maps"] = {"invoices": {"__filter__": f"status != '{dropped}'"}}
    run = run_tap(config, catalog=select(discover(config), INVOICE_STREAMS))
    kept = [r for r in truth if r["status"] != dropped]
    assert len(kept) < len(truth)
    check_run(run, kept)


def test_nested_arrays_alone_still_need_only_the_document_scope(coupa, config, oauth_client):
    client_id, secret = oauth_client(["core.invoice.read"])
    config.update(client_id=client_id, client_secret=secret)
    catalog = select(discover(config), ["invoice_tax_lines"])
    run = run_tap(config, catalog=catalog)
    assert run.records("invoice_tax_lines")
    assert not run.records("invoices")


def test_line_allocations_of_orders_requisitions_and_expenses(coupa, config):
    sources = {
        "purchase_order_line_allocations": (
            "purchase_orders",
            "order-lines",
            "purchase-order-id",
            "purchase-order-line-id",
        ),
        "requisition_line_allocations": (
            "requisitions",
            "requisition-lines",
            "requisition-id",
            "requisition-line-id",
        ),
        "expense_line_allocations": (
            "expense_reports",
            "expense-lines",
            "expense-report-id",
            "expense-line-id",
        ),
    }
    parents = [parent for parent, *_ in sources.values()]
    catalog = select(discover(config), [*sources, *parents])
    run = run_tap(config, catalog=catalog)
    for stream, (parent, lines_key, doc_key, line_key) in sources.items():
        docs = coupa.control.records(parent)
        expected = {
            alloc["id"]: (doc["id"], line["id"])
            for doc in docs
            for line in doc[lines_key]
            for alloc in line["account-allocations"]
        }
        rows = run.records(stream)
        assert expected, stream
        assert sorted(r["id"] for r in rows) == sorted(expected), stream
        versions = {d["id"]: d["updated-at"] for d in docs}
        for row in rows:
            assert (row[doc_key], row[line_key]) == expected[row["id"]]
            assert row[doc_key.removesuffix("-id") + "-updated-at"] is not None
            assert versions[row[doc_key]] is not None
