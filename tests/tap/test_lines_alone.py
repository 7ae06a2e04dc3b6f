"""Every child stream (lines, nested arrays, sub-resources) selected without its parent.

The parent is then read only to feed its children, so its payload is trimmed with `fields=` to
what they need. That trim must ask only for fields Coupa has: a 400 "Unknown field 'active'"
(issue 15) came from a nested stub the catalog had wrongly grown. The streams are derived from
the tap's registry, not listed here, so a new child stream is covered the day it is declared.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any
from urllib.parse import parse_qs

import pytest

from coupa_emulator.server import RunningEmulator
from tap_coupa.streams import STREAMS
from tests.tap.conftest import discover, run_tap, select, tap_config

CHILDREN = {
    cls.name: cls.parent_stream_type.name
    for cls in STREAMS
    if getattr(cls, "parent_stream_type", None) is not None
}


def test_the_registry_has_line_nested_and_sub_resource_streams() -> None:
    # Guards the parametrisation below against an empty or shrunken registry.
    assert {"requisition_lines", "requisition_line_allocations", "invoice_tax_lines"} <= set(
        CHILDREN
    )
    assert {"remit_to_addresses", "supplier_items"} <= set(CHILDREN)


@pytest.fixture(scope="module")
def catalog(emulator: RunningEmulator) -> dict[str, Any]:
    """One discovery for the module (the emulator's start data does not change between tests)."""
    emulator.control.reset()
    return discover(tap_config(emulator.base_url))


def rows(run: Any, stream: str) -> list[str]:
    """The stream's records, canonical and sorted (order across parent pages may vary)."""
    return sorted(json.dumps(r, sort_keys=True) for r in run.records(stream))


@pytest.mark.parametrize("stream", sorted(CHILDREN))
def test_child_stream_alone_equals_child_stream_with_parent(
    coupa: RunningEmulator, config: dict[str, Any], catalog: dict[str, Any], stream: str
) -> None:
    parent = CHILDREN[stream]
    alone = run_tap(config, catalog=select(catalog, [stream]))
    assert not alone.records(parent), f"{parent} was not selected but was emitted"
    got = rows(alone, stream)
    assert got, f"{stream}: no records when selected alone"

    coupa.control.reset()
    together = run_tap(config, catalog=select(catalog, [parent, stream]))
    assert got == rows(together, stream), f"{stream} alone differs from {stream} with {parent}"


def test_a_parent_read_only_for_its_lines_asks_for_fields_coupa_has(
    coupa: RunningEmulator, config: dict[str, Any], catalog: dict[str, Any]
) -> None:
    """The trimmed request names no attribute the emulator's requisitions lack (reference §9)."""
    run_tap(config, catalog=select(catalog, ["requisition_lines"]))
    queries = [r["query"] for r in coupa.control.requests_log() if r["path"] == "/api/requisitions"]
    fields = [json.loads(parse_qs(q)["fields"][0]) for q in queries if "fields=" in q]
    # Page reads only: the pre-run probe of a selected stream asks for `["id"]` alone.
    pages = [f for f in fields if any(isinstance(part, dict) for part in f)]
    assert pages, f"a parent read only for its lines should be trimmed with fields=: {fields}"
    (lines_spec,) = [f["requisition-lines"] for f in pages[0] if isinstance(f, dict)]
    nested = {k: v for f in lines_spec if isinstance(f, dict) for k, v in f.items()}
    # Coupa's commodity stub is {id, name} (reference §9 samples): no `active`.
    assert nested["commodity"] == ["id", "name"]


def test_a_trim_coupa_refuses_falls_back_to_full_payloads(
    coupa: RunningEmulator,
    config: dict[str, Any],
    catalog: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A catalog can name a field this tenant lacks (cached from another tenant, a retired
    custom field): Coupa answers 400 to a `fields=` naming it. The tap reads untrimmed pages
    instead, says so once, and emits the same records."""
    streams = ["requisitions", "requisition_lines"]
    deselect = {"requisitions": {"justification"}}
    edited = copy.deepcopy(catalog)
    for entry in edited["streams"]:
        if entry["tap_stream_id"] == "requisitions":
            entry["schema"]["properties"]["retired-field"] = {"type": ["string", "null"]}
            entry["metadata"].append(
                {
                    "breadcrumb": ["properties", "retired-field"],
                    "metadata": {"inclusion": "available", "selected": True},
                }
            )
    trimmed = run_tap(config, catalog=select(catalog, streams, deselect=deselect))
    coupa.control.reset()
    mark = len(coupa.control.requests_log())
    with caplog.at_level(logging.WARNING):
        run = run_tap(config, catalog=select(edited, streams, deselect=deselect))
    statuses = [
        r["status"] for r in coupa.control.requests_log()[mark:] if r["path"] == "/api/requisitions"
    ]
    assert 400 in statuses, "the emulator should refuse a fields= naming an unknown field"
    for stream in streams:
        assert rows(run, stream), stream
        assert rows(run, stream) == rows(trimmed, stream), stream
    assert all("justification" not in r for r in run.records("requisitions"))
    warned = [r.getMessage() for r in caplog.records if "retired-field" in r.getMessage()]
    assert len(warned) == 1, warned
    assert "requisitions" in warned[0]


TOP_LEVEL = sorted(cls.name for cls in STREAMS if getattr(cls, "parent_stream_type", None) is None)


def test_one_deselected_property_trims_every_stream_without_a_refusal(
    coupa: RunningEmulator, config: dict[str, Any], catalog: dict[str, Any]
) -> None:
    """Deselecting one column makes every stream ask for the rest with `fields=`: each field
    the catalog names must exist in the emulator (which follows reference §8-9)."""
    mark = len(coupa.control.requests_log())
    deselect = {name: {"created-by"} for name in TOP_LEVEL}
    run_tap(config, catalog=select(catalog, TOP_LEVEL, deselect=deselect))
    log = coupa.control.requests_log()[mark:]
    refused = sorted({r["path"] for r in log if r["status"] == 400})
    assert refused == []
    assert any("fields=" in r["query"] for r in log)
