"""Payload shape, content negotiation and the deterministic generator (§5, §9, §11, §12)."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from itertools import pairwise
from xml.etree import ElementTree

from coupa_emulator.resources import RESOURCES
from tests.emulator.conftest import collection_path

HYPHENATED = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _keys(value, out):
    if isinstance(value, dict):
        for key, child in value.items():
            out.add(key)
            _keys(child, out)
    elif isinstance(value, list):
        for child in value:
            _keys(child, out)
    return out


def test_json_is_a_bare_array_with_hyphenated_keys_and_nulls(api):
    rows = api.rows("/api/invoices", {"limit": 5})
    assert isinstance(rows, list)
    keys = set()
    for row in rows:
        _keys(row, keys)
    assert all(HYPHENATED.match(k) for k in keys), sorted(
        k for k in keys if not HYPHENATED.match(k)
    )
    assert any(v is None for v in rows[0].values())  # nulls are present, not dropped
    for key in ("supplier", "currency", "created-by", "updated-by", "payment-term", "account-type"):
        assert isinstance(rows[0][key], dict), key
    line = rows[0]["invoice-lines"][0]
    assert isinstance(line["account"], dict)
    assert "account-type" in line["account"]


def test_every_resource_serves_and_timestamps_match_the_table(api, coupa):
    for name, spec in RESOURCES.items():
        rows = api.rows(collection_path(coupa, name), {"limit": 2})
        assert rows, name
        assert ("updated-at" in rows[0]) == spec.timestamps, name
        # Budget line adjustments have created-at and no updated-at (reference §4).
        assert "created-at" in rows[0] or not spec.timestamps, name
        if spec.line_key:
            assert isinstance(rows[0][spec.line_key], list), name


def test_decimals_are_strings_with_16_plus_digits(coupa):
    rows = coupa.control.records("invoices")
    amounts = [r["gross-total"] for r in rows] + [
        line["price"] for r in rows for line in r["invoice-lines"]
    ]
    assert all(isinstance(a, str) for a in amounts)
    long_ones = [a for a in amounts if len(a.replace(".", "").lstrip("0")) >= 16]
    assert long_ones
    for r in rows:  # header totals add up exactly
        total = sum((Decimal(line["total"]) for line in r["invoice-lines"]), Decimal(0))
        assert Decimal(r["gross-total"]) == total + Decimal(r["shipping-amount"])


def test_non_ascii_ties_and_gapped_ids(coupa):
    rows = coupa.control.records("invoices")
    text = str(rows) + str(coupa.control.records("suppliers"))
    for needle in ("ü", "é", "日本", "🚀"):
        assert needle in text, needle
    stamps = Counter(r["updated-at"] for r in rows)
    assert max(stamps.values()) >= 5  # many records share one updated-at second
    ids = [r["id"] for r in rows]
    assert any(b - a > 1 for a, b in pairwise(ids))


def test_same_seed_same_data_other_seed_other_data(coupa):
    first = coupa.control.records("invoices")
    coupa.control.reset()
    assert coupa.control.records("invoices") == first
    coupa.control.reset(seed=8)
    assert coupa.control.records("invoices") != first


def test_tenant_profiles_differ_in_custom_fields(coupa):
    acme = coupa.control.records("invoices")[0]
    coupa.control.reset(tenant_profile="globex")
    globex = coupa.control.records("invoices")[0]
    assert set(acme["custom-fields"]) != set(globex["custom-fields"])
    assert "gpo-entity" in acme
    assert "gpo-entity" not in globex
    assert "legacy-vendor-ref" in globex


def test_counts_override_and_scale(coupa):
    coupa.control.reset(counts={"invoices": 7, "suppliers": 3})
    assert len(coupa.control.records("invoices")) == 7
    assert len(coupa.control.records("suppliers")) == 3
    coupa.control.reset(scale=300)
    assert len(coupa.control.records("invoices")) == 300
    assert len(coupa.control.records("purchase_orders")) == 150


def test_xml_without_json_accept(api):
    response = api.get("/api/invoices", {"limit": 2}, accept=None)
    assert response.status_code == 200
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own server
    assert root.tag == "invoice-headers"
    assert root.get("type") == "array"
    header = root.find("invoice-header")
    assert header is not None
    assert header.find("id").get("type") == "integer"
    assert header.find("created-at").get("type") == "dateTime"
    assert header.find("gross-total").get("type") == "decimal"
    assert any(el.get("nil") == "true" for el in header)
    assert header.find("invoice-lines").get("type") == "array"
    assert header.find("invoice-lines/invoice-line") is not None
    other = api.get("/api/suppliers", {"limit": 1}, accept="application/xml")
    assert ElementTree.fromstring(other.content).tag  # noqa: S314 == "suppliers"


def test_empty_result_json_vs_xml(api):
    empty = api.get("/api/invoices", {"id": "1"})
    assert empty.status_code == 200
    assert empty.json() == []
    xml = api.get("/api/invoices", {"id": "1"}, accept="application/xml")
    assert xml.status_code == 404
    assert "<errors><error>No results match your search criteria.</error></errors>" in xml.text
