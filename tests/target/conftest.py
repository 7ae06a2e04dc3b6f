"""Helpers for running target-coupa against the emulator, in-process and as the CLI."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from coupa_api.errors import CoupaError
from tap_coupa.schemas.procurement import INVOICE
from target_coupa.target import TargetCoupa

REPO = Path(__file__).resolve().parents[2]
SECRET = "demo-secret"


def target_config(base_url: str, tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """A config for the emulator's default client, fast settings for tests."""
    config: dict[str, Any] = {
        "base_url": base_url,
        "client_id": "demo",
        "client_secret": SECRET,
        "token_settle_seconds": 0,
        "max_requests_per_second": 0,
        "max_retry_seconds": 60,
        "dead_letter_path": str(tmp_path / "dead-letter.jsonl"),
    }
    config.update(overrides)
    return config


def schema_message(stream: str = "invoices", schema: dict[str, Any] | None = None) -> dict:
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": schema or INVOICE,
        "key_properties": ["id"],
    }


def record_message(record: dict[str, Any], stream: str = "invoices") -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": record}


def state_message(value: Any) -> dict[str, Any]:
    return {"type": "STATE", "value": {"bookmarks": {"invoices": {"n": value}}}}


def singer_input(
    records: Iterable[dict[str, Any]], *, stream: str = "invoices", state_every: int = 0
) -> str:
    """SCHEMA, the records (a STATE after every `state_every`), a final STATE."""
    lines = [schema_message(stream)]
    count = 0
    for count, record in enumerate(records, start=1):
        lines.append(record_message(record, stream))
        if state_every and count % state_every == 0:
            lines.append(state_message(count))
    lines.append(state_message(f"end-{count}"))
    return "".join(json.dumps(m) + "\n" for m in lines)


def parse_messages(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


@dataclass
class TargetRun:
    """What one target run printed and whether it ended with a user-facing error."""

    stdout: str
    error: CoupaError | None = None
    target: TargetCoupa | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def states(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def counts(self) -> dict[str, int]:
        assert self.target is not None
        return {o.value: n for o, n in self.target.ledger.counts.items() if n}


def run_target(config: dict[str, Any], input_text: str) -> TargetRun:
    """Run the target in-process on `input_text`; a CoupaError is returned, not raised."""
    out = io.StringIO()
    target = TargetCoupa(config=config, parse_env_config=False)
    error: CoupaError | None = None
    with redirect_stdout(out):
        try:
            target.listen(io.StringIO(input_text))
        except CoupaError as exc:
            error = exc
    return TargetRun(out.getvalue(), error, target)


def write_invoices(
    config: dict[str, Any], records: Sequence[dict[str, Any]], **kwargs: Any
) -> TargetRun:
    return run_target(config, singer_input(records, **kwargs))


def run_cli(
    config: dict[str, Any],
    tmp_path: Path,
    input_text: str | None,
    *,
    args: Sequence[str] = (),
    timeout: float = 120,
    stdin: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `target-coupa --config config.json --input input.singer` as a user would.

    `input_text=None` uses the `input.singer` already in `tmp_path` (raw bytes, for tests of
    bad encodings); `stdin=True` pipes it in (`target-coupa --config c.json < input.singer`).
    """
    config_path = tmp_path / "target-config.json"
    config_path.write_text(json.dumps(config))
    input_path = tmp_path / "input.singer"
    if input_text is not None:
        input_path.write_text(input_text)
    exe = str(Path(sys.executable).parent / "target-coupa")
    command = [exe, "--config", str(config_path), *args]
    with input_path.open("rb") as stream:
        result = subprocess.run(  # noqa: S603 - our own console script
            command if stdin else [*command, "--input", str(input_path)],
            stdin=stream if stdin else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode("utf-8", "backslashreplace"),
        result.stderr.decode("utf-8", "backslashreplace"),
    )


def wait_until_served(control: Any, request: str, timeout: float = 60.0) -> None:
    """Return once the emulator is answering `request` ("POST /api/invoices"), e.g. held by a
    `slow` fault: the event a test about a write in flight waits on, rather than a sleep."""
    deadline = time.monotonic() + timeout
    while request not in control.stats()["serving"]:
        assert time.monotonic() < deadline, f"the emulator never received {request}"
        time.sleep(0.02)


def dead_letters(config: dict[str, Any]) -> list[dict[str, Any]]:
    path = Path(config["dead_letter_path"])
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def writes(control: Any) -> list[dict[str, Any]]:
    """The emulator's log of invoice writes (POST/PUT on /api/invoices...)."""
    return [
        r
        for r in control.requests_log()
        if r["method"] in {"POST", "PUT", "PATCH", "DELETE"} and r["path"].startswith("/api/")
    ]


@pytest.fixture
def config(coupa: Any, tmp_path: Path) -> dict[str, Any]:
    """Target config pointing at the freshly reset emulator."""
    return target_config(coupa.base_url, tmp_path)


# -- the emulator's ground truth ----------------------------------------------------------------
def invoices(control: Any) -> list[dict[str, Any]]:
    return list(control.records("invoices"))


def invoices_numbered(control: Any, number: str) -> list[dict[str, Any]]:
    return [i for i in invoices(control) if i.get("invoice-number") == number]


def template_invoice(control: Any, *, status: str | None = None) -> dict[str, Any]:
    """An invoice as the emulator stores it (tap shape), optionally of a given status."""
    for invoice in invoices(control):
        if status is None or invoice.get("status") == status:
            return copy.deepcopy(invoice)
    raise AssertionError(f"the emulator has no invoice with status {status!r}")


def new_invoice(control: Any, number: str, **overrides: Any) -> dict[str, Any]:
    """A record for an invoice Coupa does not have yet: an existing one, renumbered."""
    record = template_invoice(control)
    record["invoice-number"] = number
    for name, value in overrides.items():
        record[name.replace("_", "-")] = value
    return record


@pytest.fixture(scope="session")
def _second_emulator() -> Any:
    """Instance B for copies: the same seed, so the same reference data, but no invoices."""
    from coupa_emulator.config import EmulatorConfig  # noqa: PLC0415
    from coupa_emulator.server import start_in_thread  # noqa: PLC0415
    from tests.conftest import EMULATOR_SCALE, EMULATOR_SEED  # noqa: PLC0415

    running = start_in_thread(
        EmulatorConfig(
            seed=EMULATOR_SEED,
            scale=EMULATOR_SCALE,
            counts={"invoices": 0},
            settle_seconds=0,
        )
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def second_coupa(_second_emulator: Any) -> Any:
    """Instance B, reset (no invoices) before the test, once it serves nothing held."""
    from tests.conftest import drain  # noqa: PLC0415

    drain(_second_emulator)
    _second_emulator.control.reset(counts={"invoices": 0})
    return _second_emulator
