"""The demo's queries on its DuckDB file, run by target-duckdb's own Python, not by `.venv`'s.

Meltano installs duckdb 1.2.2 into the loader's venv (docs/meltano.md), so `.venv` needs no
duckdb and the file is always read by the duckdb version that wrote it. `warehouse.py` runs
this file as a script, `python duckdb_queries.py COMMAND DB [ARGS]`; it imports nothing of the
project. Every command opens the file read-only and prints JSON, except `sql`, which prints a
table.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import duckdb  # type: ignore[import-not-found, unused-ignore]  # the loader venv's, not .venv's


def quoted(*parts: str) -> str:
    """`"schema"."table"`, each part quoted for DuckDB."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def counts(con: Any) -> dict[str, int]:
    """Rows per loaded table (`schema.table`), the dbt schemas left out."""
    rows = con.execute(
        "select table_catalog, table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and table_catalog = current_database() "
        "and table_schema not in ('staging', 'analytics') order by 2, 3"
    ).fetchall()
    found: dict[str, int] = {}
    for catalog, schema, table in rows:
        query = f"select count(*) from {quoted(catalog, schema, table)}"  # noqa: S608 - quoted
        found[f"{schema}.{table}"] = con.execute(query).fetchone()[0]
    return found


def changed(con: Any, since: str) -> dict[str, int]:
    """Rows per table whose `updated-at` is at or after a UTC instant (what a run changed)."""
    rows = con.execute(
        "select table_schema, table_name from information_schema.columns "
        "where column_name = 'updated-at' and table_catalog = current_database()"
    ).fetchall()
    found: dict[str, int] = {}
    for schema, table in rows:
        since_filter = 'where "updated-at" >= cast(? as timestamp)'
        query = f"select count(*) from {quoted(schema, table)} {since_filter}"  # noqa: S608
        found[f"{schema}.{table}"] = con.execute(query, [since]).fetchone()[0]
    return found


def max_id(con: Any, schema: str, table: str) -> int:
    """The highest id of one table, 0 without the table or its rows."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()[0]
    if not exists:
        return 0
    query = f"select max(cast(id as bigint)) from {quoted(schema, table)}"  # noqa: S608
    return int(con.execute(query).fetchone()[0] or 0)


def marts(con: Any) -> dict[str, Any]:
    """What the demo prints about the dbt marts (transform/, docs/analytics.md); {} before."""
    names = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'analytics'"
        ).fetchall()
    }
    out: dict[str, Any] = {}
    if {"fct_spend", "dim_suppliers", "fct_procure_to_pay"} <= names:
        out["spend_rows"], out["spend_total"], out["currency"] = con.execute(
            "select count(*), cast(coalesce(sum(amount_reporting), 0) as varchar), "
            "coalesce(max(reporting_currency_code), '') from analytics.fct_spend"
        ).fetchone()
        out["top"] = [
            [str(value) for value in row]
            for row in con.execute(
                "select coalesce(s.supplier_name, cast(f.supplier_id as varchar)), "
                "cast(sum(f.amount_reporting) as decimal(38, 2)), count(distinct f.invoice_id) "
                "from analytics.fct_spend f "
                "left join analytics.dim_suppliers s using (supplier_id) "
                "where f.invoice_status not in ('voided', 'abandoned') "
                "group by 1 order by sum(f.amount_reporting) desc nulls last limit 5"
            ).fetchall()
        ]
        out["p2p_median"], out["p2p_lines"] = con.execute(
            "select median(days_procure_to_pay), count(days_procure_to_pay) "
            "from analytics.fct_procure_to_pay"
        ).fetchone()
    if "fct_open_payables" in names:
        query = "select count(*) from analytics.fct_open_payables"
        out["open_payables"] = con.execute(query).fetchone()[0]
    return out


def sql(con: Any, schema: str, query: str, max_rows: int, max_width: int) -> int:
    """Run one statement (the demo's schema first on the search path) and print a table."""
    try:
        if con.execute(
            "select count(*) from information_schema.schemata where schema_name = ?", [schema]
        ).fetchone()[0]:
            db = con.execute("select current_database()").fetchone()[0]
            con.execute(f"set search_path = '{db}.{schema},{db}.main'")
        cur = con.execute(query)
    except duckdb.Error as exc:
        print(str(exc).strip(), file=sys.stderr)
        return 3
    if cur.description is None:
        print("OK")
        return 0
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    total = len(rows)
    if max_rows > 0:
        rows = rows[:max_rows]

    def cell(value: object) -> str:
        text = "NULL" if value is None else str(value)
        text = text.replace("\n", " ")
        return text if max_width <= 0 or len(text) <= max_width else text[: max_width - 1] + "~"

    table = [[cell(n) for n in names]] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(names))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    print(line(table[0]))
    print("  ".join("-" * w for w in widths))
    for row_cells in table[1:]:
        print(line(row_cells))
    if len(rows) < total:
        print(f"({len(rows)} of {total} rows shown; add --max-rows 0 to print all {total})")
    else:
        print(f"({total} row{'' if total == 1 else 's'})")
    return 0


def main(argv: Sequence[str]) -> int:
    """`COMMAND DB [ARGS]`: counts | changed SINCE | max-id SCHEMA TABLE | marts | sql ..."""
    command, path, *args = argv
    try:
        con = duckdb.connect(path, read_only=True)
    except duckdb.Error as exc:
        print(str(exc).strip(), file=sys.stderr)
        return 3
    if command == "sql":
        schema, query, max_rows, max_width = args
        return sql(con, schema, query, int(max_rows), int(max_width))
    results: dict[str, Any] = {
        "counts": lambda: counts(con),
        "changed": lambda: changed(con, *args),
        "max-id": lambda: max_id(con, *args),
        "marts": lambda: marts(con),
    }
    print(json.dumps(results[command](), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
