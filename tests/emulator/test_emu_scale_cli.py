"""Start-up at 100,000 invoices, and the command line (sanity bounds, not a benchmark)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

from coupa_emulator.config import EmulatorConfig
from coupa_emulator.server import start_in_thread

EXE = [sys.executable, "-m", "coupa_emulator"]


def test_100k_invoices_start_fast_and_small():
    process = psutil.Process()
    rss_before = process.memory_info().rss
    started = time.monotonic()
    with start_in_thread(EmulatorConfig(scale=100_000, settle_seconds=0)) as emu:
        elapsed = time.monotonic() - started
        grown_mb = (process.memory_info().rss - rss_before) / 1e6
        assert elapsed < 10, elapsed
        assert grown_mb < 600, grown_mb
        session = requests.Session()
        token = session.post(
            f"{emu.base_url}/oauth2/token",
            data={"client_id": "demo", "client_secret": "demo-secret",
                  "grant_type": "client_credentials"},
            timeout=30,
        ).json()["access_token"]  # fmt: skip
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        ids = [r["id"] for r in emu.control.records("currencies")]
        assert ids
        t0 = time.monotonic()
        page = session.get(f"{emu.base_url}/api/invoices",
                           params={"order_by": "id", "id[gt]": 300_000, "limit": 50},
                           headers=headers, timeout=30).json()  # fmt: skip
        assert len(page) == 50
        assert all(r["id"] > 300_000 for r in page)
        window = session.get(f"{emu.base_url}/api/invoices",
                             params={"updated-at[gt_or_eq]": "2024-11-20T00:00:00-08:00",
                                     "order_by": "updated_at", "limit": 50},
                             headers=headers, timeout=30).json()  # fmt: skip
        assert len(window) == 50
        assert time.monotonic() - t0 < 5


def test_cli_prints_url_and_serves(tmp_path: Path):
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps([{"kind": "status", "path": "/api/uoms", "status": 503}]))
    proc = subprocess.Popen(  # noqa: S603 - our own module
        [*EXE, "--port", "0", "--scale", "20", "--settle-seconds", "0", "--faults", str(faults),
         "--stable-order", "--tenant-profile", "globex"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith("Coupa emulator listening on http://127.0.0.1:")
        assert "demo / demo-secret" in proc.stdout.readline()
        base = first.rsplit(" ", 1)[1]
        token = requests.post(
            f"{base}/oauth2/token",
            auth=("demo", "demo-secret"),
            data={"grant_type": "client_credentials"},
            timeout=30,
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"}
        assert requests.get(f"{base}/api/uoms", headers=headers, timeout=30).status_code == 503
        rows = requests.get(f"{base}/api/invoices", headers=headers, timeout=30).json()
        assert len(rows) == 20
        assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)  # --stable-order
        assert "project-code" in rows[0]["custom-fields"]
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        returncode = proc.wait(timeout=10)
    assert returncode == 0
    assert proc.stderr is not None
    assert "Traceback" not in proc.stderr.read()


def test_cli_help_documents_every_knob():
    out = subprocess.run([*EXE, "--help"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    for flag in ("--host", "--port", "--seed", "--scale", "--tenant-profile", "--settle-seconds",
                 "--expires-in", "--latency-ms", "--rate-limit", "--burst", "--retry-after",
                 "--faults", "--stable-order", "--quota", "--quota-window",
                 "--rate-limit-headers"):  # fmt: skip
        assert flag in out, flag


def test_cli_bad_values_are_one_line_errors():
    for args in (["--scale", "-5"], ["--port", "abc"], ["--faults", "[{\"kind\": \"boom\"}]"],
                 ["--tenant-profile", "initech"], ["--rate-limit", "fast"]):  # fmt: skip
        result = subprocess.run(  # noqa: S603
            [*EXE, *args], capture_output=True, text=True, timeout=30, check=False
        )
        assert result.returncode == 2, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (args, result.stderr)
        assert lines[0].startswith("coupa-emulator: error:")
        assert "Traceback" not in result.stderr
