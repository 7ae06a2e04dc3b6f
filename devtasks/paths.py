"""Where the task runner keeps things: the repository, its virtualenvs, output and logs."""

from __future__ import annotations

from pathlib import Path

MIN_PYTHON = (3, 11)
ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
CONSTRAINTS = ROOT / "constraints.txt"
STAMP = VENV / ".tasks-install-stamp"
OUTPUT = ROOT / "output"
LOGS = OUTPUT / "logs"
JUNIT = OUTPUT / "pytest-junit.xml"
DEMO_DB = OUTPUT / "demo.duckdb"
LOADER_VENV = ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv"
