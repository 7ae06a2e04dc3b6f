"""Bounded memory: served records are regenerated, not kept; only changes persist (issue 7)."""

from __future__ import annotations

import pytest

from coupa_emulator import generator as generator_module
from coupa_emulator.control import ControlError
from coupa_emulator.server import RunningEmulator

SCALE = 1500
BUDGET = 60_000  # bytes: about a dozen invoices, far fewer than SCALE


def _small_caches(coupa: RunningEmulator) -> None:
    store = coupa.emulator.store
    store.cache.budget = BUDGET


def test_serving_every_invoice_keeps_the_cache_within_its_budget(coupa, api):
    coupa.control.reset(scale=SCALE)
    api.token = api.mint()
    _small_caches(coupa)
    rows = api.all_rows("invoices")
    assert len(rows) == SCALE
    store = coupa.emulator.store
    assert 0 < store.cache.size <= BUDGET
    assert len(store.cache) < SCALE // 10
    gen = store.generator
    assert len(gen._cores) <= generator_module.MAX_CACHED_REFS
    assert len(gen._stubs) <= generator_module.MAX_CACHED_REFS


def test_evicted_records_come_back_byte_for_byte(coupa, api, monkeypatch):
    coupa.control.reset(scale=SCALE)
    api.token = api.mint()
    first = api.get("/api/invoices", {"order_by": "id", "limit": 50}).content
    truth = coupa.control.records("invoices")
    _small_caches(coupa)
    monkeypatch.setattr(generator_module, "MAX_CACHED_REFS", 7)  # stubs rebuilt constantly
    rows = api.all_rows("invoices")  # evicts the first page many times over
    assert rows == truth
    assert api.get("/api/invoices", {"order_by": "id", "limit": 50}).content == first
    window = {"updated-at[gt]": truth[0]["updated-at"], "order_by": "updated-at", "limit": 50}
    assert api.rows("/api/invoices", window) == api.rows("/api/invoices", window)


@pytest.mark.parametrize("budget", [BUDGET, 1])
def test_writes_and_mutations_survive_eviction(coupa, api, budget):
    coupa.control.reset(scale=SCALE)
    api.token = api.mint()
    coupa.emulator.store.cache.budget = budget
    supplier = coupa.control.records("suppliers")[0]
    account = coupa.control.records("accounts")[0]
    body = {
        "invoice_number": "MEM-1", "invoice_date": "2024-11-05",
        "supplier": {"number": supplier["number"]}, "currency": {"code": "USD"},
        "invoice_lines": [{"type": "InvoiceAmountLine", "description": "kept", "price": "10.00",
                           "account": {"code": account["code"]}}],
    }  # fmt: skip
    created = api.send("POST", "/api/invoices", body)
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    before = {r["id"]: r["updated-at"] for r in api.all_rows("invoices")}
    coupa.control.add_mutation(0, "invoices", update=25)
    api.all_rows("invoices")  # fires the mutation, then pages through everything
    by_id = {r["id"]: r for r in api.all_rows("invoices")}  # every record evicted by now
    assert by_id == {r["id"]: r for r in coupa.control.records("invoices")}
    assert len(by_id) == SCALE + 1
    assert by_id[new_id]["invoice-number"] == "MEM-1"
    assert by_id[new_id]["invoice-lines"][0]["description"] == "kept"
    moved = [rid for rid, stamp in before.items() if by_id[rid]["updated-at"] != stamp]
    assert len(moved) == 25


def test_record_ids_are_the_ground_truth_without_building_records(coupa, api):
    coupa.control.reset(scale=SCALE)
    _small_caches(coupa)
    ids = coupa.control.record_ids("invoices")
    assert len(coupa.emulator.store.cache) == 0  # nothing generated to answer
    assert ids == [r["id"] for r in coupa.control.records("invoices")]
    with pytest.raises(ControlError, match="unknown resource"):
        coupa.control.record_ids("nope")
