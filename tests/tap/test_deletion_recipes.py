"""The SQL in docs/deletions.md, run in DuckDB after a line was removed from an invoice.

Two syncs over real HTTP, each loaded the way target-duckdb loads (one table per stream in
schema `coupa`, upsert on `id`, date-times as timestamps, nested values as JSON text); between
them a line (with its account allocations) is removed from an invoice in the emulator. The
loaded tables still hold the stale rows; the documented queries must not return them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.tap.conftest import discover, run_tap, select

#: duckdb 1.2.2 (target-duckdb's pin, see docs/meltano.md) has wheels up to CPython 3.13.
duckdb = pytest.importorskip("duckdb")

DOC = Path(__file__).resolve().parents[2] / "docs" / "deletions.md"
STREAMS = ["invoices", "invoice_lines", "invoice_line_allocations"]


def recipe(name: str) -> str:
    """The ```sql block of docs/deletions.md that starts with `-- recipe: <name>`."""
    for block in re.findall(r"```sql\n(.*?)```", DOC.read_text(), flags=re.DOTALL):
        if block.startswith(f"-- recipe: {name}\n"):
            return str(block)
    raise AssertionError(f"docs/deletions.md has no recipe {name!r}")


def _column_type(schema: dict[str, Any]) -> str:
    kinds = schema.get("type", [])
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if "integer" in kinds:
        return "BIGINT"
    if "number" in kinds:
        return "DOUBLE"
    if "boolean" in kinds:
        return "BOOLEAN"
    if schema.get("format") == "date-time":
        return "TIMESTAMPTZ"
    return "VARCHAR"


def load(con: Any, run: Any) -> None:
    """Upsert a run's records by `id`, as target-duckdb does for streams with a key."""
    con.execute("CREATE SCHEMA IF NOT EXISTS coupa")
    for message in run.messages:
        if message["type"] != "SCHEMA" or message["stream"] not in STREAMS:
            continue
        columns = {k: _column_type(v) for k, v in message["schema"]["properties"].items()}
        ddl = ", ".join(f'"{k}" {t}' for k, t in columns.items() if k != "id")
        con.execute(
            f"CREATE TABLE IF NOT EXISTS coupa.{message['stream']} (id BIGINT PRIMARY KEY, {ddl})"
        )
    for stream in STREAMS:
        names = [r[0] for r in con.execute(f"DESCRIBE coupa.{stream}").fetchall()]
        placeholders = ", ".join("?" for _ in names)
        quoted = ", ".join(f'"{n}"' for n in names)
        rows = [
            [json.dumps(r.get(n)) if isinstance(r.get(n), dict | list) else r.get(n) for n in names]
            for r in run.records(stream)
        ]
        if rows:
            con.executemany(
                f"INSERT OR REPLACE INTO coupa.{stream} ({quoted}) VALUES ({placeholders})",  # noqa: S608
                rows,
            )


def ids(con: Any, sql: str) -> set[int]:
    query = f"select id from ({sql})"  # noqa: S608 - the documented recipes themselves
    return {int(row[0]) for row in con.execute(query).fetchall()}


def test_removed_line_disappears_with_the_documented_queries(coupa, config, tmp_path):
    coupa.control.reset(counts={"invoices": 60})
    catalog = select(discover(config), STREAMS)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    first = run_tap(config, catalog=catalog)
    load(con, first)

    invoices = coupa.control.records("invoices")
    target = next(
        inv
        for inv in invoices
        if len(inv["invoice-lines"]) >= 2 and inv["invoice-lines"][-1]["account-allocations"]
    )
    removed = target["invoice-lines"].pop()
    removed_allocations = {a["id"] for a in removed["account-allocations"]}
    saved = coupa.control.replace_record("invoices", target)
    assert saved["updated-at"] != removed["updated-at"]

    second = run_tap(config, catalog=catalog, state=first.final_state)
    assert target["id"] in second.ids("invoices")
    load(con, second)

    # The warehouse still holds the removed line: upserts never delete.
    assert removed["id"] in ids(con, "select id from coupa.invoice_lines")
    current = coupa.control.records("invoices")
    truth_lines = {line["id"] for inv in current for line in inv["invoice-lines"]}
    truth_allocations = {
        a["id"]
        for inv in current
        for line in inv["invoice-lines"]
        for a in line["account-allocations"]
    }

    lines = ids(con, recipe("current-lines"))
    assert removed["id"] not in lines
    assert lines == truth_lines
    without_documents = ids(con, recipe("current-lines-without-documents"))
    assert without_documents == truth_lines

    # The same join for allocations, with the table swapped as the docs say.
    allocations = ids(
        con, recipe("current-lines").replace("invoice_lines", "invoice_line_allocations")
    )
    assert removed_allocations
    assert not allocations & removed_allocations
    assert allocations == truth_allocations
