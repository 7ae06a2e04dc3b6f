"""Reading what a demo or dbt build left in DuckDB, with the loader venv's own duckdb.

The project's `.venv` has no duckdb of target-duckdb's version; the loader's venv does, so
queries run there in a subprocess and come back as JSON.
"""

# ruff: noqa: S603 - runs the loader venv's python with a fixed script

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import tasks

_SCRIPT = (
    "import duckdb, json, sys\n"
    "con = duckdb.connect(sys.argv[1], read_only=True)\n"
    "print(json.dumps([[None if v is None else str(v) for v in r] "
    "for r in con.execute(sys.argv[2]).fetchall()]))\n"
)


def query(db: Path, sql: str) -> list[list[str | None]]:
    """Rows of one query: values as text, NULL as None."""
    result = subprocess.run(
        [str(tasks.loader_python()), "-c", _SCRIPT, str(db), sql],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    rows: list[list[str | None]] = json.loads(result.stdout)
    return rows
