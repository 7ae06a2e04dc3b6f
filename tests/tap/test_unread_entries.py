"""Deselected catalog entries no selected stream needs get no stream map nor stream object.

A catalog lists every stream and usually selects a few; singer-sdk would build a map and a
stream for each entry only to skip most of them. What a run writes must not change.
"""

from __future__ import annotations

import io
import logging
from contextlib import redirect_stdout
from typing import Any

import pytest

from tap_coupa.tap import TapCoupa
from tests.tap.conftest import discover, parse_messages, select


def build(config: dict[str, Any], catalog: dict[str, Any]) -> TapCoupa:
    return TapCoupa(config=config, catalog=catalog, parse_env_config=False)


def comparable(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages without the times that differ between any two runs (extraction, signpost)."""
    return [without_times(m) for m in messages]


def without_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: without_times(v)
            for k, v in value.items()
            if k not in {"time_extracted", "replication_key_signpost"}
        }
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def sync(tap: TapCoupa) -> list[dict[str, Any]]:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        tap.sync_all()
    out.flush()
    return comparable(parse_messages(out.buffer.getvalue().decode()))


@pytest.fixture
def catalog(config: dict[str, Any]) -> dict[str, Any]:
    return discover(config)


def test_only_the_selected_stream_is_built_and_the_rest_are_logged_as_skipped(
    config: dict[str, Any], catalog: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger(TapCoupa.name)  # the tap's logger does not propagate
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger=TapCoupa.name):
            tap = build(config, select(catalog, ["invoices"]))
            built = set(tap.streams)  # the streams are built here, and the skips logged
    finally:
        logger.removeHandler(caplog.handler)
    assert built == {"invoices"}
    skipped = {r.getMessage() for r in caplog.records if "Skipping deselected" in r.getMessage()}
    assert "Skipping deselected stream 'suppliers'." in skipped
    assert len(skipped) == len(catalog["streams"]) - 1


def test_a_selected_child_keeps_the_parent_it_is_read_through(
    config: dict[str, Any], catalog: dict[str, Any]
) -> None:
    tap = build(config, select(catalog, ["invoice_lines"]))
    assert set(tap.streams) == {"invoices", "invoice_lines"}
    assert not tap.streams["invoices"].selected


@pytest.mark.parametrize(
    "setting",
    [
        {"stream_maps": {"invoices": {}}},
        # custom fields stay nested: as columns they would clash with the flattened names
        {"flattening_enabled": True, "flattening_max_depth": 1, "custom_fields_as_columns": False},
    ],
    ids=["stream_maps", "flattening"],
)
def test_with_stream_maps_or_flattening_every_entry_is_built(
    config: dict[str, Any], catalog: dict[str, Any], setting: dict[str, Any]
) -> None:
    configured = {**config, **setting}
    catalog = discover(configured)
    tap = build(configured, select(catalog, ["invoices"]))
    assert set(tap.streams) == {entry["tap_stream_id"] for entry in catalog["streams"]}


def test_the_run_writes_what_it_wrote_with_every_entry_built(
    config: dict[str, Any], catalog: dict[str, Any]
) -> None:
    chosen = select(catalog, ["invoices", "invoice_lines", "currencies"])
    lean = build(config, chosen)
    assert len(lean.streams) < len(catalog["streams"])
    # Any stream map makes the tap build every entry, as singer-sdk alone does.
    full = build({**config, "stream_maps": {"currencies": {}}}, chosen)
    assert len(full.streams) == len(catalog["streams"])
    lean_messages, full_messages = sync(lean), sync(full)
    assert {m["stream"] for m in lean_messages if m["type"] == "RECORD"} == {
        "invoices",
        "invoice_lines",
        "currencies",
    }
    # Pages of concurrent id ranges arrive in any order: records compared per stream, by id.
    assert by_kind(lean_messages) == by_kind(full_messages)


def by_kind(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """SCHEMA messages in order, each stream's records sorted, and the final STATE."""
    records: dict[str, list[dict[str, Any]]] = {}
    for m in messages:
        if m["type"] == "RECORD":
            records.setdefault(m["stream"], []).append(m)
    return {
        "schemas": [m for m in messages if m["type"] == "SCHEMA"],
        "records": {k: sorted(v, key=lambda m: m["record"]["id"]) for k, v in records.items()},
        "state": [m for m in messages if m["type"] == "STATE"][-1],
    }
