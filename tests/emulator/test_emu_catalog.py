"""The rest of reference §4 in the emulator: nested paths, sub-resources and custom objects
answer with the query language, scopes, XML fallback and faults like every collection."""

from __future__ import annotations

import requests

from coupa_emulator.records_more import CUSTOM_OBJECT_DEFINITIONS
from coupa_emulator.resources import RESOURCES
from tests.emulator.conftest import collection_path


def test_sub_resource_lists_only_its_parents_records(api, coupa):
    truth = coupa.control.records("remit_to_addresses")
    for supplier in coupa.control.record_ids("suppliers"):
        rows = api.rows(f"/api/suppliers/{supplier}/addresses")
        assert sorted(r["id"] for r in rows) == sorted(
            r["id"] for r in truth if r["supplier-id"] == supplier
        )
    # A parent that does not exist is a 404, as for any record Coupa cannot find.
    assert api.get("/api/suppliers/999999/addresses").status_code == 404


def test_custom_objects_are_served_per_definition(api, coupa):
    truth = coupa.control.records("custom_object_instances")
    seen = []
    for definition in CUSTOM_OBJECT_DEFINITIONS:
        rows = api.all_rows(f"custom_objects/{definition}/object_instances")
        assert rows, definition
        assert {r["object-definition-id"] for r in rows} == {definition}
        seen += [r["id"] for r in rows]
    assert sorted(seen) == sorted(r["id"] for r in truth)


def test_query_language_and_shaping_on_nested_paths(api, coupa):
    rows = coupa.control.records("coupa_pay_payments")
    pivot = sorted(r["updated-at"] for r in rows)[len(rows) // 2]
    got = api.rows("/api/coupa_pay/payments", {"updated_at[gt_or_eq]": pivot, "fields": '["id"]'})
    assert sorted(r["id"] for r in got) == sorted(r["id"] for r in rows if r["updated-at"] >= pivot)
    assert all(set(r) == {"id"} for r in got)
    bad = api.get("/api/asn/headers", {"colour[eq]": "red"})
    assert bad.status_code == 400


def test_xml_fallback_on_sub_resources_and_nested_paths(api, coupa):
    supplier = coupa.control.records("remit_to_addresses")[0]["supplier-id"]
    xml = api.get(f"/api/suppliers/{supplier}/addresses", accept=None)
    assert xml.status_code == 200
    assert '<remit-to-addresses type="array">' in xml.text
    assert "<remit-to-address>" in xml.text
    empty = api.get("/api/suppliers/999999/addresses", accept=None)
    assert empty.status_code == 404
    assert "No results match" in empty.text
    assert "<asn-headers" in api.get("/api/asn/headers", accept=None).text


def test_faults_apply_to_new_paths(api, coupa):
    coupa.control.add_faults([{"kind": "status", "path": "/api/items/", "status": 503, "times": 1}])
    item = coupa.control.record_ids("items")[0]
    assert api.get(f"/api/items/{item}/supplier_items").status_code == 503
    assert api.get(f"/api/items/{item}/supplier_items").status_code == 200


def test_each_new_scope_guards_its_collection(coupa, mint_token, oauth_client):
    for name in ("supplier_items", "budget_line_adjustments", "payables_external"):
        spec = RESOURCES[name]
        path = collection_path(coupa, name)
        cid, secret = oauth_client(["core.invoice.read"])
        denied = requests.get(
            coupa.base_url + path,
            headers={"Authorization": f"Bearer {mint_token(cid, secret)}",
                     "Accept": "application/json"},
            timeout=30,
        )  # fmt: skip
        assert denied.status_code == 403, name
        assert denied.json()["scope"] == spec.scope


def test_sub_resources_have_no_top_level_route(api):
    assert api.get("/api/remit_to_addresses").status_code == 404
    assert api.get("/api/custom_object_instances").status_code == 404
