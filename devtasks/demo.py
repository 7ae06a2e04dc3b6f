"""`python3 tasks.py demo`: emulator -> Meltano -> DuckDB -> dbt marts, then what was loaded."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from devtasks.console import TaskError, paragraph, say
from devtasks.emulator import Emulator, emulator_changes
from devtasks.marts import build_marts, mart_summary, print_marts
from devtasks.meltano import EXTRACTOR, LOADER, TRANSFORMER, meltano, meltano_env, records_read
from devtasks.paths import DEMO_DB, LOGS
from devtasks.venv import ensure_venv
from devtasks.warehouse import EXAMPLE_QUERIES, SCHEMA, changed_rows, demo_db, max_id, table_counts

#: duckdb 1.2.2 (pinned for target-duckdb, see docs/meltano.md) ships wheels up to CPython 3.13.
MAX_DEMO_PYTHON = (3, 13)


def previous_params(path: Path) -> dict[str, int] | None:
    """The emulator seed and scale of the last demo load into this database, if recorded."""
    try:
        loaded: dict[str, int] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded


def print_counts(
    before: Mapping[str, int],
    after: Mapping[str, int],
    changed: Mapping[str, int] | None = None,
) -> None:
    """The row-count table the demo ends with (`changed`: rows updated at or after the run)."""
    if not after:
        print("The database has no tables.")
        return
    width = max(len(name) for name in after)
    extra = f"  {'updated':>7}" if changed is not None else ""
    print(f"\n{'table'.ljust(width)}  {'rows':>8}  {'new':>6}{extra}")
    print(f"{'-' * width}  {'-' * 8}  {'-' * 6}" + (f"  {'-' * 7}" if extra else ""))
    totals = [0, 0, 0]
    for name, rows in sorted(after.items()):
        new = rows - before.get(name, 0)
        line = f"{name.ljust(width)}  {rows:>8}  {new:>+6}"
        if changed is not None:
            updated = max(0, changed.get(name, 0) - new)
            line += f"  {updated:>7}"
            totals[2] += updated
        totals[0] += rows
        totals[1] += new
        print(line)
    tail = f"  {totals[2]:>7}" if changed is not None else ""
    print(f"{'total'.ljust(width)}  {totals[0]:>8}  {totals[1]:>+6}{tail}")


def cmd_demo(args: argparse.Namespace) -> int:
    """Emulator -> `meltano run tap-coupa target-duckdb` -> row counts."""
    if sys.version_info[:2] > MAX_DEMO_PYTHON:
        raise TaskError(
            paragraph(
                f"The demo loads into DuckDB with target-duckdb 0.8.0 and duckdb 1.2.2 (newer "
                "duckdb silently drops rows with that loader), and duckdb 1.2.2 has no wheel "
                f"for Python {sys.version_info[0]}.{sys.version_info[1]}. Run the demo with "
                "Python 3.11, 3.12 or 3.13, e.g. `python3.13 tasks.py demo` (delete .venv "
                "first if it was made with another Python)."
            )
        )
    ensure_venv()
    db = demo_db()
    db.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if args.fresh:
        for path in (db, db.with_name(db.name + ".wal")):
            path.unlink(missing_ok=True)
        say(f"Deleted {db}; this run is a full load")

    say(f"Installing the Meltano plugins {EXTRACTOR}, {LOADER} and {TRANSFORMER} (into .meltano/)")
    meltano(
        ["install", EXTRACTOR, LOADER, TRANSFORMER],
        LOGS / "meltano-install.log",
        meltano_env(""),
        "Installing the Meltano plugins",
    )
    before = table_counts(db)
    full_refresh = args.full_refresh or args.fresh
    params_file = db.with_name(db.name + ".demo.json")
    params = {"seed": args.seed, "scale": args.scale}
    if not full_refresh and not any(before.values()):
        say("The database is empty, so this run ignores saved state (a full load)")
        full_refresh = True
    elif not full_refresh and previous_params(params_file) not in (None, params):
        say(
            f"The emulator data changed since the last load ({previous_params(params_file)} -> "
            f"{params}); this run is a full load. Rows of the old data stay: add --fresh to "
            "start from an empty database."
        )
        full_refresh = True

    emulator_args = ["--port", "0", "--seed", str(args.seed), "--scale", str(args.scale)]
    emulator_args += ["--settle-seconds", "1"]
    with Emulator(emulator_args, LOGS / "emulator.log") as emulator:
        say(f"Starting the Coupa emulator (seed {args.seed}, scale {args.scale})")
        base_url = emulator.start()
        say(f"Emulator listening on {base_url}")
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        if args.changes:
            emulator_changes(base_url, args.changes, ids_above=max_id(db, "invoices"))
            say(
                f"In the emulator: {args.changes} invoices edited and {args.changes} added "
                "(control API, applied at the run's first request)"
            )
        run_args = ["run", EXTRACTOR, LOADER]
        if full_refresh:
            run_args.append("--full-refresh")
        say(f"meltano {' '.join(run_args)}  (log: {LOGS / 'meltano-run.log'})")
        meltano(
            run_args,
            LOGS / "meltano-run.log",
            meltano_env(base_url, {"TARGET_DUCKDB_FILEPATH": str(db)}),
            "The Meltano pipeline",
            live=True,
        )
    say("Emulator stopped")
    params_file.write_text(json.dumps(params) + "\n")
    marts_before = build_marts(db, full_refresh=full_refresh)

    after = table_counts(db)
    print_counts(before, after, changed_rows(db, since) if args.changes else None)
    read = records_read(LOGS / "meltano-run.log")
    if read is not None:
        print(
            "\n"
            + paragraph(
                f"tap-coupa read {read} records this run (an incremental run re-reads the "
                "records at each stream's bookmark; target-duckdb upserts by id, so they are "
                "not duplicated)."
            )
        )
    print(
        f"\nLoaded into {db} (schema {SCHEMA}; marts in schema analytics) in "
        f"{time.monotonic() - started:.0f} s. Query it with SQL:\n"
    )
    command = "python3 tasks.py sql" + ("" if db == DEMO_DB else f" --db {db}")
    for query in EXAMPLE_QUERIES:
        print(f"    {command} {query}")
    print_marts(marts_before, mart_summary(db), changes=bool(args.changes))
    return 0
