"""STATE leaves the target as soon as the records before it are written, never earlier.

Read from the target's stdout while it runs (a real `target-coupa` process): each STATE must
appear while the target is still waiting for more input, and only once the invoices sent
before it are in Coupa (or in the dead-letter file).
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

from tests.target.conftest import (
    dead_letters,
    invoices_numbered,
    new_invoice,
    record_message,
    schema_message,
    state_message,
    wait_until_served,
)


class LiveTarget:
    """`target-coupa` as a subprocess fed message by message, its stdout read line by line."""

    def __init__(self, config: dict, tmp_path: Path) -> None:
        path = tmp_path / "live-config.json"
        path.write_text(json.dumps(config))
        exe = str(Path(sys.executable).parent / "target-coupa")
        self.proc = subprocess.Popen(  # noqa: S603 - our own console script
            [exe, "--config", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def send(self, *messages: dict) -> None:
        assert self.proc.stdin is not None
        for message in messages:
            self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def next_state(self, timeout: float = 60) -> dict:
        return json.loads(self.lines.get(timeout=timeout))

    def no_output_for(self, seconds: float) -> bool:
        try:
            line = self.lines.get(timeout=seconds)
        except queue.Empty:
            return True
        self.lines.put(line)
        return False

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        code = self.proc.wait(timeout=timeout)
        self.pump.join(timeout=5)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)
        self.pump.join(timeout=5)


def test_state_flows_as_soon_as_the_records_before_it_are_done(coupa, config, tmp_path):
    control = coupa.control
    live = LiveTarget(config, tmp_path)
    try:
        live.send(schema_message(), record_message(new_invoice(control, "T-STATE-1")))
        live.send(state_message(1))
        assert live.next_state() == state_message(1)["value"]
        # the STATE arrived mid-run, and the invoice before it was already in Coupa
        assert live.proc.poll() is None
        assert len(invoices_numbered(control, "T-STATE-1")) == 1

        # a slow write: the STATE behind it waits for it
        control.add_faults(
            [{"kind": "slow", "path": "/api/invoices", "method": "POST", "delay_s": 3.0}]
        )
        live.send(record_message(new_invoice(control, "T-STATE-2")), state_message(2))
        assert live.no_output_for(1.5)  # POST still in flight: no STATE yet
        assert live.next_state() == state_message(2)["value"]
        assert len(invoices_numbered(control, "T-STATE-2")) == 1

        # a rejected record is done once it is dead-lettered
        bad = new_invoice(control, "T-STATE-3", supplier={"name": "Nobody At All"})
        live.send(record_message(bad), state_message(3))
        assert live.next_state() == state_message(3)["value"]
        assert [d["key"]["invoice-number"] for d in dead_letters(config)] == ["T-STATE-3"]

        code, stderr = live.finish()
        assert code == 3  # one rejection, allow_failures off: ExitCode.REJECTED
        assert live.lines.empty()  # the last STATE is not repeated at the end
        assert "3 records received: 2 created" in stderr
    finally:
        if live.proc.poll() is None:
            live.kill()


def test_a_target_that_dies_never_acknowledged_the_record_in_flight(coupa, config, tmp_path):
    control = coupa.control
    live = LiveTarget(config, tmp_path)
    try:
        live.send(schema_message(), record_message(new_invoice(control, "T-DIE-1")))
        live.send(state_message(1))
        assert live.next_state() == state_message(1)["value"]
        control.add_faults(
            [{"kind": "slow", "path": "/api/invoices", "method": "GET", "delay_s": 10.0}]
        )
        live.send(record_message(new_invoice(control, "T-DIE-2")), state_message(2))
        wait_until_served(control, "GET /api/invoices")  # T-DIE-2's lookup, held 10 s
        live.kill()  # the pipeline dies while T-DIE-2 is being looked up
        assert live.lines.empty()  # STATE 2 was never emitted
    finally:
        if live.proc.poll() is None:
            live.kill()
