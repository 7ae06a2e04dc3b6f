"""Benchmark tap-coupa against the emulator (not a test): records/s, CPU per record, peak memory.

Compares the tap with a raw client floor (requests + orjson, the same keyset pages) in the same
run, so ratios are meaningful on a noisy shared machine. Usage:

    .venv/bin/python benchmarks/tap_bench.py --invoices 10000 --latency-ms 0 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from coupa_emulator.launch import console_script, launch

BIN = Path(sys.executable).parent


MEASURE = (
    "import resource, subprocess, sys\n"
    "DEVNULL = subprocess.DEVNULL\n"
    "subprocess.run(sys.argv[1:], stdout=DEVNULL, stderr=DEVNULL, check=True)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and peak RSS (KiB) of one command (measured in a wrapper)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, check=True, env=env
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, int(out.stdout.strip())


RAW_CLIENT = r"""
import sys, requests, orjson
base = sys.argv[1]
s = requests.Session()
tok = s.post(base + "/oauth2/token", data={"grant_type": "client_credentials", "client_id": "demo",
             "client_secret": "demo-secret", "scope": "core.invoice.read"}).json()["access_token"]
s.headers.update({"Authorization": "Bearer " + tok, "Accept": "application/json"})
after, out = 0, sys.stdout.buffer
while True:
    params = {"order_by": "id", "dir": "asc", "limit": 50, "id[gt]": after}
    page = orjson.loads(s.get(base + "/api/invoices", params=params).content)
    for rec in page:
        out.write(orjson.dumps({"type": "RECORD", "stream": "invoices", "record": rec}) + b"\n")
    if len(page) < 50:
        break
    after = page[-1]["id"]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=10000)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    emulator = launch(
        ["--port", "0", "--scale", str(args.invoices), "--settle-seconds", "0",
         "--latency-ms", str(args.latency_ms)],
        command=console_script(),
    )  # fmt: skip
    base_url = emulator.base_url
    try:
        work = Path(tempfile.mkdtemp())
        config = {
            "base_url": base_url,
            "client_id": "demo",
            "client_secret": "demo-secret",
            "token_settle_seconds": 0,
            "max_requests_per_second": 0,
        }
        (work / "config.json").write_text(json.dumps(config))
        catalog = json.loads(
            subprocess.run(
                [str(BIN / "tap-coupa"), "--config", str(work / "config.json"), "--discover"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for entry in catalog["streams"]:
            for item in entry["metadata"]:
                if not item["breadcrumb"]:
                    item["metadata"]["selected"] = entry["tap_stream_id"] == "invoices"
        (work / "catalog.json").write_text(json.dumps(catalog))
        (work / "raw.py").write_text(RAW_CLIENT)

        variants = {
            "tap-coupa": [
                str(BIN / "tap-coupa"),
                "--config",
                str(work / "config.json"),
                "--catalog",
                str(work / "catalog.json"),
            ],
            "raw requests+orjson": [sys.executable, str(work / "raw.py"), base_url],
        }
        results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in variants}
        for _ in range(args.rounds):  # interleaved, so drift hits both alike
            for name, argv in variants.items():
                results[name].append(timed(argv, env={**os.environ, "LOGLEVEL": "WARNING"}))
    finally:
        emulator.stop()

    n = args.invoices
    print(f"{n} invoices, latency {args.latency_ms} ms, {args.rounds} rounds (median)")
    print(f"{'variant':24} {'rec/s':>8} {'wall s':>8} {'CPU µs/rec':>11} {'peak RSS MiB':>13}")
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        rss = max(r[2] for r in runs) / 1024
        print(f"{name:24} {n / wall:8.0f} {wall:8.2f} {cpu / n * 1e6:11.0f} {rss:13.0f}")


if __name__ == "__main__":
    main()
