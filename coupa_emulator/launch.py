"""Start `coupa-emulator` as a subprocess and read its URL from the line it prints first.

One way to do it for the task runner (`python3 tasks.py demo`, `multi-tenant`), the benchmarks
and tests that need the emulator in a process of its own (in-process tests use
`coupa_emulator.server.start_in_thread`). Standard library only: tasks.py imports it with a bare
Python before any virtualenv exists.

The emulator's first stdout line is `Coupa emulator listening on http://HOST:PORT`
(`coupa_emulator/cli.py`). A thread reads the output as it comes (so a full pipe never blocks
the server), copies it to a log file when one is given, and signals the first line: start-up
waits on that event, bounded by a timeout, never on a sleep.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

#: The line `coupa-emulator` prints once it accepts connections.
LISTENING = re.compile(r"listening on (?P<url>https?://[^\s\"'<>]+)")
#: How long start-up may take by default: 100,000 invoices start in about a second, but a
#: loaded 2-core machine installing plugins beside it can be far slower.
START_TIMEOUT_S = 90.0
#: Seconds each stop step (SIGINT, SIGTERM, SIGKILL) waits for the process to exit.
STOP_STEP_S = 5.0


class EmulatorStartError(RuntimeError):
    """The emulator exited, printed something else, or printed nothing in time (one sentence)."""


def console_script(python: str | Path | None = None) -> list[str]:
    """The `coupa-emulator` console script beside `python` (default: this interpreter)."""
    folder = Path(python or sys.executable).parent
    name = "coupa-emulator.exe" if sys.platform == "win32" else "coupa-emulator"
    return [str(folder / name)]


def module_command(python: str | Path | None = None) -> list[str]:
    """`python -m coupa_emulator`, for a source tree whose console script is not installed."""
    return [str(python or sys.executable), "-m", "coupa_emulator"]


class EmulatorProcess:
    """A running `coupa-emulator` subprocess: its base URL, its output, and how to stop it."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        command: Sequence[str] | None = None,
        log: Path | None = None,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.args = list(args)
        self.argv = [*(command or console_script()), *self.args]
        self.log = log
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.first_line: str | None = None
        self._first_seen = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        """The emulator's process id (0 before start)."""
        return self.process.pid if self.process is not None else 0

    def start(self, timeout: float = START_TIMEOUT_S) -> str:
        """Start the process and wait for its listening line; return the base URL.

        Raises EmulatorStartError, with the process stopped, when it does not start.
        """
        if self.log is not None:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            self.log.write_bytes(b"")
        try:
            self.process = subprocess.Popen(  # noqa: S603 - the emulator's own command line
                self.argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
                env=self.env,
            )
        except OSError as exc:
            msg = f"Could not start {self.argv[0]}: {exc.strerror or exc}."
            raise EmulatorStartError(msg) from exc
        assert self.process.stdout is not None  # noqa: S101 - stdout=PIPE above
        self._reader = threading.Thread(
            target=self._pump, args=(self.process.stdout,), name="emulator-output", daemon=True
        )
        self._reader.start()
        if not self._first_seen.wait(timeout):
            self.stop()
            msg = (
                f"The Coupa emulator did not print its URL within {timeout:.0f} seconds, so it "
                "was stopped. The machine may be overloaded, or the emulator is stuck generating "
                "data (try a smaller --scale)."
            )
            raise EmulatorStartError(msg)
        first = self.first_line
        if first is None:  # the output ended: the process exited before printing anything
            code = self._exit_code()
            self.stop()
            msg = (
                f"The Coupa emulator exited with code {code} before it was ready. Its command "
                f"was: coupa-emulator {' '.join(self.args)}."
            )
            raise EmulatorStartError(msg)
        found = LISTENING.search(first)
        if found is None:
            code = self._exit_code()
            self.stop()
            if code is not None:
                msg = (
                    f"The Coupa emulator exited with code {code} instead of starting: "
                    f"{first.strip()}"
                )
            else:
                msg = (
                    "The Coupa emulator started but its first line does not contain its URL "
                    f"(expected 'Coupa emulator listening on http://...', got {first.strip()!r})."
                )
            raise EmulatorStartError(msg)
        self.base_url = found.group("url").rstrip("/.,")
        return self.base_url

    def _exit_code(self) -> int | None:
        """The exit code once the process has exited (waits up to 2 s for it), else None."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            return None

    def _pump(self, stream: IO[bytes]) -> None:
        """Copy the output to the log (or drop it), signalling the first line or the end."""
        sink = self.log.open("ab") if self.log is not None else None
        try:
            for raw in iter(stream.readline, b""):
                if sink is not None:
                    sink.write(raw)
                    sink.flush()
                if not self._first_seen.is_set():
                    self.first_line = raw.decode("utf-8", errors="replace")
                    self._first_seen.set()
        finally:
            self._first_seen.set()  # end of output before a first line: the process exited
            stream.close()
            if sink is not None:
                sink.close()

    def stop(self) -> None:
        """Stop the emulator: SIGINT (how it expects to be stopped), then terminate, then kill."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            for step in ("interrupt", "terminate", "kill"):
                if step == "interrupt":
                    process.send_signal(signal.SIGINT)
                elif step == "terminate":
                    process.terminate()
                else:
                    process.kill()
                try:
                    process.wait(timeout=STOP_STEP_S)
                except subprocess.TimeoutExpired:
                    continue
                break
        if self._reader is not None:
            self._reader.join(timeout=STOP_STEP_S)
            self._reader = None

    def __enter__(self) -> EmulatorProcess:
        if self.process is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def launch(
    args: Sequence[str],
    *,
    command: Sequence[str] | None = None,
    log: Path | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = START_TIMEOUT_S,
) -> EmulatorProcess:
    """Start `coupa-emulator ARGS` and return it once it listens (`.base_url`, `.stop()`)."""
    emulator = EmulatorProcess(args, command=command, log=log, cwd=cwd, env=env)
    emulator.start(timeout)
    return emulator
