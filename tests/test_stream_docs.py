"""The stream table (docs/streams.md, `--about`) and the scope map agree with the streams built.

Rows are checked against the stream instances a TapCoupa builds (its `streams`), not against
the stream table they were generated from; the scope map (coupa_api.scopes) is the wire
contract the emulator implements too.
"""

from __future__ import annotations

import copy
import io
import json
import re
import textwrap
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from coupa_api.scopes import INVOICE_WRITES, NOT_COVERED, READ_SCOPES
from coupa_emulator.resources import INVOICE_WRITE_SCOPES, RESOURCES
from tap_coupa import tap as tap_module
from tap_coupa.extra_streams import extra_stream_problems
from tap_coupa.lines import EmbeddedLinesStream
from tap_coupa.streams import STREAMS
from tap_coupa.streams import specs as specs_module
from tap_coupa.streams.catalog_doc import streams_section
from tap_coupa.subresources import SubResourceStream
from tap_coupa.tap import TapCoupa

ROOT = Path(__file__).resolve().parents[1]
CONFIG = {"base_url": "http://127.0.0.1:9", "client_id": "docs", "client_secret": "docs-secret"}


def built_streams(**config: Any) -> list[Any]:
    """The streams a tap builds for `config` (its discover_streams), in registry order.

    Only discovery's sampling is left out (the documented schemas stand in): the docs must not
    need a Coupa to check.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            tap_module, "discover_schemas", lambda _c, classes, *_a, **_k: {
                cls.name: cls.base_schema for cls in classes
            }
        )  # fmt: skip
        tap = TapCoupa(config={**CONFIG, **config}, validate_config=False)
        streams = tap.streams
    order = [cls.name for cls in tap.all_stream_classes]
    return sorted(streams.values(), key=lambda s: order.index(s.name))


def expected_row(stream: Any) -> str:
    """A table row written from a built stream instance's own attributes."""
    parent = stream.parent_stream_type
    replication = "updated-at" if stream.replication_key else "full table"
    if isinstance(stream, EmbeddedLinesStream):
        where = f"embedded in {parent.name} (/api/{parent.resource or parent.name})"
    elif isinstance(stream, SubResourceStream):
        where = f"{stream.path} (per {parent.name} record)"
        replication = f"full table, per {parent.name} record read"
    else:
        where = stream.path
    keys = ", ".join(stream.primary_keys)
    return f"| {stream.name} | {where} | {stream.scope} | {keys} | {replication} |"


def table_rows(text: str) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if re.match(r"\| [a-z]\w* \| ", line) and not line.startswith("| stream |")
    ]


def test_docs_stream_table_lists_the_streams_the_tap_builds():
    doc = (ROOT / "docs" / "streams.md").read_text(encoding="utf-8")
    assert table_rows(doc) == [expected_row(s) for s in built_streams()], (
        "docs/streams.md is stale: run `python -m tap_coupa.streams.catalog_doc`"
    )
    assert streams_section(STREAMS) in doc
    for path in NOT_COVERED:
        assert f"`{path}`" in doc


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_about_lists_every_stream_the_tap_builds(fmt, monkeypatch):
    # The SDK adds its built-in settings to the class's schema while building `--about`.
    monkeypatch.setattr(TapCoupa, "config_jsonschema", copy.deepcopy(TapCoupa.config_jsonschema))
    out = io.StringIO()
    with redirect_stdout(out):
        TapCoupa.print_about(fmt)
    text = json.loads(out.getvalue())["description"] if fmt == "json" else out.getvalue()
    text = text.split("\n## Streams\n")[-1]
    assert table_rows(text) == [expected_row(s) for s in built_streams()]


def test_declared_streams_are_built_like_built_in_ones():
    extra = [
        {"name": "audits", "path": "/api/custom_objects/9/object_instances",
         "scope": "core.common.read"},
        {"name": "invoice_contacts", "parent": "invoices",
         "path": "/api/invoices/{invoice_id}/contacts", "scope": "core.invoice.read"},
        {"name": "invoice_line_taxes", "parent": "invoices",
         "array": ["invoice-lines", "taxes"]},
    ]  # fmt: skip
    streams = {s.name: s for s in built_streams(extra_streams=extra)}
    rows = {name: expected_row(streams[name]) for name in ("audits", "invoice_contacts",
                                                           "invoice_line_taxes")}  # fmt: skip
    assert rows == {
        "audits": "| audits | /api/custom_objects/9/object_instances | core.common.read | id "
        "| full table |",
        "invoice_contacts": "| invoice_contacts | /api/invoices/{invoice_id}/contacts "
        "(per invoices record) | core.invoice.read | id | full table, per invoices record read |",
        "invoice_line_taxes": "| invoice_line_taxes | embedded in invoices (/api/invoices) "
        "| core.invoice.read | id | updated-at |",
    }
    # The built-in parent hands ids to its new sub-resource and still feeds its line streams.
    children = {c.name for c in streams["invoices"].child_streams}
    assert {"invoice_contacts", "invoice_line_taxes", "invoice_lines"} <= children
    taxes = streams["invoice_line_taxes"]
    assert {"invoice-id", "invoice-updated-at", "invoice-line-id"} <= set(
        taxes.schema["properties"]
    )
    assert "invoice-id" in streams["invoice_contacts"].schema["properties"]


def test_every_stream_path_is_in_the_scope_map_and_an_emulated_resource():
    for stream in built_streams():
        if isinstance(stream, EmbeddedLinesStream):
            assert stream.scope == stream.parent_stream_type.scope, stream.name
            continue
        assert READ_SCOPES[stream.path] == stream.scope, stream.name
        spec = RESOURCES[stream.name]
        # The emulator is Coupa: its own table must agree on path and scope.
        assert spec.scope == stream.scope, stream.name
        assert re.sub(r"\{\w+\}", "{}", "/api/" + spec.url) == re.sub(
            r"\{\w+\}", "{}", stream.path
        ), stream.name


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


def test_the_wire_contract_imports_neither_plugin():
    source = (ROOT / "coupa_api" / "scopes.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import) (tap_coupa|target_coupa)", source, re.M)


def test_about_reads_the_same_versions_as_the_sdk():
    from singer_sdk.plugin_base import PluginBase  # noqa: PLC0415

    assert TapCoupa.get_plugin_version() == PluginBase.get_plugin_version.__func__(TapCoupa)
    assert TapCoupa.get_sdk_version() == PluginBase.get_sdk_version.__func__(TapCoupa)
    assert TapCoupa.get_supported_python_versions() == (
        PluginBase.get_supported_python_versions.__func__(TapCoupa)
    )


def _blocks(language: str) -> list[str]:
    text = (ROOT / "docs" / "adding-a-stream.md").read_text(encoding="utf-8")
    return [
        textwrap.dedent(block)
        for block in re.findall(rf"^ *```{language}\n(.*?)^ *```", text, re.M | re.S)
    ]


def test_adding_a_stream_shows_rows_as_they_are_in_the_table():
    """Each documented row, schema and scope line is one the project really has."""
    rows = [b for b in _blocks("python") if "StreamSpec(" in b or "_line(" in b]
    assert len(rows) == 3
    for block in rows:
        row = eval(block.strip().rstrip(","), vars(specs_module))  # noqa: S307 - our own doc
        assert row in specs_module.SPECS, block
    sources = {
        "SHIPPING_TERM": ROOT / "tap_coupa" / "schemas" / "finance.py",
        '"/api/shipping_terms"': ROOT / "coupa_api" / "scopes.py",
        '_spec("shipping_terms"': ROOT / "coupa_emulator" / "resources.py",
    }
    others = [b.strip() for b in _blocks("python") if b not in rows]
    assert len(others) == len(sources)
    for line, (needle, path) in zip(others, sources.items(), strict=True):
        assert line.startswith(needle)
        assert line in path.read_text(encoding="utf-8"), (line, path)


def test_adding_a_stream_config_example_is_valid_and_builds_each_kind():
    (block,) = _blocks("json")
    config = json.loads("{" + block + "}")
    assert extra_stream_problems(config, [cls.name for cls in STREAMS]) == []
    streams = {s.name: s for s in built_streams(**config)}
    assert isinstance(streams["supplier_contacts"], SubResourceStream)
    assert isinstance(streams["invoice_line_taxes"], EmbeddedLinesStream)
    assert streams["vendor_scorecards"].replication_key == "updated-at"
