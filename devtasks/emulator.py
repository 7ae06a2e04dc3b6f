"""The Coupa emulator as the tasks use it: one subprocess per run, and its control API."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from coupa_emulator.launch import START_TIMEOUT_S, EmulatorProcess, EmulatorStartError
from devtasks.console import TaskError, bin_path, paragraph, tail
from devtasks.paths import ROOT, VENV

#: The emulator's built-in OAuth client (docs/emulator-control.md). Passed only through the
#: environment of the Meltano process; never printed.
DEMO_CLIENT_ID = "demo"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the local emulator's published demo client


class Emulator:
    """`coupa-emulator --port 0` from `.venv`, started by `coupa_emulator.launch`.

    Its output goes to `log`; a failure to start is a TaskError with the log's last lines.
    """

    def __init__(self, args: Sequence[str], log: Path) -> None:
        self.args = list(args)
        self.log = log
        self.base_url = ""
        self._process: EmulatorProcess | None = None

    def start(self, timeout: float = START_TIMEOUT_S) -> str:
        """Start the emulator and wait for its "listening on http://..." line."""
        executable = bin_path(VENV, "coupa-emulator")
        if not executable.exists():
            raise TaskError(
                paragraph(
                    f"{executable} does not exist, so the Coupa emulator cannot start. Run "
                    "`python3 tasks.py setup` to reinstall the project, and check that "
                    "pyproject.toml still declares the coupa-emulator script."
                )
            )
        process = EmulatorProcess(self.args, command=[str(executable)], log=self.log, cwd=ROOT)
        self._process = process
        try:
            self.base_url = process.start(timeout)
        except EmulatorStartError as exc:
            raise TaskError(paragraph(str(exc)) + self._log_tail()) from exc
        return self.base_url

    def _log_tail(self) -> str:
        """The end of the emulator's log, for error messages (demo secret masked)."""
        return f"\n\nLast lines of {self.log}:\n{tail(self.log, redact=[DEMO_CLIENT_SECRET])}"

    def stop(self) -> None:
        """Stop the emulator: SIGINT (how it expects to be stopped), then terminate, then kill."""
        process, self._process = self._process, None
        if process is not None:
            process.stop()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def control_post(base_url: str, route: str, body: object) -> None:
    """POST a JSON body to the emulator's control API (`/_emulator/<route>`)."""
    import urllib.error  # noqa: PLC0415 - only the emulator-driving commands need them
    import urllib.request  # noqa: PLC0415

    request = urllib.request.Request(  # noqa: S310 - the local emulator's http:// URL
        f"{base_url}/_emulator/{route}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise TaskError(paragraph(f"The emulator refused POST /_emulator/{route}: {exc}.")) from exc


def emulator_changes(base_url: str, count: int, ids_above: int = 0) -> None:
    """Edit `count` invoices and add `count` through the emulator's control API.

    The mutation waits for the run's first request, so its timestamps are those of the run.
    The new invoices get ids above `ids_above` (the database's highest), so every demo run's
    additions are new rows even though each run starts a fresh emulator with the same data.
    """
    body = {"after_requests": 0, "resource": "invoices", "update": count, "insert": count}
    control_post(base_url, "mutations", {**body, "ids_above": ids_above})
