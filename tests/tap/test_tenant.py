"""Tenants that differ from the documentation (docs/reliability.md, "Tenants that differ").

A collection a tenant lacks (404 "No route matches"), has not licensed (403) or cannot serve
(5xx past the retries) never fails discovery; a run that selects it stops before any record,
naming it and the fix. A parent deleted between its page and its sub-resource's read is
skipped and counted. Every tenant behaviour here is an emulator knob (docs/emulator.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tap_coupa.streams import STREAMS
from tests.tap.conftest import discover, parse_messages, run_cli, run_tap, select, tap_config

#: Persistent 5xx: two attempts, so the test does not wait out the default retry budget.
FAST_RETRIES = {"max_retries": 2, "max_retry_seconds": 5}


def _warnings(stderr: str, stream: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if "| WARNING" in line and f"documented schema of '{stream}'" in line
    ]


def _props(catalog: dict[str, Any], name: str) -> set[str]:
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == name)
    return set(entry["schema"]["properties"])


def _documented(name: str) -> set[str]:
    cls = next(c for c in STREAMS if c.name == name)
    return set(cls.base_schema["properties"])


def test_discovery_keeps_collections_the_tenant_lacks(coupa, tmp_path):
    coupa.control.configure(
        missing_collections=["/api/budget_lines", "/api/suppliers/{id}/addresses"],
        unlicensed_collections=["/api/contracts"],
        failing_collections=["/api/uoms"],
    )
    config = tap_config(coupa.base_url, **FAST_RETRIES)
    result = run_cli(["--discover"], config, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    catalog = json.loads(result.stdout)
    names = {e["tap_stream_id"] for e in catalog["streams"]}
    for stream, needle in [
        ("budget_lines", 'No route matches [GET] \\"/api/budget_lines\\"'.replace("\\", "")),
        ("remit_to_addresses", "no such collection"),
        ("contracts", "403"),
        ("uoms", "server errors only"),
    ]:
        assert stream in names
        found = _warnings(result.stderr, stream)
        assert len(found) == 1, (stream, found)  # one warning names it
        assert needle in found[0]
        assert _props(catalog, stream) == _documented(stream)  # not sampled
    # The rest of the catalog is sampled as usual.
    assert _props(catalog, "invoices") > _documented("invoices")
    assert result.stderr.rstrip().endswith("tap-coupa finished: catalog written (exit 0)")


def test_discovery_names_the_streams_read_from_a_missing_collection(coupa, tmp_path):
    coupa.control.configure(missing_collections=["/api/invoices"])
    result = run_cli(["--discover"], tap_config(coupa.base_url), tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    [warning] = _warnings(result.stderr, "invoices")
    assert "invoice_lines" in warning
    assert "invoice_line_allocations" in warning
    assert not _warnings(result.stderr, "invoice_lines")  # one warning, not one per stream


def test_discovery_fails_when_no_collection_answers(coupa, tmp_path):
    # Every collection 404: not a tenant difference but a base_url that is not Coupa's API.
    coupa.control.configure(missing_collections=["/api"])
    result = run_cli(["--discover"], tap_config(coupa.base_url), tmp_path)
    assert result.returncode == 1
    assert "could not sample any of the" in result.stderr
    assert "`base_url`" in result.stderr
    assert "Traceback" not in result.stderr


def _catalog_file(tmp_path: Path, catalog: dict[str, Any]) -> str:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    return str(path)


@pytest.mark.parametrize(
    ("knob", "path", "selected", "named", "fix"),
    [
        ("missing_collections", "/api/budget_lines", "budget_lines", "budget_lines",
         'meltano select tap-coupa --exclude budget_lines "*"'),
        ("unlicensed_collections", "/api/contracts", "contracts", "contracts",
         "grant client 'demo' the scope core.contract.read"),
        ("failing_collections", "/api/uoms", "uoms", "uoms", "run again once Coupa serves it"),
        # A line stream selected alone reads its parent's collection.
        ("missing_collections", "/api/invoices", "invoice_lines", "invoice_lines",
         "--exclude invoice_lines"),
        # A sub-resource is probed under one parent record.
        ("missing_collections", "/api/suppliers/{id}/addresses", "remit_to_addresses",
         "remit_to_addresses", "--exclude remit_to_addresses"),
    ],
)  # fmt: skip
def test_selected_stream_the_tenant_lacks_stops_before_any_record(
    coupa, tmp_path, knob, path, selected, named, fix
):
    config = tap_config(coupa.base_url, **FAST_RETRIES)
    catalog = select(discover(config), ["currencies", selected])
    coupa.control.configure(**{knob: [path]})
    result = run_cli(["--catalog", _catalog_file(tmp_path, catalog)], config, tmp_path)
    assert result.returncode == 1, result.stderr[-3000:]
    messages = parse_messages(result.stdout)
    # Nothing at all: the check runs before the first stream's SCHEMA. If a SCHEMA shows up
    # here, singer-sdk's final `Stream.sync` no longer calls get_replication_key_signpost
    # before writing it (CoupaStream.get_replication_key_signpost hooks the check there).
    assert [m["type"] for m in messages] == []
    errors = [line for line in result.stderr.splitlines() if "| ERROR" in line]
    sentence = next(line for line in errors if "is not readable" in line)
    assert f"Selected stream '{named}'" in sentence
    assert fix in sentence
    assert sentence.endswith("Nothing was read.")
    assert "Traceback" not in result.stderr
    assert not any("currencies" in line for line in errors)  # only what the tenant lacks


def test_the_check_costs_one_request_per_selected_collection(coupa, config):
    catalog = select(discover(config), ["invoices", "invoice_lines", "currencies"])
    before = len(coupa.control.requests_log())
    run_tap(config, catalog=catalog)
    probes = [
        r
        for r in coupa.control.requests_log()[before:]
        if "limit=1&" in r["query"] + "&" and "fields=" in r["query"] and "dir=" not in r["query"]
    ]  # (the range planner's newest-id request is ordered: `dir=desc`)
    # invoices and invoice_lines share one collection: two probes, not three.
    assert sorted(p["path"] for p in probes) == ["/api/currencies", "/api/invoices"]


def _addresses_by_supplier(coupa) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for row in coupa.control.records("remit_to_addresses"):
        found.setdefault(row["supplier-id"], []).append(row["id"])
    return found


def test_parent_deleted_before_its_sub_resource_is_skipped_and_counted(coupa, tmp_path):
    config = tap_config(coupa.base_url)
    catalog = select(discover(config), ["suppliers", "remit_to_addresses"])
    by_supplier = _addresses_by_supplier(coupa)
    lowest = min(coupa.control.record_ids("suppliers"))  # the check's probe parent: keep it
    vanishing = sorted(s for s in by_supplier if s != lowest)[:2]
    assert len(vanishing) == 2
    coupa.control.configure(vanishing_parents={"suppliers": vanishing})
    result = run_cli(["--catalog", _catalog_file(tmp_path, catalog)], config, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    messages = parse_messages(result.stdout)
    read = sorted(
        m["record"]["id"]
        for m in messages
        if m["type"] == "RECORD" and m["stream"] == "remit_to_addresses"
    )
    expected = sorted(a for s, ids in by_supplier.items() if s not in vanishing for a in ids)
    assert read == expected
    for supplier in vanishing:
        assert f"suppliers record {supplier} was deleted after its page was read" in result.stderr
    assert "remit_to_addresses: 2 parent record(s) deleted during the run" in result.stderr
    assert set(vanishing).isdisjoint(coupa.control.record_ids("suppliers"))


def test_a_404_for_a_parent_that_exists_is_not_a_deletion(coupa, tmp_path):
    config = tap_config(coupa.base_url)
    catalog = select(discover(config), ["remit_to_addresses"])
    lowest = min(coupa.control.record_ids("suppliers"))
    other = max(s for s in _addresses_by_supplier(coupa) if s != lowest)
    # The route answers 404 for one parent that exists (after the check's probe of another).
    coupa.control.add_faults(
        [{"kind": "status", "path": f"/api/suppliers/{other}/addresses", "status": 404,
          "body": "json", "times": 5}]
    )  # fmt: skip
    result = run_cli(["--catalog", _catalog_file(tmp_path, catalog)], config, tmp_path)
    assert result.returncode == 1, result.stderr[-3000:]
    assert f"suppliers {other} exists, so this 404 is not a deletion" in result.stderr
    assert "Selected stream 'remit_to_addresses' is not readable" in result.stderr
    assert "Traceback" not in result.stderr
