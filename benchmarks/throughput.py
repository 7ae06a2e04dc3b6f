"""tap-coupa and target-coupa side by side with peers at Coupa's rate limit (a benchmark, no test).

One invocation, one emulator (150 ms per request, 25 requests/s with a burst of 20, 429 without
Retry-After, like Coupa; 20,000 invoices):

    .venv/bin/python benchmarks/throughput.py
    .venv/bin/python benchmarks/throughput.py --invoices 20000 --latency-ms 150 --rate 25 \\
        --burst 20 --sweep 2,3,5,8,10 --grow 80000 --target-invoices 500 --rounds 1
    .venv/bin/python benchmarks/throughput.py --backfill 200000      # the long backfill only

Reads, each a subprocess whose stdout is counted and whose ids are checked against the
emulator's ground truth (exact / N duplicated / N missing):
  - tap-coupa with default settings (`tap-coupa --config ... --catalog ...`, `invoices` selected);
  - a sequential keyset loop (requests + orjson, order_by=id, id[gt]);
  - coupa-async-client 0.1.0 (PyPI, the `bench` extra) at its default concurrency and a sweep;
  - an ideal concurrent keyset reader (8 id-range partitions, one token bucket).
Then CPU per record at 0 ms latency (the tap against the raw keyset loop over the same pages),
the tap's peak memory as the data grows (--invoices vs --grow), the instructions the tap and the
raw loop execute for the same read under valgrind (repeatable where CPU seconds are not;
`--no-instructions` skips it), and the target: target-coupa
(defaults) against a one-at-a-time look-up-then-create loop, N invoices at the same latency and
limit, with the emulator's invoices checked afterwards. `--backfill N` runs only the tap over N
invoices at the limit and reports time, the tap's peak RSS and the emulator's RSS.

The tap's own packages are byte-compiled first (`__pycache__` beside the sources, as `pip
install` leaves an installed package): from an editable checkout run with
PYTHONDONTWRITEBYTECODE, every run would otherwise compile ~60 modules from source again
(~0.15 s of CPU, 15 us a record at 10,000 invoices) that no installed tap pays.

The settings every client gets are the emulator's, not tuning: its OAuth client (demo), and
`token_settle_seconds: 0` for the tap and target because this emulator's settle window is 0.
Results go to output/benchmarks/ as JSON and markdown (the README table is pasted from there).
Loopback only; every subprocess and request has a timeout. The machine's 2 cores are shared by
the emulator, the client and the harness, so numbers move by a few percent between runs;
the CPU of one run moves by a third, hence the median of 5 interleaved rounds.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import datetime as dt
import inspect
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import requests

from coupa_emulator.control import EmulatorControl
from coupa_emulator.launch import EmulatorStartError, launch

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PEERS = str(REPO / "benchmarks" / "peers.py")
OUTPUT = REPO / "output" / "benchmarks"
PAGE = 50
CHILD_ENV: dict[str, str] = dict(os.environ)  # --tap-src puts another source tree first


# ---- processes -------------------------------------------------------------------------------
@dataclass
class Child:
    """What one subprocess cost: wall and CPU seconds, peak RSS, exit code, output file."""

    wall: float
    cpu: float
    user: float
    system: float
    rss_mib: float
    rc: int
    out: Path
    err: Path


def run_child(
    argv: list[str],
    work: Path,
    name: str,
    *,
    timeout: float,
    stdin: Path | None = None,
    env: dict[str, str] | None = None,
) -> Child:
    """Run `argv` with stdout to a file; its own rusage (wait4), killed after `timeout` s."""
    out, err = work / f"{name}.out", work / f"{name}.err"
    with contextlib.ExitStack() as stack:
        fout = stack.enter_context(out.open("wb"))
        ferr = stack.enter_context(err.open("wb"))
        fin = stack.enter_context(stdin.open("rb")) if stdin else subprocess.DEVNULL
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=fin, stdout=fout, stderr=ferr, env=env or CHILD_ENV)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.send_signal(signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                status = -1
                break
            time.sleep(0.02)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status) if status != -1 else -9
    return Child(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        user=usage.ru_utime,
        system=usage.ru_stime,
        rss_mib=usage.ru_maxrss / 1024,
        rc=proc.returncode,
        out=out,
        err=err,
    )


def stderr_tail(child: Child, lines: int = 5) -> str:
    text = child.err.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return " | ".join(text[-lines:])


class Emulator:
    """`coupa-emulator` as a subprocess on a free loopback port, with its RSS readable."""

    def __init__(self, invoices: int, latency_ms: float, rate: float, burst: int) -> None:
        self.knobs = {"latency_ms": latency_ms, "rate_limit": rate, "burst": burst}
        try:
            self.proc = launch(
                ["--host", "127.0.0.1", "--port", "0", "--scale", str(invoices),
                 "--settle-seconds", "0", "--latency-ms", str(latency_ms),
                 "--rate-limit", str(rate), "--burst", str(burst)],
                command=[str(BIN / "coupa-emulator")], timeout=600,
            )  # fmt: skip
        except EmulatorStartError as exc:
            raise SystemExit(f"the emulator did not start: {exc}") from exc
        self.base = self.proc.base_url
        self.control = EmulatorControl(self.base, timeout=600)

    def status(self, key: str) -> float:
        """VmRSS / VmHWM of the emulator process, MiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
        return 0.0

    def fast(self) -> None:
        """No latency, no limit (set-up steps that are not measured)."""
        self.control.configure(latency_ms=0, rate_limit=None)

    def limited(self) -> None:
        """Back to the measured conditions; waits for the server's bucket to refill."""
        self.control.configure(**self.knobs)
        time.sleep(max(1.0, self.knobs["burst"] / self.knobs["rate_limit"] + 0.5))

    def counters(self) -> tuple[int, int]:
        """(/api/ requests, 429 answers) so far."""
        stats = self.control.stats()
        return int(stats["api_requests"]), int(stats["status_counts"].get("429", 0))

    def stop(self) -> None:
        self.proc.stop()


# ---- record sets -----------------------------------------------------------------------------
@dataclass
class RecordSet:
    """A client's output against the emulator's ids."""

    records: int
    duplicated: int
    missing: int
    unexpected: int

    @property
    def verdict(self) -> str:
        if not (self.duplicated or self.missing or self.unexpected):
            return "exact"
        parts = [f"{self.duplicated:,} duplicated", f"{self.missing:,} missing"]
        if self.unexpected:
            parts.append(f"{self.unexpected:,} unexpected")
        return ", ".join(parts)


def record_ids(path: Path, stream: str = "invoices") -> list[int]:
    """Ids of the RECORD messages of `stream` in a Singer output file."""
    ids: list[int] = []
    with path.open("rb") as handle:
        for line in handle:
            if b'"RECORD"' not in line:
                continue
            message = orjson.loads(line)
            if message.get("type") == "RECORD" and message.get("stream") == stream:
                ids.append(message["record"]["id"])
    return ids


def check(ids: list[int], truth: set[int]) -> RecordSet:
    got = set(ids)
    return RecordSet(len(ids), len(ids) - len(got), len(truth - got), len(got - truth))


# ---- set-up ----------------------------------------------------------------------------------
#: The packages the measured tap and target import from their source tree.
PACKAGES = ("coupa_api", "tap_coupa", "target_coupa")


def byte_compile(tree: Path) -> None:
    """Write the bytecode of the tap's packages in `tree`, as an installed package has it."""
    for package in PACKAGES:
        if (tree / package).is_dir():
            compileall.compile_dir(tree / package, quiet=1)


def write_json(path: Path, value: Any) -> Path:
    path.write_bytes(orjson.dumps(value))
    return path


def tap_config(emu: Emulator, work: Path) -> Path:
    return write_json(
        work / "tap-config.json",
        {"base_url": emu.base, "client_id": "demo", "client_secret": "demo-secret",
         "token_settle_seconds": 0},
    )  # fmt: skip


def discover(emu: Emulator, work: Path, config: Path, timeout: float) -> dict[str, Any]:
    """The tap's catalog with only `invoices` selected."""
    child = run_child(
        [str(BIN / "tap-coupa"), "--config", str(config), "--discover"],
        work, "discover", timeout=timeout,
    )  # fmt: skip
    if child.rc != 0:
        raise SystemExit(f"tap-coupa --discover failed ({child.rc}): {stderr_tail(child)}")
    catalog: dict[str, Any] = json.loads(child.out.read_text())
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if not item["breadcrumb"]:
                item["metadata"]["selected"] = entry["tap_stream_id"] == "invoices"
    return catalog


def warm(emu: Emulator, invoices: int, keep: int) -> list[dict[str, Any]]:
    """Read every invoice once at full speed (so no client pays first-use generation); the
    first `keep` invoices are returned as the target's input."""
    token = requests.post(
        f"{emu.base}/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "demo",
              "client_secret": "demo-secret", "scope": "core.invoice.read"},
        timeout=60,
    ).json()["access_token"]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    ids = emu.control.record_ids("invoices")
    starts = [(k, ids[k]) for k in range(0, len(ids), PAGE)]
    kept: list[dict[str, Any]] = []

    def work(part: list[tuple[int, int]]) -> None:
        session = requests.Session()
        for position, first in part:
            params: dict[str, Any] = {"order_by": "id", "id[gt]": first - 1, "limit": PAGE}
            response = session.get(
                f"{emu.base}/api/invoices", params=params, headers=headers, timeout=120
            )
            if position < keep:
                kept.extend(orjson.loads(response.content))  # list.extend is atomic

    threads = [threading.Thread(target=work, args=(starts[k::4],)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    kept.sort(key=lambda r: r["id"])
    return kept[:keep]


# ---- measured runs ---------------------------------------------------------------------------
@dataclass
class Row:
    """One client's run, as it goes into the table and the JSON."""

    client: str
    records: int
    seconds: float
    records_per_s: float
    share: float
    r429: int
    requests: int
    rss_mib: float
    cpu_us_per_record: float
    record_set: str
    rc: int
    extra: dict[str, Any] = field(default_factory=dict)


def measure_read(
    emu: Emulator,
    work: Path,
    label: str,
    argv: list[str],
    truth: set[int],
    ceiling: float,
    timeout: float,
) -> Row:
    emu.limited()
    requests_before, r429_before = emu.counters()
    name = "".join(c if c.isalnum() else "-" for c in label)[:60]
    child = run_child(argv, work, name, timeout=timeout)
    requests_after, r429_after = emu.counters()
    ids = record_ids(child.out)
    result = check(ids, truth)
    rate = len(ids) / child.wall if child.wall else 0.0
    verdict = result.verdict if child.rc == 0 else f"FAILED rc={child.rc}: {stderr_tail(child)}"
    row = Row(
        client=label,
        records=len(ids),
        seconds=round(child.wall, 2),
        records_per_s=round(rate, 1),
        share=round(rate / ceiling, 4),
        r429=r429_after - r429_before,
        requests=requests_after - requests_before,
        rss_mib=round(child.rss_mib, 1),
        cpu_us_per_record=round(child.cpu / max(1, len(ids)) * 1e6, 1),
        record_set=verdict,
        rc=child.rc,
    )
    print(
        f"  {label}: {row.records_per_s:,.0f} rec/s ({row.share:.0%}), {row.r429} 429s, "
        f"{row.requests} requests, {row.rss_mib:.0f} MiB, {row.record_set}",
        flush=True,
    )
    child.out.unlink(missing_ok=True)
    return row


def median_row(rows: list[Row]) -> Row:
    """The round with the median records/s (rounds > 1)."""
    ordered = sorted(rows, key=lambda r: r.records_per_s)
    chosen = ordered[len(ordered) // 2]
    chosen.extra["rounds"] = [r.records_per_s for r in rows]
    return chosen


def async_client_default() -> int:
    """coupa-async-client's own default concurrency (read from its signature)."""
    try:
        from coupa_async_client import CoupaAsyncClient  # noqa: PLC0415 - the `bench` extra
    except ImportError:
        raise SystemExit(
            "coupa-async-client is not installed: .venv/bin/pip install -e '.[bench]' "
            "(the benchmark's peers are an extra, not part of the test suite)"
        ) from None

    default = inspect.signature(CoupaAsyncClient.__init__).parameters["default_concurrent"].default
    return int(default)


def compare_argv(args: argparse.Namespace, argv: list[str]) -> list[str] | None:
    """`argv` run from the `--compare-src` tree (`env` execs it: the rusage is the tap's)."""
    if not args.compare_src:
        return None
    return ["env", f"PYTHONPATH={args.compare_src.resolve()}", *argv]


def read_phase(
    emu: Emulator, work: Path, args: argparse.Namespace, tap_argv: list[str]
) -> list[Row]:
    truth = set(emu.control.record_ids("invoices"))
    ceiling = args.rate * PAGE
    default = async_client_default()
    peers: list[tuple[str, list[str]]] = [
        ("tap-coupa (default settings)", tap_argv),
        *([(f"tap-coupa (default settings), from {args.compare_src}", other)]
          if (other := compare_argv(args, tap_argv)) else []),
        ("sequential keyset loop (requests + orjson)",
         [sys.executable, PEERS, "keyset", "--base-url", emu.base]),
        (f"coupa-async-client 0.1.0, concurrency {default} (its default)",
         [sys.executable, PEERS, "async-client", "--base-url", emu.base]),
    ]  # fmt: skip
    for n in args.sweep:
        if n != default:
            peers.append(
                (f"coupa-async-client 0.1.0, concurrency {n}",
                 [sys.executable, PEERS, "async-client", "--base-url", emu.base,
                  "--concurrency", str(n)])
            )  # fmt: skip
    peers.append(
        (f"ideal keyset reader, {args.partitions} id-range partitions, one token bucket",
         [sys.executable, PEERS, "ideal", "--base-url", emu.base, "--partitions",
          str(args.partitions), "--rate", str(args.rate), "--burst", str(args.burst)])
    )  # fmt: skip
    runs: dict[str, list[Row]] = {label: [] for label, _ in peers}
    for _ in range(args.rounds):  # interleaved, so drift hits every client alike
        for label, argv in peers:
            runs[label].append(measure_read(emu, work, label, argv, truth, ceiling, args.timeout))
    rows = [median_row(r) if len(r) > 1 else r[0] for r in runs.values()]
    sweep = [r for r in rows if r.client.startswith("coupa-async-client")]
    exact = [r for r in sweep if r.record_set == "exact"]
    if exact:
        best = max(exact, key=lambda r: r.records_per_s)
        best.extra["best_of_sweep"] = True
    return rows


def zero_latency(emu: Emulator) -> tuple[set[int], list[str]]:
    """The emulator at 0 ms without a limit: its invoice ids and the raw loop's command."""
    emu.fast()
    return set(emu.control.record_ids("invoices")), [
        sys.executable, PEERS, "keyset", "--base-url", emu.base,
    ]  # fmt: skip


def cpu_phase(
    emu: Emulator, work: Path, args: argparse.Namespace, tap_argv: list[str], invoices: int,
    rounds: int,
) -> dict[str, Any]:  # fmt: skip
    """CPU per record at 0 ms latency, no limit: the tap against the raw keyset loop."""
    truth, raw = zero_latency(emu)
    clients = [("tap", tap_argv), ("raw", raw)]
    if other := compare_argv(args, tap_argv):
        clients.insert(1, ("compare", other))
    samples: dict[str, list[Child]] = {name: [] for name, _ in clients}
    checks: dict[str, str] = {}
    for k in range(rounds):
        for name, argv in clients:
            child = run_child(argv, work, f"cpu-{name}-{invoices}-{k}", timeout=args.timeout)
            ids = record_ids(child.out)
            checks[name] = check(ids, truth).verdict if child.rc == 0 else f"rc={child.rc}"
            child.out.unlink(missing_ok=True)
            samples[name].append(child)
    result: dict[str, Any] = {"invoices": invoices}
    for name, children in samples.items():

        def per_record(seconds: list[float]) -> float:
            return round(statistics.median(seconds) / invoices * 1e6, 1)

        result[name] = {
            "cpu_us_per_record": per_record([c.cpu for c in children]),
            "user_us_per_record": per_record([c.user for c in children]),
            "system_us_per_record": per_record([c.system for c in children]),
            "records_per_s": round(invoices / statistics.median(c.wall for c in children), 1),
            "peak_rss_mib": round(max(c.rss_mib for c in children), 1),
            "record_set": checks[name],
            "cpu_seconds": round(statistics.median(c.cpu for c in children), 3),
        }
    print(f"  CPU at 0 ms, {invoices:,} invoices: {json.dumps(result)}", flush=True)
    return result


def instruction_phase(
    emu: Emulator, work: Path, args: argparse.Namespace, tap_argv: list[str]
) -> dict[str, Any] | None:
    """Instructions executed by the tap and the raw loop over the same pages (valgrind).

    CPU seconds on this shared machine move by a third between runs of the same code;
    callgrind's instruction count (user space, every thread) does not depend on what else
    the machine does, so this ratio is the repeatable companion of the CPU ratio. About 70x
    slower than a plain run: 20,000 invoices take about 3 minutes for both clients.
    """
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("  instructions: skipped (no valgrind on PATH)", flush=True)
        return None
    truth, raw = zero_latency(emu)
    result: dict[str, Any] = {"invoices": len(truth)}
    for name, argv in (("tap", tap_argv), ("raw", raw)):
        out = work / f"callgrind-{name}.out.%p"
        command = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out}", *argv]
        child = run_child(command, work, f"instructions-{name}", timeout=args.timeout)
        counted = [
            int(line.rsplit(":", 1)[1].replace(",", ""))
            for line in child.err.read_text(errors="replace").splitlines()
            if "I   refs:" in line
        ]
        if child.rc != 0 or not counted:
            raise SystemExit(f"{name} under valgrind failed ({child.rc}): {stderr_tail(child)}")
        result[name] = {
            "instructions": counted[-1],
            "record_set": check(record_ids(child.out), truth).verdict,
        }
        child.out.unlink(missing_ok=True)
        for profile in work.glob(f"callgrind-{name}.out.*"):
            profile.unlink()
    result["ratio"] = round(result["tap"]["instructions"] / result["raw"]["instructions"], 3)
    print(f"  instructions, {len(truth):,} invoices: {json.dumps(result)}", flush=True)
    return result


def instruction_table(phase: dict[str, Any]) -> str:
    rows = [
        "| client | invoices | instructions | per record | record set |",
        "|---|---:|---:|---:|---|",
    ]
    for name, label in (("tap", "tap-coupa"), ("raw", "raw requests + orjson loop")):
        count = phase[name]["instructions"]
        rows.append(
            f"| {label} | {phase['invoices']:,} | {count / 1e9:.2f} G | "
            f"{count / phase['invoices'] / 1e3:.0f} k | {phase[name]['record_set']} |"
        )
    rows.append(
        f"\nTap / raw instructions at {phase['invoices']:,} invoices (start-up included, "
        f"valgrind --tool=callgrind): **{phase['ratio']:.2f}x**."
    )
    return "\n".join(rows)


def target_input(catalog: dict[str, Any], source: list[dict[str, Any]], work: Path) -> Path:
    """SCHEMA, the invoices renumbered BENCH-nnnnnn (new to Coupa), then one STATE."""
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == "invoices")
    path = work / "target-input.jsonl"
    with path.open("wb") as handle:
        schema = {"type": "SCHEMA", "stream": "invoices", "schema": entry["schema"],
                  "key_properties": entry.get("key_properties") or ["id"]}  # fmt: skip
        handle.write(orjson.dumps(schema) + b"\n")
        for k, source_record in enumerate(source):
            record = {**source_record, "invoice-number": f"BENCH-{k:06d}"}
            handle.write(orjson.dumps({"type": "RECORD", "stream": "invoices",
                                       "record": record}) + b"\n")  # fmt: skip
        state = {"type": "STATE", "value": {"bookmarks": {"invoices": {"bench": len(source)}}}}
        handle.write(orjson.dumps(state) + b"\n")
    return path


def _invoice_keys(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (str((r.get("supplier") or {}).get("number")), str(r.get("invoice-number")))
        for r in records
    ]


def measure_write(
    emu: Emulator,
    work: Path,
    label: str,
    argv: list[str],
    stdin: Path,
    expected: list[tuple[str, str]],
    args: argparse.Namespace,
) -> Row:
    emu.control.reset(counts={"invoices": 0})
    emu.limited()
    requests_before, r429_before = emu.counters()
    name = "".join(c if c.isalnum() else "-" for c in label)[:60]
    child = run_child(argv, work, name, timeout=args.timeout, stdin=stdin)
    requests_after, r429_after = emu.counters()
    held = _invoice_keys(emu.control.records("invoices"))
    want = set(expected)
    duplicated = len(held) - len(set(held))
    missing = len(want - set(held))
    unexpected = len(set(held) - want)
    verdict = RecordSet(len(held), duplicated, missing, unexpected).verdict
    if child.rc != 0:
        verdict = f"rc={child.rc} ({stderr_tail(child, 2)}); {verdict}"
    n = len(expected)
    used = requests_after - requests_before
    per_invoice = used / n if n else 0.0
    rate = n / child.wall if child.wall else 0.0
    budget = args.rate / per_invoice if per_invoice else 0.0
    row = Row(
        client=label,
        records=n,
        seconds=round(child.wall, 2),
        records_per_s=round(rate, 2),
        share=round(rate / budget, 4) if budget else 0.0,
        r429=r429_after - r429_before,
        requests=used,
        rss_mib=round(child.rss_mib, 1),
        cpu_us_per_record=round(child.cpu / max(1, n) * 1e6, 1),
        record_set=verdict,
        rc=child.rc,
        extra={"requests_per_invoice": round(per_invoice, 3),
               "budget_invoices_per_s": round(budget, 2)},
    )  # fmt: skip
    print(
        f"  {label}: {rate:.1f} invoices/s, {per_invoice:.2f} requests/invoice, "
        f"{row.share:.0%} of the budget, {row.r429} 429s, emulator holds: {verdict}",
        flush=True,
    )
    return row


def target_phase(
    emu: Emulator, work: Path, args: argparse.Namespace, catalog: dict[str, Any],
    source: list[dict[str, Any]],
) -> list[Row]:  # fmt: skip
    stdin = target_input(catalog, source, work)
    expected = [(str((r.get("supplier") or {}).get("number")), f"BENCH-{k:06d}")
                for k, r in enumerate(source)]  # fmt: skip
    config = write_json(
        work / "target-config.json",
        {"base_url": emu.base, "client_id": "demo", "client_secret": "demo-secret",
         "token_settle_seconds": 0, "dead_letter_path": str(work / "dead-letter.jsonl")},
    )  # fmt: skip
    rows = [
        measure_write(emu, work, "target-coupa (default settings)",
                      [str(BIN / "target-coupa"), "--config", str(config)], stdin, expected, args),
        measure_write(emu, work, "one at a time: look up, then create",
                      [sys.executable, PEERS, "naive-writer", "--base-url", emu.base], stdin,
                      expected, args),
    ]  # fmt: skip
    emu.control.reset()
    return rows


# ---- report ----------------------------------------------------------------------------------
def read_table(rows: list[Row], ceiling: float) -> str:
    out = [
        f"| client | records/s | share of the {ceiling:,.0f} rec/s ceiling | 429s | requests "
        "| peak RSS | CPU µs/record | record set |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        client = r.client
        if r.extra.get("best_of_sweep"):
            client = (
                client[:-1] + "; best of the sweep)"
                if client.endswith(")")
                else client + " (best of the sweep)"
            )
        out.append(
            f"| {client} | {r.records_per_s:,.0f} | {r.share:.0%} | {r.r429} | "
            f"{r.requests} | {r.rss_mib:.0f} MiB | {r.cpu_us_per_record:.0f} | {r.record_set} |"
        )
    return "\n".join(out)


def write_table(rows: list[Row]) -> str:
    out = [
        "| writer | invoices/s | requests/invoice | budget allows | share of budget | 429s "
        "| emulator holds |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.client} | {r.records_per_s:.1f} | {r.extra['requests_per_invoice']:.2f} | "
            f"{r.extra['budget_invoices_per_s']:.1f}/s | {r.share:.0%} | {r.r429} | "
            f"{r.record_set} |"
        )
    return "\n".join(out)


def cpu_table(small: dict[str, Any], large: dict[str, Any] | None) -> str:
    out = [
        "| client | invoices | CPU µs/record (user + sys) | of which sys | peak RSS | record set |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for phase in (small, large):
        if not phase:
            continue
        for name, label in (("tap", "tap-coupa"), ("compare", "tap-coupa (--compare-src)"),
                            ("raw", "raw requests + orjson loop")):  # fmt: skip
            if name not in phase:
                continue
            p = phase[name]
            out.append(
                f"| {label} | {phase['invoices']:,} | {p['cpu_us_per_record']:.0f} | "
                f"{p['system_us_per_record']:.0f} | {p['peak_rss_mib']:.0f} MiB | "
                f"{p['record_set']} |"
            )
    lines = ["\n".join(out)]
    ratio = small["tap"]["cpu_us_per_record"] / max(1e-9, small["raw"]["cpu_us_per_record"])
    lines.append(f"\nTap / raw CPU per record at {small['invoices']:,} invoices (start-up "
                 f"included): **{ratio:.2f}x**.")  # fmt: skip
    if "compare" in small:
        other = small["compare"]["cpu_us_per_record"] / max(1e-9, small["raw"]["cpu_us_per_record"])
        lines.append(f"The --compare-src tap: **{other:.2f}x**.")
    if large:
        extra = large["invoices"] - small["invoices"]
        marginal = {
            name: (large[name]["cpu_seconds"] - small[name]["cpu_seconds"]) / extra * 1e6
            for name in ("tap", "raw")
        }
        lines.append(
            f"Marginal CPU per record between {small['invoices']:,} and {large['invoices']:,} "
            f"(start-up cancels out): tap {marginal['tap']:.0f} µs, raw {marginal['raw']:.0f} µs, "
            f"**{marginal['tap'] / max(1e-9, marginal['raw']):.2f}x**. Tap peak RSS "
            f"{small['tap']['peak_rss_mib']:.0f} MiB at {small['invoices']:,} invoices, "
            f"{large['tap']['peak_rss_mib']:.0f} MiB at {large['invoices']:,}."
        )
    return "\n".join(lines)


def save(kind: str, result: dict[str, Any], markdown: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (OUTPUT / f"{kind}-{stamp}.json").write_text(json.dumps(result, indent=2, default=str))
    (OUTPUT / f"{kind}-{stamp}.md").write_text(markdown)
    latest = OUTPUT / f"{kind}-latest.md"
    latest.write_text(markdown)
    (OUTPUT / f"{kind}-latest.json").write_text(json.dumps(result, indent=2, default=str))
    return latest


def header(args: argparse.Namespace, invoices: int) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = ".venv/bin/python benchmarks/throughput.py " + " ".join(sys.argv[1:])
    return (
        f"Measured {now} on this machine ({os.cpu_count()} cores shared by the emulator, the "
        f"client and the harness). Emulator: {invoices:,} invoices, {args.latency_ms:g} ms per "
        f"request, {args.rate:g} requests/s with a burst of {args.burst}, 429 without "
        f"Retry-After. Command: `{command.strip()}`"
    )


# ---- modes -----------------------------------------------------------------------------------
def full_run(args: argparse.Namespace, work: Path) -> None:
    emu = Emulator(args.invoices, args.latency_ms, args.rate, args.burst)
    result: dict[str, Any] = {"args": vars(args), "emulator_url": emu.base}
    try:
        emu.fast()
        started = emu.status("VmRSS")
        print(f"emulator {emu.base}: {args.invoices:,} invoices, {started:.0f} MiB; warming up",
              flush=True)  # fmt: skip
        config = tap_config(emu, work)
        catalog = discover(emu, work, config, args.timeout)
        catalog_path = write_json(work / "catalog.json", catalog)
        source = warm(emu, args.invoices, args.target_invoices)
        tap_argv = [str(BIN / "tap-coupa"), "--config", str(config), "--catalog",
                    str(catalog_path)]  # fmt: skip
        print("reads at the limit:", flush=True)
        reads = read_phase(emu, work, args, tap_argv)
        result["reads"] = [asdict(r) for r in reads]
        result["emulator_rss_mib_after_reads"] = emu.status("VmRSS")
        print("CPU per record at 0 ms latency:", flush=True)
        # The client-side limiter off too: this measures CPU, not waiting.
        unlimited = write_json(
            work / "tap-config-unlimited.json",
            {**json.loads(config.read_text()), "max_requests_per_second": 0},
        )
        cpu_argv = [str(BIN / "tap-coupa"), "--config", str(unlimited), "--catalog",
                    str(catalog_path)]  # fmt: skip
        cpu_small = cpu_phase(emu, work, args, cpu_argv, args.invoices, args.cpu_rounds)
        cpu_large = None
        if args.grow:
            emu.control.reset(scale=args.grow)
            cpu_large = cpu_phase(emu, work, args, cpu_argv, args.grow, 1)
            emu.control.reset()
        result["cpu"] = {"small": cpu_small, "large": cpu_large}
        instructions = None
        if args.instructions:
            instructions = instruction_phase(emu, work, args, cpu_argv)
        result["instructions"] = instructions
        writes: list[Row] = []
        if args.target_invoices:
            print(f"writes at the limit ({len(source)} invoices):", flush=True)
            writes = target_phase(emu, work, args, catalog, source)
            result["writes"] = [asdict(r) for r in writes]
        result["emulator_rss_mib_end"] = emu.status("VmRSS")
        result["emulator_peak_rss_mib"] = emu.status("VmHWM")
    finally:
        emu.stop()
    ceiling = args.rate * PAGE
    parts = [
        "## Reads at the rate limit", header(args, args.invoices), "",
        read_table(reads, ceiling), "",
        "## CPU per record at 0 ms latency (no limit), and the tap's memory as data grows", "",
        cpu_table(cpu_small, cpu_large), "",
    ]  # fmt: skip
    if instructions:
        parts += ["## Instructions at 0 ms latency (valgrind: repeatable on a noisy machine)", "",
                  instruction_table(instructions), ""]  # fmt: skip
    if writes:
        parts += [f"## Writes at the rate limit ({len(source)} new invoices)", "",
                  write_table(writes), ""]  # fmt: skip
    parts.append(
        f"Emulator RSS: {result['emulator_rss_mib_end']:.0f} MiB at the end, "
        f"peak {result['emulator_peak_rss_mib']:.0f} MiB."
    )
    markdown = "\n".join(parts) + "\n"
    latest = save("throughput", result, markdown)
    print("\n" + markdown)
    print(f"written: {latest} (and a timestamped .json/.md beside it)")


def backfill_run(args: argparse.Namespace, work: Path) -> None:
    n = args.backfill
    emu = Emulator(n, args.latency_ms, args.rate, args.burst)
    try:
        emu.fast()
        start_rss = emu.status("VmRSS")
        config = tap_config(emu, work)
        catalog_path = write_json(work / "catalog.json", discover(emu, work, config, args.timeout))
        truth = set(emu.control.record_ids("invoices"))
        peak = [start_rss]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(2.0):
                peak.append(emu.status("VmRSS"))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        tap_argv = [str(BIN / "tap-coupa"), "--config", str(config), "--catalog",
                    str(catalog_path)]  # fmt: skip
        print(f"backfill: tap-coupa over {n:,} invoices at the limit (emulator "
              f"{start_rss:.0f} MiB at start)", flush=True)  # fmt: skip
        row = measure_read(emu, work, "tap-coupa (default settings), backfill", tap_argv, truth,
                           args.rate * PAGE, args.backfill_timeout)  # fmt: skip
        done.set()
        sampler.join(timeout=5)
        end_rss = emu.status("VmRSS")
        hwm = emu.status("VmHWM")
    finally:
        emu.stop()
    result = {"args": vars(args), "row": asdict(row), "emulator_rss_mib_start": start_rss,
              "emulator_rss_mib_end": end_rss,
              "emulator_rss_mib_peak": max(*peak, hwm)}  # fmt: skip
    markdown = "\n".join([
        f"## Backfill: {n:,} invoices at the rate limit", header(args, n), "",
        "| client | time | records/s | share of the ceiling | 429s | tap peak RSS | emulator RSS "
        "start / peak / end | record set |",
        "|---|---:|---:|---:|---:|---:|---|---|",
        f"| {row.client} | {row.seconds / 60:.1f} min | {row.records_per_s:,.0f} | "
        f"{row.share:.0%} | {row.r429} | {row.rss_mib:.0f} MiB | {start_rss:.0f} / "
        f"{result['emulator_rss_mib_peak']:.0f} / {end_rss:.0f} MiB | {row.record_set} |",
    ]) + "\n"  # fmt: skip
    latest = save("backfill", result, markdown)
    print("\n" + markdown)
    print(f"written: {latest}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=20000)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--rate", type=float, default=25.0, help="emulator requests/s")
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--sweep", type=lambda s: [int(x) for x in s.split(",") if x],
                        default=[2, 3, 5, 8, 10],
                        help="coupa-async-client concurrencies")  # fmt: skip
    parser.add_argument("--partitions", type=int, default=8, help="the ideal reader's")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds of the reads")
    parser.add_argument("--cpu-rounds", type=int, default=5,
                        help="interleaved rounds at 0 ms, median taken: one run of the same "
                        "client moves by a third on this shared machine")  # fmt: skip
    parser.add_argument("--grow", type=int, default=80000,
                        help="second data size for memory and marginal CPU (0 = skip)")  # fmt: skip
    parser.add_argument(
        "--instructions",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also count the tap's and the raw loop's instructions under "
        "valgrind (about 3 min at 20,000 invoices; skipped without valgrind)",
    )
    parser.add_argument("--target-invoices", type=int, default=500, help="0 = skip the target")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per subprocess")
    parser.add_argument("--backfill", type=int, default=0, help="only the tap over N invoices")
    parser.add_argument("--backfill-timeout", type=float, default=2700.0)
    parser.add_argument(
        "--tap-src",
        type=Path,
        default=None,
        help="run tap/target from this source tree (e.g. `git archive HEAD | tar -x -C DIR`)",
    )
    parser.add_argument(
        "--compare-src",
        type=Path,
        default=None,
        help="also run the tap from this source tree, interleaved (before/after in one run)",
    )
    args = parser.parse_args()
    if args.compare_src:
        byte_compile(args.compare_src.resolve())
    if args.tap_src:
        CHILD_ENV["PYTHONPATH"] = str(args.tap_src.resolve())
    byte_compile(args.tap_src.resolve() if args.tap_src else REPO)
    if not args.backfill:
        async_client_default()  # fail before minutes of set-up when the extra is missing
    with tempfile.TemporaryDirectory(prefix="coupa-bench-") as tmp:
        if args.backfill:
            backfill_run(args, Path(tmp))
        else:
            full_run(args, Path(tmp))


if __name__ == "__main__":
    main()
