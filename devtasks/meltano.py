"""Meltano runs for the demo: the environment, the command, and its live progress lines."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from devtasks.console import TaskError, bin_path, paragraph, run_logged, say, tail
from devtasks.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from devtasks.paths import ROOT, VENV

EXTRACTOR = "tap-coupa"
LOADER = "target-duckdb"
#: The dbt package in transform/ as a Meltano utility (meltano.yml; docs/analytics.md).
TRANSFORMER = "dbt-duckdb"


def meltano_env(base_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a Meltano process pointed at the emulator."""
    env = dict(os.environ)
    env.update(
        {
            "MELTANO_ENVIRONMENT": "dev",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DISABLE_TRACKING": "true",
            "TAP_COUPA_BASE_URL": base_url,
            "TAP_COUPA_CLIENT_ID": DEMO_CLIENT_ID,
            "TAP_COUPA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
            # A live view for the demo; scheduled runs keep the 10 s default.
            "TAP_COUPA_PROGRESS_INTERVAL": "3",
        }
    )
    env.update(extra or {})
    return env


def meltano(
    args: Sequence[str], log: Path, env: Mapping[str, str], what: str, *, live: bool = False
) -> None:
    """Run `meltano ARGS`, raising a TaskError with the log's tail when it fails.

    `live` echoes tap-coupa's progress lines and end-of-run summary while it runs.
    """
    if live:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w", encoding="utf-8") as handle:
            process = subprocess.Popen(  # noqa: S603 - fixed argument lists, no shell
                [str(bin_path(VENV, "meltano")), *args],
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
                env=dict(env),
            )
            code = watch(process, log)
    else:
        code = run_logged([bin_path(VENV, "meltano"), *args], log, env=env)
    if code:
        raise TaskError(
            paragraph(f"{what} failed (`meltano {' '.join(args)}` exited with code {code}).")
            + f"\n\nLast lines of {log}:\n{tail(log, 40, redact=[DEMO_CLIENT_SECRET])}"
            + "\n\n"
            + paragraph(f"The full log is {log}.")
        )


SUMMARY_TOTAL = re.compile(r"\btotal\s+([\d,]+)\s")


def records_read(log: Path) -> int | None:
    """The total of tap-coupa's end-of-run summary table in a `meltano run` log, if present."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    total: int | None = None
    in_summary = False
    for line in lines:
        if "tap-coupa run summary" in line:
            in_summary = True
        elif in_summary and (match := SUMMARY_TOTAL.search(line)):
            total = int(match.group(1).replace(",", ""))
            in_summary = False
    return total


#: tap-coupa's progress lines and summary table rows, wherever Meltano puts them in a log line.
LIVE_TEXT = re.compile(
    r"(progress \S+: .*?(?=\s+cmd_type=|\s*$)"
    r"|tap-coupa run summary"
    r"|stream\s+records\s+requests.*?seconds"
    r"|(?:total|[a-z][a-z0-9_]*)\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+[\d.]+ [KMG]?B\s+[\d.]+)"
)
TAP_FINISHED = re.compile(r"tap-coupa finished: completed")
LOADER_WAIT = (
    "tap-coupa has finished reading; target-duckdb is writing its last batch and committing "
    "(it logs nothing until it is done)"
)


def watch(process: subprocess.Popen[bytes], log: Path) -> int:
    """Wait for `process`, echoing tap-coupa's progress lines and summary from its log.

    Says once that the loader is still at work, after the sync's summary and final line (not
    after discovery's, which runs in its own tap process before the sync).
    """
    position = 0
    summary_seen = waiting_said = False
    while True:
        code = process.poll()
        try:
            with log.open("rb") as handle:
                handle.seek(position)
                chunk = handle.read()
        except OSError:
            chunk = b""
        cut = chunk.rfind(b"\n") + 1  # whole lines only; a partial one is read next time
        position += cut
        for line in chunk[:cut].decode("utf-8", errors="replace").splitlines():
            if match := LIVE_TEXT.search(line):
                print(f"    {match.group(0)}", flush=True)
                summary_seen = summary_seen or "tap-coupa run summary" in line
            elif TAP_FINISHED.search(line) and summary_seen and not waiting_said:
                say(LOADER_WAIT)  # the loader's last batch and commit log nothing for seconds
                waiting_said = True
        if code is not None:
            return code
        time.sleep(0.5)
