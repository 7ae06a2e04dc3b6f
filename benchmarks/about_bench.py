"""Startup cost of `tap-coupa --about`, side by side with `python -c "import requests"`.

Issue 16's target: `--about` at most 3x `import requests`. Interleaved runs, medians of wall
time; with `--instructions`, also instructions executed (valgrind callgrind, one run each),
which a loaded shared machine does not disturb. `--before DIR` adds another checkout (for
example `git archive main | tar -x -C DIR`) measured the same way. Usage:

    .venv/bin/python benchmarks/about_bench.py --runs 15 --instructions [--before DIR]

Sources are byte-compiled first, as an install would have them (a checkout run with
PYTHONDONTWRITEBYTECODE set would otherwise recompile them on every start).
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BASE = "import requests"


def commands(before: Path | None) -> dict[str, tuple[list[str], Path]]:
    """Label -> (argv, checkout on PYTHONPATH)."""
    about = [sys.executable, str(BIN / "tap-coupa"), "--about"]
    cmds = {
        BASE: ([sys.executable, "-c", "import requests"], ROOT),
        "import singer_sdk": ([sys.executable, "-c", "import singer_sdk"], ROOT),
    }
    if before is not None:
        cmds["tap-coupa --about (before)"] = (about, before)
    cmds["tap-coupa --about"] = (about, ROOT)
    return cmds


def environment(tree: Path) -> dict[str, str]:
    """PYTHONPATH on the checkout; a fixed hash seed so instruction counts repeat."""
    return {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}


def wall(argv: list[str], tree: Path) -> float:
    """Seconds for one run."""
    start = time.perf_counter()
    subprocess.run(argv, env=environment(tree), cwd=tree, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def instructions(argv: list[str], tree: Path) -> int:
    """Instructions executed by one run, counted by valgrind callgrind."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        env=environment(tree),
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
        timeout=600,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        sys.exit("valgrind printed no instruction count; run without --instructions.")
    return int(found.group(1))


def main() -> None:
    """Measure, then print one table of medians and ratios to `import requests`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="wall-time runs of each (15)")
    parser.add_argument("--instructions", action="store_true", help="also count instructions")
    parser.add_argument("--before", type=Path, help="another checkout to measure beside this")
    args = parser.parse_args()
    before = args.before.resolve() if args.before else None
    if before is not None and not (before / "tap_coupa").is_dir():
        sys.exit(f"--before {before}: no tap_coupa package there; give a checkout's root.")
    if args.instructions and shutil.which("valgrind") is None:
        sys.exit("--instructions needs valgrind on PATH; install it or leave the flag out.")
    for tree in [ROOT] if before is None else [ROOT, before]:
        for package in ("tap_coupa", "coupa_api"):
            compileall.compile_dir(tree / package, quiet=1)
    cmds = commands(before)
    for argv, tree in cmds.values():
        wall(argv, tree)  # warm the page cache
    times: dict[str, list[float]] = {label: [] for label in cmds}
    for _ in range(max(1, args.runs)):
        for label, (argv, tree) in cmds.items():
            times[label].append(wall(argv, tree))
    medians = {label: statistics.median(values) for label, values in times.items()}
    counts = {label: instructions(*cmd) for label, cmd in cmds.items()} if args.instructions else {}
    print(f"{'':28s} {'wall median':>12s} {'ratio':>6s}" + ("  instructions  ratio" * bool(counts)))
    for label in cmds:
        line = f"{label:28s} {medians[label] * 1000:9.1f} ms {medians[label] / medians[BASE]:5.2f}x"
        if counts:
            line += f" {counts[label] / 1e6:10.1f} M {counts[label] / counts[BASE]:5.2f}x"
        print(line)
    print(f"({args.runs} interleaved runs each; ratios are to `{BASE}`; target: --about <= 3x)")


if __name__ == "__main__":
    main()
