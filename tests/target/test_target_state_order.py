"""STATE goes out from one place, in input order: an older STATE never follows a newer one.

The write pool emits each STATE (its lock held) once every record before it has its outcome.
singer-sdk's drains (every 5 minutes, at the end, on SIGTERM) would also write its latest STATE,
from the reading thread and without that lock, while workers emit newer ones. The target never
hands singer-sdk a STATE (its STATE handler, `handle_state`, does not call the SDK's), and its
`_write_state_message` writes nothing should the SDK hold one anyway. Here the SDK's drain runs
after every record (`_MAX_RECORD_AGE_IN_MINUTES = 0`) while 8 workers write against an emulator
that answers every request 30 ms late, so many writes are in flight at each drain.
"""

from __future__ import annotations

import io
import json
import threading
from contextlib import redirect_stdout
from typing import Any

from target_coupa.reading import Handler
from target_coupa.target import TargetCoupa
from tests.target.conftest import (
    new_invoice,
    record_message,
    schema_message,
    state_message,
)


class DrainingTarget(TargetCoupa):
    """TargetCoupa whose SDK drain runs after every record; counts drains and their STATEs."""

    _MAX_RECORD_AGE_IN_MINUTES = 0.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.drains_with_state_out = 0
        self.drain_offers = 0
        self._draining = False
        self._first_out = threading.Event()

    def _handle_max_record_age(self) -> None:
        self._draining = True
        try:
            if self._first_out.is_set():
                self.drains_with_state_out += 1
            super()._handle_max_record_age()
        finally:
            self._draining = False

    def handle_state(self, sdk: Handler, message_dict: dict[str, Any]) -> None:
        super().handle_state(sdk, message_dict)
        if not self._first_out.is_set():
            # drain only once a STATE is out: let the first one out before reading on
            assert self._first_out.wait(timeout=60), "the first STATE was never emitted"

    def _emit_due_state(self, state: dict[str, Any]) -> None:
        super()._emit_due_state(state)
        self._first_out.set()

    def _write_state_message(self, state: dict[str, Any]) -> None:
        if self._draining and threading.current_thread() is threading.main_thread():
            self.drain_offers += 1
        super()._write_state_message(state)


def _input(records: list[dict[str, Any]], every: int) -> str:
    lines = [schema_message()]
    for n, record in enumerate(records, start=1):
        lines.append(record_message(record))
        if n % every == 0:
            lines.append(state_message(n))
    lines.append(state_message(len(records) + 1))
    return "".join(json.dumps(m) + "\n" for m in lines)


def _run(target: TargetCoupa, text: str) -> list[int]:
    out = io.StringIO()
    with redirect_stdout(out):
        target.listen(io.StringIO(text))
    return [json.loads(line)["bookmarks"]["invoices"]["n"] for line in out.getvalue().splitlines()]


def test_states_are_monotonic_while_the_sdk_drains_during_concurrent_writes(coupa, config):
    control = coupa.control
    records = [new_invoice(control, f"T-ORDER-{n}") for n in range(90)]
    control.configure(latency_ms=30)
    target = DrainingTarget(config={**config, "max_concurrency": 8}, parse_env_config=False)

    emitted = _run(target, _input(records, every=3))

    assert target.ledger.counts["created"] == 90
    assert target.drains_with_state_out > 0  # the SDK drained after records, STATEs out
    assert target.drain_offers == 0  # and never held a STATE to write
    assert target._latest_state is None
    assert emitted == sorted(set(emitted))  # strictly increasing: never an older one after
    assert emitted[-1] == 91
    assert len(emitted) >= 2


def test_the_sdk_drain_never_writes_a_state_itself(coupa, config):
    """Even handed an older STATE than the last one written, the drain writes nothing."""
    control = coupa.control
    records = [new_invoice(control, f"T-DRAIN-{n}") for n in range(4)]
    target = TargetCoupa(config=config, parse_env_config=False)
    assert _run(target, _input(records, every=2))[-1] == 5

    target._latest_state = state_message(2)["value"]  # what a stale read of it would hand over
    out = io.StringIO()
    with redirect_stdout(out):
        target.drain_all()
        target.drain_all(is_endofpipe=True)
    assert out.getvalue() == ""
