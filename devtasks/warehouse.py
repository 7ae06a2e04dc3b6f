"""The demo's DuckDB file, read by target-duckdb's own Python (its duckdb pin): counts and SQL."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from devtasks.console import TaskError, bin_path, paragraph
from devtasks.paths import DEMO_DB, LOADER_VENV

SCHEMA = "coupa"
#: Runs inside target-duckdb's own venv (Meltano installed duckdb 1.2.2 there), so .venv
#: needs no duckdb and the file is always read by the duckdb version that wrote it.
COUNT_SCRIPT = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.execute(
    "select table_catalog, table_schema, table_name from information_schema.tables "
    "where table_type = 'BASE TABLE' and table_catalog = current_database() "
    "and table_schema not in ('staging', 'analytics') order by 2, 3"
).fetchall()
counts = {}
for parts in rows:
    quoted = ".".join('"' + p.replace('"', '""') + '"' for p in parts)
    counts[parts[1] + "." + parts[2]] = con.execute("select count(*) from " + quoted).fetchone()[0]
print(json.dumps(counts))
"""
SQL_SCRIPT = """
import sys
import duckdb
path, schema, query, max_rows, max_width = sys.argv[1:6]
max_rows, max_width = int(max_rows), int(max_width)
try:
    con = duckdb.connect(path, read_only=True)
    if con.execute(
        "select count(*) from information_schema.schemata where schema_name = ?", [schema]
    ).fetchone()[0]:
        db = con.execute("select current_database()").fetchone()[0]
        con.execute("set search_path = '%s.%s,%s.main'" % (db, schema, db))
    cur = con.execute(query)
except duckdb.Error as exc:
    print(str(exc).strip(), file=sys.stderr)
    sys.exit(3)
if cur.description is None:
    print("OK")
    sys.exit(0)
names = [d[0] for d in cur.description]
rows = cur.fetchall()
total = len(rows)
if max_rows > 0:
    rows = rows[:max_rows]
def cell(v):
    s = "NULL" if v is None else str(v)
    s = s.replace("\\n", " ")
    return s if max_width <= 0 or len(s) <= max_width else s[: max_width - 1] + "~"
table = [[cell(n) for n in names]] + [[cell(v) for v in row] for row in rows]
widths = [max(len(r[i]) for r in table) for i in range(len(names))]
line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
print(line(table[0]))
print("  ".join("-" * w for w in widths))
for r in table[1:]:
    print(line(r))
plural = "" if total == 1 else "s"
if len(rows) < total:
    print("(%d of %d rows shown; add --max-rows 0 to print all %d)" % (len(rows), total, total))
else:
    print("(%d row%s)" % (total, plural))
"""
EXAMPLE_QUERIES = (
    '"select count(*) from invoices"',
    '"select \\"invoice-number\\", status, supplier->>\'name\' from invoices limit 5"',
)
QUERY_NOTES = (
    'Column names keep Coupa\'s hyphens, so quote them: "invoice-number". Nested objects and\n'
    "arrays are JSON columns (supplier->>'name'). Run the demo again to load incrementally;\n"
    "add --full-refresh to re-read everything."
)
QUERY_HINT = (
    'Hint: tables live in schema "coupa" (unqualified names work); quote hyphenated columns '
    'like "invoice-number"; list the tables with "show tables".'
)


def loader_python() -> Path:
    """target-duckdb's venv interpreter (it has the pinned duckdb)."""
    python = bin_path(LOADER_VENV, "python")
    if not python.exists():
        raise TaskError(
            paragraph(
                f"DuckDB is not installed yet ({python} is missing): Meltano installs it with "
                "the target-duckdb loader. Run `python3 tasks.py demo` first."
            )
        )
    return python


def table_counts(db: Path) -> dict[str, int]:
    """Rows per table in the DuckDB file."""
    if not db.exists():
        return {}
    counts: dict[str, int] = loader_json(COUNT_SCRIPT, db, "the DuckDB file")
    return counts


def loader_json(script: str, db: Path, what: str) -> Any:
    """What `script` prints as JSON, run on `db` by the loader venv's Python (its duckdb pin)."""
    result = subprocess.run(  # noqa: S603 - the loader venv's interpreter, a fixed script
        [str(loader_python()), "-c", script, str(db)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise TaskError(paragraph(f"Could not read {what} {db}: {result.stderr.strip()[-600:]}"))
    return json.loads(result.stdout)


def demo_db() -> Path:
    """The demo database (TARGET_DUCKDB_FILEPATH overrides meltano.yml, as it does for Meltano)."""
    override = os.environ.get("TARGET_DUCKDB_FILEPATH")
    return Path(override).expanduser().resolve() if override else DEMO_DB


#: Rows per table whose `updated-at` is at or after a UTC instant (what a run changed).
CHANGED_SCRIPT = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
rows = con.execute(
    "select table_schema, table_name from information_schema.columns "
    "where column_name = 'updated-at' and table_catalog = current_database()"
).fetchall()
counts = {}
for schema, table in rows:
    quoted = '"%s"."%s"' % (schema.replace('"', '""'), table.replace('"', '""'))
    query = 'select count(*) from ' + quoted + ' where "updated-at" >= cast(? as timestamp)'
    counts[schema + "." + table] = con.execute(query, [sys.argv[2]]).fetchone()[0]
print(json.dumps(counts))
"""


def changed_rows(db: Path, since: str) -> dict[str, int]:
    """Rows per table updated at or after `since` (UTC, `YYYY-MM-DD HH:MM:SS`)."""
    result = subprocess.run(  # noqa: S603 - the loader venv's interpreter, a fixed script
        [str(loader_python()), "-c", CHANGED_SCRIPT, str(db), since],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise TaskError(paragraph(f"Could not read {db}: {result.stderr.strip()[-600:]}"))
    counts: dict[str, int] = json.loads(result.stdout)
    return counts


MAX_ID_SCRIPT = """
import sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
found = con.execute(
    "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
    [sys.argv[2], sys.argv[3]],
).fetchone()[0]
query = 'select max(cast(id as bigint)) from "%s"."%s"' % (sys.argv[2], sys.argv[3])
print((con.execute(query).fetchone()[0] if found else None) or 0)
"""


def max_id(db: Path, table: str) -> int:
    """The highest id of `table` in the demo database (0 without one)."""
    if not db.exists():
        return 0
    result = subprocess.run(  # noqa: S603 - the loader venv's interpreter, a fixed script
        [str(loader_python()), "-c", MAX_ID_SCRIPT, str(db), SCHEMA, table],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise TaskError(paragraph(f"Could not read {db}: {result.stderr.strip()[-600:]}"))
    return int(result.stdout.strip())


#: Statements that list the database's own structure: every row is printed (76 tables).
LISTING_STATEMENT = re.compile(r"^\s*(?:show|describe|summarize)\b", re.IGNORECASE)
SQL_MAX_ROWS = 50


def sql_max_rows(query: str, given: int | None) -> int:
    """`--max-rows` as given; by default 50, or all rows for `show tables` and the like."""
    if given is not None:
        return given
    return 0 if LISTING_STATEMENT.match(query) else SQL_MAX_ROWS


def cmd_sql(args: argparse.Namespace) -> int:
    """Run one SQL statement against the demo database (read-only) and print the result."""
    db = Path(args.db).expanduser().resolve() if args.db else demo_db()
    if not db.exists():
        raise TaskError(
            paragraph(f"There is no database at {db} yet. Run `python3 tasks.py demo` first.")
        )
    result = subprocess.run(  # noqa: S603 - the loader venv's interpreter, a fixed script
        [
            str(loader_python()),
            "-c",
            SQL_SCRIPT,
            str(db),
            SCHEMA,
            args.query,
            str(sql_max_rows(args.query, args.max_rows)),
            str(args.max_width),
        ],
        text=True,
        capture_output=True,
        check=False,
    )
    sys.stdout.write(result.stdout)
    if result.returncode:
        raise TaskError(
            paragraph(f"DuckDB could not run the query: {result.stderr.strip()[-800:]}")
            + "\n\n"
            + paragraph(QUERY_HINT)
        )
    return 0
