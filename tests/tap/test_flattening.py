"""singer-sdk's flattening and the tenant's custom-field columns (`custom-fields__<name>`).

Flattening (separator `__`, depth 1 or more) makes columns of exactly those names from the
`custom-fields` object: discovery then leaves the columns to it, and a catalog discovered
without flattening is refused with one paragraph instead of singer-sdk's ValueError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tap_coupa.custom_fields import PREFIX
from tests.tap.conftest import discover, run_cli, run_tap, select

FLATTENING = {"flattening_enabled": True, "flattening_max_depth": 1}


def columns(catalog: dict[str, Any], stream: str) -> set[str]:
    [entry] = [e for e in catalog["streams"] if e["tap_stream_id"] == stream]
    return set(entry["schema"]["properties"])


def test_with_flattening_custom_fields_arrive_as_flattened_columns(
    config: dict[str, Any],
) -> None:
    flattening = {**config, **FLATTENING}
    catalog = discover(flattening)
    assert not {c for c in columns(catalog, "invoices") if c.startswith(PREFIX)}
    plain = discover(config)
    expected = {c for c in columns(plain, "invoices") if c.startswith(PREFIX)}
    assert expected  # the emulator's tenant has invoice custom fields
    run = run_tap(flattening, catalog=select(catalog, ["invoices"]))
    [schema] = [m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == "invoices"]
    assert expected <= set(schema["schema"]["properties"])
    assert all(PREFIX[:-2] not in record for record in run.records("invoices"))
    assert run.records("invoices")


def test_a_catalog_with_custom_columns_under_flattening_is_one_paragraph(
    config: dict[str, Any], tmp_path: Path
) -> None:
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(select(discover(config), ["invoices"])))
    result = run_cli(["--catalog", str(catalog_path)], {**config, **FLATTENING}, tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "flattening_enabled: the catalog's schemas of " in result.stderr
    assert "--refresh-catalog" in result.stderr
    assert "invoices" in result.stderr


@pytest.mark.parametrize("other", [{"flattening_separator": "."}, {"flattening_max_depth": 0}])
def test_flattening_that_makes_other_names_keeps_the_columns(
    config: dict[str, Any], other: dict[str, Any]
) -> None:
    catalog = discover({**config, **FLATTENING, **other})
    assert {c for c in columns(catalog, "invoices") if c.startswith(PREFIX)}
