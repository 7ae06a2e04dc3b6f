"""coupa_emulator.launch: the one way tasks and benchmarks start an emulator subprocess."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from coupa_emulator.launch import EmulatorStartError, launch, module_command
from tests.conftest import fetch_token

ARGS = ["--port", "0", "--scale", "20", "--settle-seconds", "0"]


@pytest.mark.timeout(120)
def test_launch_reads_the_url_serves_and_stops(tmp_path: Path) -> None:
    log = tmp_path / "emulator.log"
    emulator = launch(ARGS, command=module_command(sys.executable), log=log, timeout=90)
    try:
        assert emulator.base_url.startswith("http://127.0.0.1:")
        assert fetch_token(emulator.base_url, scope="core.invoice.read")
        process = emulator.process
        assert process is not None
    finally:
        emulator.stop()
    assert process.poll() is not None, "stop() waits for the process to exit"
    assert log.read_text().startswith("Coupa emulator listening on http://127.0.0.1:")


@pytest.mark.timeout(120)
def test_an_emulator_that_cannot_start_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(EmulatorStartError, match=r"exited with code 2") as failed:
        launch(["--port", "not-a-port"], command=module_command(sys.executable), timeout=90)
    assert "Traceback" not in str(failed.value)
