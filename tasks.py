#!/usr/bin/env python3
"""The project's task runner: stdlib only, so it works on a fresh machine with Python 3.11+.

    python3 tasks.py demo                      # emulator -> tap-coupa -> target-duckdb, row counts
    python3 tasks.py demo --changes 5          # edit/add 5 invoices first: an incremental load
    python3 tasks.py sql "select count(*) from invoices"
    python3 tasks.py test                      # ruff, ruff format, mypy, pytest
    python3 tasks.py test --fast               # the same without the slow tiers (the inner loop)
    python3 tasks.py setup                     # only create/refresh .venv (and .venv-orchestrator)
    python3 tasks.py freeze                    # rewrite constraints.txt from .venv
    python3 tasks.py hub                       # meltano-hub/ plugin definitions from --about
    python3 tasks.py orchestrator              # Dagster venv for examples/multi-tenant

Every task first makes sure `.venv` exists and holds the project with the pins from
`constraints.txt` (it reinstalls when pyproject.toml or constraints.txt change). The tasks live
in the `devtasks` package, one module each; this file checks the Python and dispatches.
"""

# ruff: noqa: E402 - the package is imported after the Python check and the sys.path line

from __future__ import annotations

import os
import sys

if sys.version_info < (3, 11):  # noqa: UP036 - run by any python3, before the package imports
    print(
        f"tasks.py needs Python 3.11 or newer; this is {sys.version.split()[0]}. Run it with a "
        "newer interpreter, e.g. `python3.11 tasks.py ...`.",
        file=sys.stderr,
    )
    sys.exit(2)

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:  # `python3 -P tasks.py` / PYTHONSAFEPATH: the package is beside us
    sys.path.insert(0, _HERE)

# The names tests import from `tasks` (tests/loaded.py, tests/test_*.py), re-exported;
# `tasks.sys` too (tests/test_meltano_demo.py runs `tasks.sys.executable`).
from devtasks.cli import main
from devtasks.console import bin_path, paragraph, tail
from devtasks.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, emulator_changes
from devtasks.hub import HUB_DIR, HUB_VARIANT, hub_files, plugin_about
from devtasks.meltano import TRANSFORMER, records_read, watch
from devtasks.orchestrator import (
    MAX_ORCHESTRATOR_PYTHON,
    MULTI_TENANT,
    ORCHESTRATOR_VENV,
    TENANT_SCOPES,
    TENANT_STREAMS,
    TENANTS,
    ensure_orchestrator_venv,
    multi_tenant_env,
    multi_tenant_run,
    tenant_given_secret,
    tenant_output,
    tenant_secret,
)
from devtasks.paths import CONSTRAINTS, ROOT, STAMP, VENV
from devtasks.warehouse import (
    SCHEMA,
    SQL_MAX_ROWS,
    loader_json,
    loader_python,
    max_id,
    table_counts,
)

__all__ = [
    "CONSTRAINTS",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "HUB_DIR",
    "HUB_VARIANT",
    "MAX_ORCHESTRATOR_PYTHON",
    "MULTI_TENANT",
    "ORCHESTRATOR_VENV",
    "ROOT",
    "SCHEMA",
    "SQL_MAX_ROWS",
    "STAMP",
    "TENANTS",
    "TENANT_SCOPES",
    "TENANT_STREAMS",
    "TRANSFORMER",
    "VENV",
    "bin_path",
    "emulator_changes",
    "ensure_orchestrator_venv",
    "hub_files",
    "loader_json",
    "loader_python",
    "main",
    "max_id",
    "multi_tenant_env",
    "multi_tenant_run",
    "paragraph",
    "plugin_about",
    "records_read",
    "table_counts",
    "tail",
    "tenant_given_secret",
    "tenant_output",
    "tenant_secret",
    "watch",
]

if __name__ == "__main__":
    sys.exit(main())
