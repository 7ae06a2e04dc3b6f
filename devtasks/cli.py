"""The command line of `python3 tasks.py`: one subcommand per task module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from devtasks.console import TaskError, paragraph, say
from devtasks.demo import cmd_demo
from devtasks.hub import cmd_hub
from devtasks.orchestrator import (
    MAX_ORCHESTRATOR_PYTHON,
    cmd_multi_tenant,
    cmd_orchestrator,
    ensure_orchestrator_venv,
)
from devtasks.paths import MIN_PYTHON, VENV
from devtasks.testing import SLOW_MARKERS, cmd_test
from devtasks.venv import cmd_freeze, ensure_venv
from devtasks.warehouse import cmd_sql


def cmd_setup(_: argparse.Namespace) -> int:
    """Create or refresh .venv, and .venv-orchestrator where dagster-meltano runs."""
    ensure_venv()
    say(f"Ready: {VENV}")
    if sys.version_info[:2] <= MAX_ORCHESTRATOR_PYTHON:
        say(f"Ready: {ensure_orchestrator_venv()}")
    return 0


def non_negative(text: str) -> int:
    """An argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        msg = f"expected a whole number, 0 or more, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python3 tasks.py",
        description="Task runner for tap-coupa / target-coupa.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="emulator -> tap-coupa -> target-duckdb, then row counts")
    demo.add_argument(
        "--scale", type=non_negative, default=500, help="emulated invoices (default 500)"
    )
    demo.add_argument("--seed", type=int, default=7, help="emulator data seed (default 7)")
    demo.add_argument(
        "--full-refresh", action="store_true", help="ignore saved state and re-read everything"
    )
    demo.add_argument(
        "--fresh", action="store_true", help="delete the database first, then load everything"
    )
    demo.add_argument(
        "--changes",
        type=non_negative,
        default=0,
        metavar="N",
        help="before loading, edit N invoices and add N new ones in the emulator (as users "
        "working in Coupa since the last load would), then show what the run added and updated",
    )
    demo.set_defaults(func=cmd_demo)

    sql = sub.add_parser("sql", help="run a read-only SQL query against the demo database")
    sql.add_argument("query", help='e.g. "select count(*) from invoices"')
    sql.add_argument("--db", help="DuckDB file (default output/demo.duckdb)")
    sql.add_argument(
        "--max-rows",
        type=non_negative,
        default=None,
        help="rows to print, 0 = all (default 50; all for show/describe)",
    )
    sql.add_argument(
        "--max-width", type=int, default=60, help="characters per cell, 0 = no limit (default 60)"
    )
    sql.set_defaults(func=cmd_sql)

    test = sub.add_parser(
        "test",
        help="ruff check, ruff format --check, mypy, pytest (extra arguments go to pytest)",
    )
    test.add_argument(
        "--fast",
        action="store_true",
        help="leave out the slow tiers (" + ", ".join(SLOW_MARKERS) + "): the inner loop",
    )
    test.set_defaults(func=cmd_test, pytest_args=[])

    setup = sub.add_parser("setup", help="create or refresh .venv")
    setup.set_defaults(func=cmd_setup)

    freeze = sub.add_parser("freeze", help="rewrite constraints.txt from .venv")
    freeze.set_defaults(func=cmd_freeze)

    hub = sub.add_parser("hub", help="generate meltano-hub/ plugin definitions from --about")
    hub.add_argument("--check", action="store_true", help="fail if the files are out of date")
    hub.set_defaults(func=cmd_hub)

    orchestrator = sub.add_parser(
        "orchestrator", help="create .venv-orchestrator (Dagster) for examples/multi-tenant"
    )
    orchestrator.set_defaults(func=cmd_orchestrator)
    multi = sub.add_parser(
        "multi-tenant",
        help="examples/multi-tenant end to end: three emulators, one Dagster job per tenant",
    )
    multi.set_defaults(func=cmd_multi_tenant)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run one command, turning expected failures into one paragraph."""
    if sys.version_info < MIN_PYTHON:
        print(
            paragraph(
                f"tasks.py needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; this is "
                f"{sys.version.split()[0]}. Run it with a newer interpreter, e.g. "
                "`python3.11 tasks.py ...`."
            ),
            file=sys.stderr,
        )
        return 2
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra
    try:
        code: int = args.func(args)
    except TaskError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    return code
