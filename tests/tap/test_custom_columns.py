"""Columns analysts can use: custom fields as typed columns, one type per name, dates as dates."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tap_coupa.custom_fields import PREFIX
from tap_coupa.field_types import coerce, fits, typed
from tap_coupa.streams import STREAMS
from tests.conftest import fetch_token
from tests.tap.conftest import discover, last_page_query, run_tap, select


def streams_of(catalog: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["tap_stream_id"]: e["schema"]["properties"] for e in catalog["streams"]}


def signature(prop: dict[str, Any]) -> tuple[tuple[str, ...], str | None]:
    declared = prop.get("type", [])
    kinds = [declared] if isinstance(declared, str) else declared
    return tuple(sorted(k for k in kinds if k != "null")), prop.get("format")


@pytest.mark.parametrize("profile", ["acme", "globex"])
def test_every_column_name_has_one_type_across_streams(coupa, config, profile):
    coupa.control.reset(tenant_profile=profile)
    seen: dict[str, dict[tuple[tuple[str, ...], str | None], list[str]]] = {}
    for stream, props in streams_of(discover(config)).items():
        for name, prop in props.items():
            seen.setdefault(name, {}).setdefault(signature(prop), []).append(stream)
    mixed = {name: kinds for name, kinds in seen.items() if len(kinds) > 1}
    assert mixed == {}
    streams = streams_of(discover(config))
    assert signature(streams["invoices"]["tax-rate"]) == (("number",), None)
    assert signature(streams["invoice_lines"]["tax-rate"]) == (("number",), None)
    assert signature(streams["invoices"]["discount-due-date"]) == (("string",), "date-time")
    assert signature(streams["invoice_lines"]["line-num"]) == (("string",), None)


def test_custom_fields_arrive_as_typed_columns(coupa, config):
    coupa.control.reset(tenant_profile="globex", counts={"invoices": 60})
    catalog = discover(config)
    invoices = streams_of(catalog)["invoices"]
    assert signature(invoices[PREFIX + "approval-tier"]) == (("integer",), None)
    assert signature(invoices[PREFIX + "digital-invoice"]) == (("boolean",), None)
    assert signature(invoices[PREFIX + "sap-company-code"]) == (("string",), None)
    assert "custom-fields" in invoices  # the object stays, for fields added after discovery

    run = run_tap(config, catalog=select(catalog, ["invoices", "invoice_lines", "suppliers"]))
    truth = {r["id"]: r for r in coupa.control.records("invoices")}
    records = run.records("invoices")
    assert len(records) == len(truth)
    filled = 0
    for record in records:
        custom = truth[record["id"]]["custom-fields"]
        assert {k: record[PREFIX + k] for k in custom} == custom
        filled += sum(v is not None for v in custom.values())
    assert filled > 0
    supplier = run.records("suppliers")[0]
    assert PREFIX + "sap-id" in supplier
    for line in run.records("invoice_lines"):
        assert isinstance(line["line-num"], str)
        assert line["tax-rate"] is None or isinstance(line["tax-rate"], float)


def test_custom_columns_can_be_turned_off(coupa, config):
    config["custom_fields_as_columns"] = False
    props = streams_of(discover(config))["invoices"]
    assert not [name for name in props if name.startswith(PREFIX)]
    assert "cost-center" in props["custom-fields"]["properties"]


def test_a_selected_custom_column_asks_coupa_for_custom_fields(coupa, config):
    catalog = discover(config)
    props = streams_of(catalog)["invoices"]
    keep = {"id", "updated-at", PREFIX + "cost-center"}
    trimmed = select(catalog, ["invoices"], deselect={"invoices": set(props) - keep})
    run = run_tap(config, catalog=trimmed)
    query = last_page_query(coupa)
    fields = json.loads(query["fields"][0])
    assert {"custom_fields": {}} in fields
    assert not [f for f in fields if isinstance(f, str) and f.startswith(PREFIX)]
    truth = {r["id"]: r["custom-fields"]["cost-center"] for r in coupa.control.records("invoices")}
    got = {r["id"]: r[PREFIX + "cost-center"] for r in run.records("invoices")}
    assert got == truth
    assert all(set(r) == keep for r in run.records("invoices"))


def test_field_type_rules_on_their_own():
    assert coerce("line-num", 3) == "3"
    assert coerce("tax-rate", "8.25") == 8.25
    assert coerce("tax-rate", None) is None
    assert coerce("status", 3) == 3  # not a canonical name: untouched
    assert fits("2024-01-05T10:22:33-08:00", {"type": ["string"], "format": "date-time"})
    assert not fits("soon", {"type": ["string"], "format": "date-time"})
    assert not fits(True, {"type": ["integer", "null"]})
    nullable_string = {"type": ["string", "null"]}
    assert typed("paid-date", [None], {}, nullable_string)["format"] == "date-time"
    assert typed("paid-date", ["2024-01-05"], {}, nullable_string)["format"] == "date"
    assert typed("comment-date", ["next week"], {}, nullable_string) == nullable_string
    stub = {"type": ["object", "null"], "properties": {}}
    assert typed("account-type", [None], {"account-type": stub}, nullable_string) == stub
    assert typed("account-type", ["x"], {"account-type": stub}, nullable_string) == nullable_string


def sampled_custom_fields(base_url: str) -> dict[str, set[str]]:
    """stream -> custom field names its sample page carries (the sample discovery reads).

    Fetched here over HTTP, not with the tap's code, for every top-level stream of the registry.
    """
    headers = {"Authorization": f"Bearer {fetch_token(base_url)}", "Accept": "application/json"}
    found: dict[str, set[str]] = {}
    for cls in STREAMS:
        if getattr(cls, "parent_stream_type", None) is not None:
            continue
        params = {"limit": 50, "order_by": "id", "dir": "desc"}
        url = f"{base_url}/api/{cls.resource or cls.name}"
        response = requests.get(url, params=params, headers=headers, timeout=30)
        response.raise_for_status()
        names = {
            name
            for row in response.json()
            if isinstance(row.get("custom-fields"), dict)
            for name in row["custom-fields"]
        }
        if names:
            found[cls.name] = names
    return found


@pytest.mark.parametrize("profile", ["acme", "globex"])
def test_every_stream_with_custom_fields_gets_their_columns(coupa, config, profile):
    coupa.control.reset(tenant_profile=profile)
    expected = sampled_custom_fields(coupa.base_url)
    # Most streams carry custom fields (the emulator gives every resource but currencies some).
    assert len(expected) > 20, sorted(expected)
    streams = streams_of(discover(config))
    missing = {
        stream: sorted(n for n in names if PREFIX + n not in streams[stream])
        for stream, names in expected.items()
    }
    assert {s: m for s, m in missing.items() if m} == {}
    types: dict[str, set[tuple[tuple[str, ...], str | None]]] = {}
    for props in streams.values():
        for column, prop in props.items():
            if column.startswith(PREFIX):
                types.setdefault(column, set()).add(signature(prop))
    assert {c: t for c, t in types.items() if len(t) > 1} == {}


def test_a_sync_fills_the_custom_columns_of_every_stream(coupa, config):
    coupa.control.reset(tenant_profile="globex")
    expected = sampled_custom_fields(coupa.base_url)
    run = run_tap(config, catalog=select(discover(config), expected))
    for stream, names in expected.items():
        records = run.records(stream)
        assert records, stream
        filled = 0
        for record in records:
            custom = record["custom-fields"] or {}
            for name in names:
                assert record[PREFIX + name] == custom.get(name), (stream, name)
                filled += record[PREFIX + name] is not None
        assert filled, f"{stream}: no custom column was filled"


def test_a_custom_field_that_differs_between_streams_gets_one_type(coupa, config):
    """globex's `project-code` is text on invoices and a lookup-value stub elsewhere (§12).

    Typed per stream it would be a string column in one table and an object in the others;
    typed from every stream's sample at once it is JSON everywhere, and every value fits it.
    """
    coupa.control.reset(tenant_profile="globex")
    invoice = coupa.control.records("invoices")[0]["custom-fields"]
    supplier = coupa.control.records("suppliers")[0]["custom-fields"]
    assert "project-code" in invoice
    assert "project-code" in supplier
    streams = streams_of(discover(config))
    kinds = {
        name: signature(props[PREFIX + "project-code"])
        for name, props in streams.items()
        if PREFIX + "project-code" in props
    }
    assert {"invoices", "suppliers", "accounts"} <= set(kinds)
    assert set(kinds.values()) == {((), None)}, kinds
    run = run_tap(config, catalog=select(discover(config), ["invoices", "suppliers"]))
    values = [r[PREFIX + "project-code"] for r in run.records("invoices")]
    values += [r[PREFIX + "project-code"] for r in run.records("suppliers")]
    assert any(isinstance(v, str) for v in values)
    assert any(isinstance(v, dict) and "external-ref-num" in v for v in values)
