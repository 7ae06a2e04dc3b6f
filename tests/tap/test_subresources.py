"""Sub-resources (remit-to addresses per supplier, supplier items per item) as child streams."""

from __future__ import annotations

from tests.tap.conftest import discover, run_tap, select, tap_config


def test_remit_to_addresses_come_per_supplier_with_its_id(coupa, config):
    catalog = select(discover(config), ["remit_to_addresses"])
    before = len(coupa.control.requests_log())
    run = run_tap(config, catalog=catalog)
    truth = {r["id"]: r for r in coupa.control.records("remit_to_addresses")}
    assert sorted(run.ids("remit_to_addresses")) == sorted(truth)
    for row in run.records("remit_to_addresses"):
        assert row["supplier-id"] == truth[row["id"]]["supplier-id"]
    # The parent is read (not emitted) to know whose addresses to list: one request each.
    # (Not counting the run's check that the collection exists: one `limit=1` request.)
    log = coupa.control.requests_log()[before:]
    paths = [r["path"] for r in log if not r["query"].startswith("limit=1&")]
    suppliers = coupa.control.record_ids("suppliers")
    assert sum(p.startswith("/api/suppliers/") for p in paths) == len(suppliers)
    assert run.ids("suppliers") == []


def test_supplier_items_carry_their_item_id(coupa, config):
    run = run_tap(config, catalog=select(discover(config), ["items", "supplier_items"]))
    truth = {r["id"]: r["item-id"] for r in coupa.control.records("supplier_items")}
    assert {r["id"]: r["item-id"] for r in run.records("supplier_items")} == truth
    assert sorted(run.ids("items")) == sorted(coupa.control.record_ids("items"))


def test_no_sub_resource_request_when_only_the_parent_is_selected(coupa, config):
    catalog = select(discover(config), ["suppliers"])
    before = len(coupa.control.requests_log())
    run_tap(config, catalog=catalog)
    paths = [r["path"] for r in coupa.control.requests_log()[before:]]
    assert "/api/suppliers" in paths
    assert not [p for p in paths if p.startswith("/api/suppliers/")]


def test_discovery_samples_sub_resources(coupa, config):
    entries = {e["tap_stream_id"]: e for e in discover(config)["streams"]}
    props = entries["remit_to_addresses"]["schema"]["properties"]
    assert "supplier-id" in props
    assert "custom-fields" in props  # sampled from the instance, not only documented


def test_discovery_without_the_scope_keeps_documented_schemas(coupa, oauth_client):
    client_id, secret = oauth_client(["core.invoice.read", "core.supplier.read"])
    config = tap_config(coupa.base_url, client_id=client_id, client_secret=secret)
    entries = {e["tap_stream_id"]: e for e in discover(config)["streams"]}
    # Granted: sampled. Not granted (core.catalog.read): documented, and discovery goes on.
    assert "custom-fields" in entries["remit_to_addresses"]["schema"]["properties"]
    props = entries["supplier_items"]["schema"]["properties"]
    assert "item-id" in props
    assert "custom-fields" not in props
