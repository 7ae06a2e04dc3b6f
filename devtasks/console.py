"""Output and subprocesses for every task: progress lines, wrapped paragraphs, log tails."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from devtasks.paths import ROOT


class TaskError(Exception):
    """A failure to report as one readable paragraph instead of a traceback."""


STARTED = time.monotonic()


def say(message: str) -> None:
    """Print a progress line with the seconds since tasks.py started."""
    print(f"==> [{time.monotonic() - STARTED:4.0f}s] {message}", flush=True)


def paragraph(text: str) -> str:
    """Wrap one paragraph to the terminal width, never inside a path or a command's name."""
    width = min(shutil.get_terminal_size((100, 20)).columns, 100)
    return textwrap.fill(
        " ".join(text.split()), width=width, break_on_hyphens=False, break_long_words=False
    )


def bin_path(venv: Path, name: str) -> Path:
    """An executable inside a virtualenv, on POSIX and Windows."""
    if os.name == "nt":
        return venv / "Scripts" / (name + ".exe")
    return venv / "bin" / name


def tail(path: Path, lines: int = 30, redact: Sequence[str] = ()) -> str:
    """The last lines of a log file, with secrets masked."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log written)"
    for secret in redact:
        text = text.replace(secret, "***")
    kept = text.rstrip().splitlines()[-lines:]
    return "\n".join("    " + line for line in kept) or "    (log is empty)"


def run_logged(
    cmd: Sequence[str | Path],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
) -> int:
    """Run a command with stdout and stderr going to `log`; return its exit code."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as handle:
        try:
            return subprocess.call(  # noqa: S603 - fixed argument lists, no shell
                [str(part) for part in cmd],
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                env=dict(env) if env is not None else None,
            )
        except OSError as exc:
            raise TaskError(f"Could not start {cmd[0]}: {exc.strerror or exc}.") from exc


def run_live(cmd: Sequence[str | Path], *, env: Mapping[str, str] | None = None) -> int:
    """Run a command with the terminal as its output; return its exit code."""
    try:
        return subprocess.call(  # noqa: S603 - fixed argument lists, no shell
            [str(part) for part in cmd],
            cwd=ROOT,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
        )
    except OSError as exc:
        raise TaskError(f"Could not start {cmd[0]}: {exc.strerror or exc}.") from exc
