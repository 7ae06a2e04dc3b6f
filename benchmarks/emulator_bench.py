"""Throughput of the Coupa emulator: full 50-invoice pages from 8 concurrent clients.

Starts `python -m coupa_emulator --port 0 --scale 20000 --settle-seconds 0` as a subprocess,
then 8 threads (one requests.Session each, pages decoded with orjson) walk keyset pages
(`order_by=id&id[gt]=N&limit=50`)
for ~10 s, wrapping around at the end. Client and server share the machine's cores.

    .venv/bin/python benchmarks/emulator_bench.py [--seconds 10] [--threads 8] [--scale 20000]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import orjson
import requests

from coupa_emulator.launch import launch, module_command


def _token(base: str) -> str:
    response = requests.post(
        f"{base}/oauth2/token",
        data={"client_id": "demo", "client_secret": "demo-secret",
              "grant_type": "client_credentials", "scope": "core.invoice.read"},
        timeout=30,
    )  # fmt: skip
    response.raise_for_status()
    return str(response.json()["access_token"])


def _phase(
    base: str,
    headers: dict[str, str],
    threads: int,
    seconds: float | None,
    parse: bool,
    bounds: list[int],
) -> dict[str, float]:
    """Keyset-walk invoice pages from `threads` sessions; one pass if `seconds` is None."""
    latencies: list[float] = []
    counts = {"pages": 0, "records": 0, "bytes": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + (seconds or 3600.0)
    stride = len(bounds) // threads

    def worker(n: int) -> None:
        session = requests.Session()
        first, stop = bounds[n * stride], bounds[min(len(bounds) - 1, (n + 1) * stride)]
        last = first - 1
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            response = session.get(
                f"{base}/api/invoices",
                params={"order_by": "id", "id[gt]": last, "limit": 50},
                headers=headers,
                timeout=60,
            )
            body = response.content
            rows = orjson.loads(body) if parse else []
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                if response.status_code != 200:
                    counts["errors"] += 1
                    continue
                counts["pages"] += 1
                counts["records"] += len(rows) if parse else body.count(b'"invoice-number"')
                counts["bytes"] += len(body)
            last = rows[-1]["id"] if rows else last + 170
            if len(rows) < 50 or last >= stop:
                if seconds is None:
                    return
                last = first - 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.monotonic() - started
    latencies.sort()
    return {
        "seconds": wall,
        "pages/s": counts["pages"] / wall,
        "records/s": counts["records"] / wall,
        "MB/s": counts["bytes"] / wall / 1e6,
        "p50 ms": statistics.median(latencies) * 1000 if latencies else 0.0,
        "p95 ms": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000 if latencies else 0.0,
        "errors": counts["errors"],
    }


def _show(title: str, result: dict[str, float]) -> None:
    print(f"{title} ({result['seconds']:.1f} s, errors {result['errors']:.0f})")
    for key in ("pages/s", "records/s", "MB/s", "p50 ms", "p95 ms"):
        print(f"  {key:10s} {result[key]:9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--scale", type=int, default=20000)
    parser.add_argument("--no-parse", action="store_true", help="do not JSON-decode pages")
    args = parser.parse_args()

    emulator = launch(
        ["--port", "0", "--scale", str(args.scale), "--settle-seconds", "0"],
        command=module_command(),
    )
    base = emulator.base_url
    try:
        token = _token(base)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        ids = [r["id"] for r in requests.get(
            f"{base}/api/invoices", params={"fields": '["id"]', "order_by": "id", "limit": 1},
            headers=headers, timeout=30).json()]  # fmt: skip
        top = requests.get(
            f"{base}/api/invoices", params={"fields": '["id"]', "order_by": "id", "dir": "desc",
                                            "limit": 1},
            headers=headers, timeout=30).json()[0]["id"]  # fmt: skip
        step = max(1, (top - ids[0]) // (args.threads * 4))
        bounds = [*range(ids[0], top, step), top + 1]
        print(f"threads={args.threads} scale={args.scale} (client and server share the cores)")
        parse = not args.no_parse
        _show("cold: first pass, records generated on demand",
              _phase(base, headers, args.threads, None, parse, bounds))  # fmt: skip
        _show(f"warm: {args.seconds:.0f} s of full pages from the serialized-record cache",
              _phase(base, headers, args.threads, args.seconds, parse, bounds))  # fmt: skip
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
