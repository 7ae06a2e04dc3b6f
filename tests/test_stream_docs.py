"""One scope map (coupa_api.scopes): streams, target, emulator contract, README and `--about`."""

from __future__ import annotations

import copy
import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from coupa_api.scopes import ENDPOINTS, INVOICE_WRITES, NOT_COVERED
from coupa_emulator.resources import INVOICE_WRITE_SCOPES, RESOURCES
from tap_coupa.streams import STREAMS
from tap_coupa.streams.catalog_doc import readme_section
from tap_coupa.tap import TapCoupa

ROOT = Path(__file__).resolve().parents[1]


def test_readme_stream_table_is_generated_from_the_registry():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_section(STREAMS) in readme, (
        "README stream table is stale: run `python -m tap_coupa.streams.catalog_doc README.md`"
    )
    for path in NOT_COVERED:
        assert f"`{path}`" in readme


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_about_lists_every_stream_with_endpoint_scope_and_replication(fmt, monkeypatch):
    # The SDK adds its built-in settings to the class's schema while building `--about`.
    monkeypatch.setattr(TapCoupa, "config_jsonschema", copy.deepcopy(TapCoupa.config_jsonschema))
    out = io.StringIO()
    with redirect_stdout(out):
        TapCoupa.print_about(fmt)
    text = json.loads(out.getvalue())["description"] if fmt == "json" else out.getvalue()
    for cls in STREAMS:
        row = next((line for line in text.splitlines() if line.startswith(f"| {cls.name} |")), "")
        assert cls.scope in row, cls.name
        entry = ENDPOINTS.get(cls.name)
        if entry is not None:
            assert entry.path in row
            assert entry.replication in row


def test_every_registry_collection_is_a_stream_and_an_emulated_resource():
    streams = {cls.name: cls for cls in STREAMS}
    for name, entry in ENDPOINTS.items():
        assert streams[name].scope == entry.scope, name
        spec = RESOURCES[name]
        # The emulator is Coupa: its own table must agree on path and scope.
        assert spec.scope == entry.scope, name
        assert re.sub(r"\{\w+\}", "{}", "/api/" + spec.url) == re.sub(
            r"\{\w+\}", "{}", entry.path
        ), name


def test_no_scope_is_written_outside_the_registry():
    pattern = re.compile(r"[\"']core\.[a-z_]+(\.[a-z_]+)*[\"']")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in ("tap_coupa", "target_coupa")
        for path in (ROOT / package).rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line) and "e.g." not in line and '"scope": ' not in line
    ]
    assert offenders == []


def test_invoice_write_scopes_agree_with_the_emulated_coupa():
    assert {op: set(s) for op, s in INVOICE_WRITES.items()} == {
        op: set(s) for op, s in INVOICE_WRITE_SCOPES.items()
    }
