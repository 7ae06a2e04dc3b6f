"""Exit codes orchestrators can trust, and what an interrupted run says and leaves behind.

Issue 8 item 9: a tap or target stopped by SIGTERM exited 0, reporting success for a partial
run. Now: 0 only for a complete run, 2 for configuration, 3 for rejected records, 4 for
interrupted, 1 for the rest; the final log line names the outcome.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from coupa_api.exitcodes import ExitCode
from tests.tap.conftest import discover, select, tap_config
from tests.target.conftest import new_invoice, record_message, schema_message, target_config
from tests.wire.conftest import BIN, run_plugin

WAIT = 30.0  # seconds: every wait below is bounded by this


def _wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _start(executable: str, args: list[str], config: dict[str, Any], tmp_path: Path, **kw: Any):
    config_path = tmp_path / f"{executable}.json"
    config_path.write_text(json.dumps(config))
    out = (tmp_path / f"{executable}.out").open("wb")
    err = (tmp_path / f"{executable}.err").open("wb")
    proc = subprocess.Popen(  # noqa: S603 - our own console scripts
        [str(BIN / executable), "--config", str(config_path), *args],
        stdout=out,
        stderr=err,
        **kw,
    )
    return proc, tmp_path / f"{executable}.out", tmp_path / f"{executable}.err"


def _finish(proc: subprocess.Popen[bytes]) -> int:
    try:
        return proc.wait(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=WAIT)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_interrupted_tap_exits_4_says_what_it_did_and_resumes(coupa, tmp_path, signum):
    coupa.control.reset(counts={"invoices": 1500})
    config = tap_config(coupa.base_url)
    catalog = select(discover(config), ["invoices"])
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    # After six quick answers every page is held 2 s: the signal lands mid-run however slowly
    # this machine starts the process (a fixed latency let a loaded run finish first).
    coupa.control.add_faults(
        [{"kind": "slow", "path": "/api/invoices", "after": 6, "times": 1000, "delay_s": 2}]
    )
    before = coupa.control.stats()["api_requests"]
    proc, out, err = _start("tap-coupa", ["--catalog", str(tmp_path / "catalog.json")], config,
                            tmp_path)  # fmt: skip
    try:
        _wait_for(lambda: coupa.control.stats()["api_requests"] >= before + 4, "pages")
        proc.send_signal(signum)
        code = _finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = err.read_text()
    assert code == ExitCode.INTERRUPTED, stderr[-3000:]
    name = signal.Signals(signum).name
    assert f"tap-coupa was interrupted by {name}" in stderr
    assert "Records emitted per stream: invoices" in stderr
    assert "safe to resume from" in stderr
    assert stderr.rstrip().endswith("tap-coupa finished: interrupted (exit 4)")
    assert "Traceback" not in stderr

    messages = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    assert messages[-1]["type"] == "STATE"
    first = {m["record"]["id"] for m in messages if m["type"] == "RECORD"}
    assert 0 < len(first) < 1500

    # Resume from the last STATE: the two runs together hold every invoice.
    coupa.control.clear_faults()
    (tmp_path / "state.json").write_text(json.dumps(messages[-1]["value"]))
    resumed = run_plugin(
        "tap-coupa",
        ["--catalog", str(tmp_path / "catalog.json"), "--state", str(tmp_path / "state.json")],
        config,
        tmp_path,
    )
    assert resumed.returncode == ExitCode.OK, resumed.stderr[-2000:]
    assert "tap-coupa finished: completed (exit 0)" in resumed.stderr
    second = {
        json.loads(line)["record"]["id"]
        for line in resumed.stdout.splitlines()
        if line.strip() and json.loads(line)["type"] == "RECORD"
    }
    assert first | second == {r["id"] for r in coupa.control.records("invoices")}


def test_interrupted_target_exits_4_with_its_summary(coupa, tmp_path):
    config = target_config(coupa.base_url, tmp_path)
    proc, out, err = _start("target-coupa", [], config, tmp_path, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        lines = [schema_message(), record_message(new_invoice(coupa.control, "T-TERM-1")),
                 {"type": "STATE", "value": {"bookmarks": {"invoices": {"n": 1}}}}]  # fmt: skip
        proc.stdin.write("".join(json.dumps(m) + "\n" for m in lines).encode())
        proc.stdin.flush()
        _wait_for(lambda: b'"n": 1' in out.read_bytes(), "the STATE after the first record")
        proc.send_signal(signal.SIGTERM)  # the target is waiting for more input
        code = _finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdin.close()
    stderr = err.read_text()
    assert code == ExitCode.INTERRUPTED, stderr[-3000:]
    assert "target-coupa was interrupted by SIGTERM" in stderr
    assert "1 records received: 1 created" in stderr
    assert stderr.rstrip().endswith("target-coupa finished: interrupted (exit 4)")
    states = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    assert states[-1] == {"bookmarks": {"invoices": {"n": 1}}}


def test_complete_tap_run_exits_0_and_says_so(coupa, tmp_path):
    config = tap_config(coupa.base_url)
    catalog = select(discover(config), ["currencies"])
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    result = run_plugin("tap-coupa", ["--catalog", str(tmp_path / "catalog.json")], config,
                        tmp_path)  # fmt: skip
    assert result.returncode == ExitCode.OK
    assert result.stderr.rstrip().endswith("tap-coupa finished: completed (exit 0)")


# -- files that cannot be used ----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["directory", "not-utf8", "json-list", "missing"])
@pytest.mark.parametrize("executable", ["tap-coupa", "target-coupa"])
def test_unusable_config_file_is_one_sentence_and_exit_2(tmp_path, kind, executable):
    path = tmp_path / "config.json"
    if kind == "directory":
        path.mkdir()
    elif kind == "not-utf8":
        path.write_bytes(b'{"client_secret": "\xff\xfe"}')
    elif kind == "json-list":
        path.write_text("[1, 2]")
    extra = ["--discover"] if executable == "tap-coupa" else []
    result = subprocess.run(  # noqa: S603 - our own console scripts
        [str(BIN / executable), "--config", str(path), *extra],
        capture_output=True, text=True, timeout=60, check=False, input="",
    )  # fmt: skip
    assert result.returncode == ExitCode.CONFIG, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 2  # the sentence, then the final line
    assert f"--config {path}" in errors[0]
    assert errors[1].endswith(f"{executable} finished: configuration error (exit 2)")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_config_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{}")
    path.chmod(0)
    result = subprocess.run(  # noqa: S603
        [str(BIN / "tap-coupa"), "--config", str(path), "--discover"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == ExitCode.CONFIG
    assert "cannot be read" in result.stderr
