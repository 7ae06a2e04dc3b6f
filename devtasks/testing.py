"""`python3 tasks.py test`: ruff, ruff format --check, mypy and pytest, as CI runs them."""

from __future__ import annotations

import argparse
from pathlib import Path

from devtasks.console import bin_path, run_live, say
from devtasks.paths import JUNIT, VENV
from devtasks.venv import ensure_venv


def cmd_test(args: argparse.Namespace) -> int:
    """Run ruff check, ruff format --check, mypy and pytest; non-zero if any fails."""
    python = ensure_venv(quiet=True)
    steps: list[tuple[str, list[str | Path]]] = [
        ("ruff check", [bin_path(VENV, "ruff"), "check", "."]),
        ("ruff format", [bin_path(VENV, "ruff"), "format", "--check", "."]),
        ("mypy", [bin_path(VENV, "mypy")]),
        ("mypy tasks", [bin_path(VENV, "mypy"), "tasks.py", "devtasks"]),
        ("pytest", [python, "-m", "pytest", f"--junitxml={JUNIT}", *pytest_args(args)]),
    ]
    JUNIT.unlink(missing_ok=True)
    results: list[tuple[str, int]] = []
    for name, cmd in steps:
        say(name)
        code = run_live(cmd)
        results.append((name, code))
    print()
    failed = False
    for name, code in results:
        if code == 0:
            status = "ok"
        elif name == "pytest" and code == 5:
            status = "FAILED (exit 5: no tests were collected)"
        else:
            status = f"FAILED (exit {code})"
        failed = failed or code != 0
        print(f"  {name:<14} {status}")
    passed, not_passed = junit_counts(JUNIT)
    if passed == 0:
        failed = True
    # The plain closing line CI reads: the test count, after everything else.
    print(f"tests: {passed} passed, {not_passed} failed")
    return 1 if failed else 0


#: The tiers `test --fast` leaves out: whole Meltano/dbt projects, wheels, Dagster, and tests
#: marked `slow` (long soaks, big data sets; pyproject.toml lists the markers).
SLOW_MARKERS = ("meltano", "packaging", "orchestrator", "dbt", "slow")


#: pytest-xdist workers. Most of the suite waits (on the emulator's latency, on Meltano, pip
#: and dbt subprocesses), so three workers keep two cores busy. `--dist loadfile` keeps a test
#: file on one worker, in order: its tests share module fixtures (a Meltano project, a dbt
#: build, a wheel), and the documented blocks build on the ones before them.
WORKERS = 3


def pytest_args(args: argparse.Namespace) -> list[str]:
    """The pytest arguments of `test`: parallel workers, the slowest tests named, `--fast`."""
    extra: list[str] = ["--durations=15"]
    if not chooses_workers(args.pytest_args):
        extra += ["-n", str(WORKERS), "--dist", "loadfile"]
    if args.fast:
        extra += ["-m", "not (" + " or ".join(SLOW_MARKERS) + ")"]
    return [*extra, *args.pytest_args]


def chooses_workers(pytest_args: list[str]) -> bool:
    """Whether the user's own pytest arguments set the workers, turn xdist off, or debug."""
    for arg in pytest_args:
        if arg.startswith(("-n", "--numprocesses", "--pdb", "--trace")) or "no:xdist" in arg:
            return True
    return False


def junit_counts(path: Path) -> tuple[int, int]:
    """(passed, failed or errored) from pytest's JUnit XML; (0, 0) when it wrote none."""
    import xml.etree.ElementTree as ET  # noqa: PLC0415 - only the test task needs it

    if not path.exists():
        return 0, 0
    root = ET.parse(path).getroot()  # noqa: S314 - our own pytest's report
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = sum(int(s.get("tests", 0)) for s in suites)
    bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
    skipped = sum(int(s.get("skipped", 0)) for s in suites)
    return total - bad - skipped, bad
