"""Per-tenant discovery: custom fields become typed columns; nothing the API sends is dropped."""

from __future__ import annotations

from tests.tap.conftest import discover, run_tap


def stream_schema(catalog, name):
    return next(e["schema"] for e in catalog["streams"] if e["tap_stream_id"] == name)


def custom_keys(records):
    keys = set()
    for record in records:
        keys.update((record.get("custom-fields") or {}).keys())
    return keys


def test_custom_fields_are_typed_per_tenant(coupa, config):
    seen = {}
    for profile in ("acme", "globex"):
        coupa.control.reset(tenant_profile=profile)
        catalog = discover(config)
        schema = stream_schema(catalog, "invoices")
        truth = coupa.control.records("invoices")
        keys = custom_keys(truth)
        assert keys, f"{profile}: invoices should carry custom fields"
        props = schema["properties"]["custom-fields"]["properties"]
        assert keys <= set(props), f"{profile}: custom fields missing from the catalog"
        others = coupa.control.records("suppliers")
        for key in keys:
            # One type per name across streams: JSON (`{}`) when streams disagree in kind.
            kinds = {type(r["custom-fields"].get(key)) for r in truth + others} - {type(None)}
            if len(kinds) > 1:
                assert props[key] == {}, f"{profile}: {key} is {kinds} across streams"
            else:
                assert props[key].get("type"), f"{profile}: {key} untyped"
        seen[profile] = keys
    assert seen["acme"] != seen["globex"]


def test_legacy_top_level_custom_fields_are_columns(coupa, config):
    catalog = discover(config)
    for name in ("invoices", "users", "suppliers"):
        props = stream_schema(catalog, name)["properties"]
        for record in coupa.control.records(name)[:50]:
            assert set(record) <= set(props), f"{name}: {set(record) - set(props)} not in catalog"


def test_records_match_the_discovered_schema(coupa, config):
    catalog = discover(config)
    run = run_tap(config, catalog=catalog)
    for entry in catalog["streams"]:
        props = set(entry["schema"]["properties"])
        for record in run.records(entry["tap_stream_id"]):
            assert set(record) <= props, entry["tap_stream_id"]


def test_discovery_without_a_scope_keeps_the_documented_schema(coupa, config):
    coupa.control.add_client("few", "few-secret", ["core.invoice.read"])
    config.update(client_id="few", client_secret="few-secret", scopes=["core.invoice.read"])
    catalog = discover(config)
    assert "suppliers" in {e["tap_stream_id"] for e in catalog["streams"]}
    assert "custom-fields" in stream_schema(catalog, "invoices")["properties"]


def test_sampling_falls_back_when_coupa_refuses_the_ordering(coupa, config):
    # As if this instance refused order_by=updated_at on invoices (Coupa does not document it).
    coupa.control.add_faults(
        [{"kind": "status", "path": "/api/invoices", "status": 400, "body": "json"}]
    )
    catalog = discover(config)
    props = stream_schema(catalog, "invoices")["properties"]["custom-fields"]["properties"]
    assert custom_keys(coupa.control.records("invoices")) <= set(props)
    queries = [r["query"] for r in coupa.control.requests_log() if r["path"] == "/api/invoices"]
    assert "order_by=updated_at" in queries[0]
    assert "order_by" not in queries[1]
