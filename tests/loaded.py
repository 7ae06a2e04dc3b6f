"""A private Meltano run into DuckDB, and reading what it left with the loader venv's duckdb.

The project's `.venv` has no duckdb of target-duckdb's version; the loader's venv does, so
queries run there in a subprocess and come back as JSON.
"""

# ruff: noqa: S603 - runs the loader venv's python with a fixed script

from __future__ import annotations

import json
import os
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


def meltano_env(
    tmp: Path, base_url: str, db: Path, *, drop: tuple[str, ...] = ()
) -> dict[str, str]:
    """This shell's environment for a private Meltano run against an emulator into `db`.

    Own system database and state backend under `tmp`; the emulator's demo client; none of
    the caller's TAP_COUPA_/MELTANO_ settings (nor those named in `drop`).
    """
    prefixes = ("TAP_COUPA_", "MELTANO_", *drop)
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(
        {
            "MELTANO_ENVIRONMENT": "dev",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DISABLE_TRACKING": "true",
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp / 'meltano.db'}",
            "MELTANO_STATE_BACKEND_URI": f"file://{tmp / 'state'}",
            "TAP_COUPA_BASE_URL": base_url,
            "TAP_COUPA_CLIENT_ID": tasks.DEMO_CLIENT_ID,
            "TAP_COUPA_CLIENT_SECRET": tasks.DEMO_CLIENT_SECRET,
            "TARGET_DUCKDB_FILEPATH": str(db),
        }
    )
    return env
