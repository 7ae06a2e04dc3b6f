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
#: The queries, a script run by target-duckdb's venv Python (Meltano installed duckdb 1.2.2
#: there), so .venv needs no duckdb and the file is always read by the version that wrote it.
QUERIES = Path(__file__).with_name("duckdb_queries.py")


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
    counts: dict[str, int] = loader_query("counts", db, "the DuckDB file")
    return counts


def loader_query(command: str, db: Path, what: str, *args: str) -> Any:
    """What `duckdb_queries.py COMMAND DB ARGS` prints as JSON, run by the loader's Python."""
    return _loader_json([str(QUERIES), command, str(db), *args], db, what)


def loader_json(script: str, db: Path, what: str) -> Any:
    """What `script` (Python source) prints as JSON, run on `db` by the loader venv's Python."""
    return _loader_json(["-c", script, str(db)], db, what)


def _loader_json(args: list[str], db: Path, what: str) -> Any:
    """Run the loader venv's Python with `args`; its stdout as JSON, or a TaskError."""
    result = subprocess.run(  # noqa: S603 - the loader venv's interpreter, our own script
        [str(loader_python()), *args],
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


def changed_rows(db: Path, since: str) -> dict[str, int]:
    """Rows per table updated at or after `since` (UTC, `YYYY-MM-DD HH:MM:SS`)."""
    counts: dict[str, int] = loader_query("changed", db, "the DuckDB file", since)
    return counts


def max_id(db: Path, table: str) -> int:
    """The highest id of `table` in the demo database (0 without one)."""
    if not db.exists():
        return 0
    return int(loader_query("max-id", db, "the DuckDB file", SCHEMA, table))


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
    result = subprocess.run(  # noqa: S603 - the loader venv's interpreter, our own script
        [
            str(loader_python()),
            str(QUERIES),
            "sql",
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
