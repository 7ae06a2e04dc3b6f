"""tap -> target -> tap: invoices copied from instance A to instance B read back equal.

Instance B is a second emulator generated from the same seed (so the suppliers, currencies,
accounts ... exist there under the same natural keys) but without invoices. The target's input
is the tap's own stdout, unmodified.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from coupa_api.query import to_utc
from tests.tap.conftest import discover, run_tap, select, tap_config
from tests.target.conftest import run_cli, run_target, target_config

COPIED = 30  # invoices copied: enough variety (statuses, line types, big decimals), quick


def _dec(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value)).normalize()


def _code(stub: Any, key: str) -> Any:
    return stub.get(key) if isinstance(stub, dict) else None


def business(invoice: dict[str, Any]) -> dict[str, Any]:
    """What must survive a copy: the invoice as the business sees it, not its ids or status."""
    return {
        "invoice-number": invoice["invoice-number"],
        "invoice-date": to_utc(invoice["invoice-date"]) if invoice.get("invoice-date") else None,
        "supplier": _code(invoice.get("supplier"), "number"),
        "currency": _code(invoice.get("currency"), "code"),
        "payment-term": _code(invoice.get("payment-term"), "code"),
        "account-type": _code(invoice.get("account-type"), "name"),
        "bill-to": _code(invoice.get("bill-to-address"), "location-code"),
        "comments": invoice.get("comments"),
        "supplier-note": invoice.get("supplier-note"),
        "shipping-amount": _dec(invoice.get("shipping-amount")),
        "total-with-taxes": _dec(invoice.get("total-with-taxes")),
        "custom-fields": {k: v for k, v in (invoice.get("custom-fields") or {}).items() if v},
        "lines": sorted(
            (
                line["line-num"],
                line.get("type"),
                line.get("description"),
                _dec(line.get("price")),
                _dec(line.get("quantity")),
                _dec(line.get("total")),
                _code(line.get("uom"), "code"),
                _code(line.get("account"), "code"),
                _code(line.get("commodity"), "name"),
                line.get("source-part-num"),
            )
            for line in invoice.get("invoice-lines") or []
        ),
    }


def read_invoices(base_url: str, last_id: int) -> tuple[list[dict[str, Any]], str]:
    """The tap's invoices (ids up to `last_id`), and its stdout as a target would receive it."""
    config = tap_config(base_url, filters={"invoices": {"id[lt_or_eq]": str(last_id)}})
    run = run_tap(config, catalog=select(discover(config), ["invoices"]))
    text = "".join(json.dumps(m) + "\n" for m in run.messages)
    return run.records("invoices"), text


def test_copy_between_instances_reads_back_equal(coupa, second_coupa, tmp_path):
    last_id = coupa.control.records("invoices")[COPIED - 1]["id"]
    source, singer_text = read_invoices(coupa.base_url, last_id)
    assert len(source) == COPIED

    config = target_config(second_coupa.base_url, tmp_path)
    run = run_target(config, singer_text)
    assert run.error is None, run.error
    assert run.counts == {"created": len(source)}

    copied, _ = read_invoices(second_coupa.base_url, 10**12)
    by_number = {invoice["invoice-number"]: invoice for invoice in copied}
    assert set(by_number) == {invoice["invoice-number"] for invoice in source}
    for original in source:
        assert business(by_number[original["invoice-number"]]) == business(original)
        assert by_number[original["invoice-number"]]["status"] == "draft"

    # the same pipeline again: nothing created, nothing written
    again = run_cli(config, tmp_path, singer_text)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{len(source)} unchanged" in again.stderr


def test_copy_within_one_instance_under_new_numbers(coupa, tmp_path):
    """The same instance as source and target, renamed on the way by a stream map (CLI)."""
    last_id = coupa.control.records("invoices")[9]["id"]
    source, singer_text = read_invoices(coupa.base_url, last_id)
    config = target_config(
        coupa.base_url,
        tmp_path,
        stream_maps={"invoices": {"invoice-number": "'COPY-' + record['invoice-number']"}},
    )
    result = run_cli(config, tmp_path, singer_text)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{len(source)} created" in result.stderr

    everything, _ = read_invoices(coupa.base_url, 10**12)
    copies = {i["invoice-number"]: i for i in everything if i["invoice-number"].startswith("COPY-")}
    assert len(copies) == len(source)
    for original in source:
        copy = copies["COPY-" + original["invoice-number"]]
        assert copy["id"] != original["id"]
        assert business(copy) == {**business(original), "invoice-number": copy["invoice-number"]}
